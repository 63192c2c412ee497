using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Dispatch;

/// <summary>The dispatcher's queries on the outbox table, through the application's own DbContext.</summary>
internal static class OutboxStore
{
    /// <summary>
    /// Takes the oldest pending rows. Rows are taken in id order and the claim stops at the first row still waiting for
    /// its next attempt, so a row in backoff is never overtaken by later notifications (per-channel order).
    /// <para>
    /// <c>owner</c> is the instance claiming under row leases, or <see langword="null"/> when it leads
    /// (<see cref="DispatcherLeadership"/>): it is then the only one claiming, so the claim is a plain read, leases of
    /// others are stale, and the <c>excluded</c> rows (published but not yet recorded as delivered) are skipped, as are
    /// the rows up to <c>after</c> when the leader continues from its previous claim.
    /// </para>
    /// </summary>
    public static async Task<List<OutboxMessage>> ClaimAsync(
        DbContext db, string? owner, DateTime now, TimeSpan lease, int batchSize, IReadOnlyCollection<long> excluded, CancellationToken cancellationToken,
        long? after = null)
    {
        var exclusive = owner is null;
        after = exclusive ? after : null;
        var candidates = exclusive && LeaderCommands.For(db) is { } commands
            ? await commands.ClaimAsync(db, batchSize, excluded, after, cancellationToken).ConfigureAwait(false)
            : await PendingQuery(db, now, exclusive, batchSize, exclusive ? excluded : [], after).ToListAsync(cancellationToken).ConfigureAwait(false);

        var due = candidates.TakeWhile(m => m.NextAttemptAt <= now).ToList();
        if (due.Count == 0 || exclusive)
        {
            return due;
        }

        var set = db.Set<OutboxMessage>();
        var ids = due.Select(m => m.Id).ToList();
        var until = now + lease;
        var claimed = await set
            .Where(m => ids.Contains(m.Id) && m.Status == OutboxStatus.Pending && (m.LockedUntil == null || m.LockedUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.LockedBy, owner).SetProperty(m => m.LockedUntil, until), cancellationToken)
            .ConfigureAwait(false);

        if (claimed == due.Count)
        {
            return due;
        }

        // Another instance took some of them between the two statements: keep the ones that are ours, in order.
        var ours = await set.AsNoTracking()
            .Where(m => ids.Contains(m.Id) && m.LockedBy == owner && m.LockedUntil == until)
            .Select(m => m.Id)
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        var ourIds = ours.ToHashSet();
        return due.Where(m => ourIds.Contains(m.Id)).ToList();
    }

    /// <summary>
    /// The claim's SELECT through LINQ: the oldest pending rows not leased by another instance (served by the (Status, Id)
    /// index). A leader on SQLite or PostgreSQL runs <see cref="LeaderCommands.ClaimSql"/> instead.
    /// </summary>
    private static IQueryable<OutboxMessage> PendingQuery(
        DbContext db, DateTime now, bool exclusive, int batchSize, IReadOnlyCollection<long>? excluded = null, long? after = null)
    {
        var pending = db.Set<OutboxMessage>().AsNoTracking().Where(m => m.Status == OutboxStatus.Pending);
        if (after is { } last)
        {
            pending = pending.Where(m => m.Id > last);
        }

        pending = exclusive
            ? excluded is { Count: > 0 } ? pending.Where(m => !excluded.Contains(m.Id)) : pending
            : pending.Where(m => m.LockedUntil == null || m.LockedUntil < now);
        // Only what publishing needs: the status, lease, error and delivery columns are never read from a claimed row.
        var claimed = pending.OrderBy(m => m.Id).Take(batchSize);
        return OutboxTrace.IsMapped(db.Model.FindEntityType(typeof(OutboxMessage))!)
            ? claimed.Select(m => new OutboxMessage
            {
                Id = m.Id, CreatedAt = m.CreatedAt, Payload = m.Payload, Count = m.Count, Attempts = m.Attempts, NextAttemptAt = m.NextAttemptAt,
                TraceParent = m.TraceParent, TraceState = m.TraceState,
            })
            : claimed.Select(m => new OutboxMessage
            {
                Id = m.Id, CreatedAt = m.CreatedAt, Payload = m.Payload, Count = m.Count, Attempts = m.Attempts, NextAttemptAt = m.NextAttemptAt,
            });
    }

    /// <summary>Records rows as accepted by the server; <c>owner</c> is <see langword="null"/> for the leader, which takes no leases.</summary>
    public static Task<int> MarkDeliveredAsync(DbContext db, string? owner, IReadOnlyCollection<long> ids, DateTime now, CancellationToken cancellationToken)
        => ids.Count == 0
            ? Task.FromResult(0)
            : owner is null && LeaderCommands.For(db) is { } commands
            ? commands.MarkDeliveredAsync(db, ids, now, cancellationToken)
            : Held(db, owner, ids)
                .ExecuteUpdateAsync(
                    s => s.SetProperty(m => m.Status, OutboxStatus.Delivered)
                        .SetProperty(m => m.DeliveredAt, now)
                        .SetProperty(m => m.LockedBy, (string?)null)
                        .SetProperty(m => m.LockedUntil, (DateTime?)null),
                    cancellationToken);

    /// <summary>Ends the leases of rows left unpublished; the leader took none.</summary>
    public static Task<int> ReleaseAsync(DbContext db, string? owner, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
        => ids.Count == 0 || owner is null
            ? Task.FromResult(0)
            : Held(db, owner, ids)
                .ExecuteUpdateAsync(
                    s => s.SetProperty(m => m.LockedBy, (string?)null).SetProperty(m => m.LockedUntil, (DateTime?)null),
                    cancellationToken);

    public static Task<int> RetryLaterAsync(
        DbContext db, string? owner, long id, int attempts, DateTime nextAttemptAt, string reason, bool deadLetter, CancellationToken cancellationToken)
        => Held(db, owner, [id])
            .ExecuteUpdateAsync(
                s => s.SetProperty(m => m.Attempts, attempts)
                    .SetProperty(m => m.NextAttemptAt, nextAttemptAt)
                    .SetProperty(m => m.LastError, Truncate(reason))
                    .SetProperty(m => m.Status, deadLetter ? OutboxStatus.DeadLettered : OutboxStatus.Pending)
                    .SetProperty(m => m.LockedBy, (string?)null)
                    .SetProperty(m => m.LockedUntil, (DateTime?)null),
                cancellationToken);

    /// <summary>Dead-letters the refused notifications of a row; the row itself is delivered or dead-lettered as a whole.</summary>
    public static async Task DeadLetterAsync(
        DbContext db, string? owner, OutboxMessage row, IReadOnlyList<(string Item, string Reason)> refused, bool wholeRow, DateTime now,
        CancellationToken cancellationToken)
    {
        if (wholeRow)
        {
            await RetryLaterAsync(db, owner, row.Id, row.Attempts + 1, now, refused[0].Reason, deadLetter: true, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The dead letters and the row's delivery commit together: a crash in between must not publish the row again.
        await db.Database.CreateExecutionStrategy().ExecuteAsync(
            async token =>
            {
                db.ChangeTracker.Clear();
                var transaction = await db.Database.BeginTransactionAsync(token).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    foreach (var (item, reason) in refused)
                    {
                        db.Add(new OutboxMessage
                        {
                            CreatedAt = row.CreatedAt,
                            NextAttemptAt = now,
                            Payload = item,
                            Count = 1,
                            Status = OutboxStatus.DeadLettered,
                            Attempts = 1,
                            LastError = Truncate(reason),
                            TraceParent = row.TraceParent,
                            TraceState = row.TraceState,
                        });
                    }

                    await db.SaveChangesAsync(token).ConfigureAwait(false);
                    await MarkDeliveredAsync(db, owner, [row.Id], now, token).ConfigureAwait(false);
                    await transaction.CommitAsync(token).ConfigureAwait(false);
                }
            },
            cancellationToken).ConfigureAwait(false);
        db.ChangeTracker.Clear();
    }

    /// <summary>Deletes delivered rows older than <paramref name="cutoff"/>, in batches; the cleanup's turn row (<paramref name="turn"/>) goes last.</summary>
    public static async Task<int> DeleteDeliveredAsync(DbContext db, DateTime cutoff, int batchSize, CancellationToken cancellationToken, long? turn = null)
    {
        var keep = turn ?? 0;
        var total = 0;
        while (true)
        {
            var deleted = await db.Set<OutboxMessage>()
                .Where(m => m.Status == OutboxStatus.Delivered && m.DeliveredAt < cutoff && m.Id != keep)
                .OrderBy(m => m.Id)
                .Take(batchSize)
                .ExecuteDeleteAsync(cancellationToken)
                .ConfigureAwait(false);
            total += deleted;
            if (deleted < batchSize)
            {
                break;
            }
        }

        return turn is null
            ? total
            : total + await db.Set<OutboxMessage>().Where(m => m.Id == keep).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Where instances claim under row leases, lets one cleanup run at a time: the cleanup that leases the oldest delivered
    /// row past <paramref name="cutoff"/> has the turn, until that row is deleted (it goes last) or its lease runs out.
    /// </summary>
    /// <returns>The id of the turn row, or <see langword="null"/> when another instance cleans up or nothing is due.</returns>
    public static async Task<long?> TryTakeCleanupTurnAsync(
        DbContext db, string owner, DateTime now, DateTime cutoff, TimeSpan lease, CancellationToken cancellationToken)
    {
        var set = db.Set<OutboxMessage>();
        var oldest = await set.AsNoTracking()
            .Where(m => m.Status == OutboxStatus.Delivered && m.DeliveredAt < cutoff)
            .OrderBy(m => m.Id)
            .Select(m => (long?)m.Id)
            .FirstOrDefaultAsync(cancellationToken)
            .ConfigureAwait(false);
        if (oldest is not { } id)
        {
            return null;
        }

        var until = now + lease;
        var taken = await set
            .Where(m => m.Id == id && (m.LockedUntil == null || m.LockedUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.LockedBy, owner).SetProperty(m => m.LockedUntil, until), cancellationToken)
            .ConfigureAwait(false);
        return taken == 1 ? id : null;
    }

    /// <summary>The given rows, as long as <paramref name="owner"/> still holds their lease (any owner for the leader).</summary>
    private static IQueryable<OutboxMessage> Held(DbContext db, string? owner, IReadOnlyCollection<long> ids)
    {
        var rows = db.Set<OutboxMessage>().Where(m => ids.Contains(m.Id));
        return owner is null ? rows : rows.Where(m => m.LockedBy == owner);
    }

    private static string Truncate(string reason) => reason.Length <= 2000 ? reason : reason[..2000];
}
