using Microsoft.EntityFrameworkCore;

namespace EfNotify.Outbox;

/// <summary>Queries of the outbox that operators and monitoring need; the dispatcher's own live in OutboxStore.</summary>
internal static class OutboxQueries
{
    // Keeps IN lists well below the parameter limits of every provider (SQLite: 32,766; SQL Server: 2,100).
    private const int ReplayChunk = 500;

    public static async Task<OutboxBacklog> GetBacklogAsync(DbContext db, DateTime now, CancellationToken cancellationToken)
    {
        var set = db.Set<OutboxMessage>().AsNoTracking();
        var pending = await set.Where(m => m.Status == OutboxStatus.Pending).LongCountAsync(cancellationToken).ConfigureAwait(false);
        DateTime? oldest = null;
        if (pending > 0)
        {
            // Ids follow insertion order, so the lowest pending id is the oldest row, found through the key.
            oldest = await set.Where(m => m.Status == OutboxStatus.Pending)
                .OrderBy(m => m.Id)
                .Select(m => (DateTime?)m.CreatedAt)
                .FirstOrDefaultAsync(cancellationToken)
                .ConfigureAwait(false);
        }

        var dead = await set.Where(m => m.Status == OutboxStatus.DeadLettered).LongCountAsync(cancellationToken).ConfigureAwait(false);
        return new OutboxBacklog(pending, oldest is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null, dead, now);
    }

    public static Task<List<OutboxMessage>> DeadLettersAsync(DbContext db, int take, long? afterId, CancellationToken cancellationToken)
    {
        var query = db.Set<OutboxMessage>().AsNoTracking().Where(m => m.Status == OutboxStatus.DeadLettered);
        if (afterId is { } after)
        {
            query = query.Where(m => m.Id > after);
        }

        return query.OrderBy(m => m.Id).Take(take).ToListAsync(cancellationToken);
    }

    public static async Task<int> ReplayAsync(DbContext db, IReadOnlyList<long> ids, DateTime now, CancellationToken cancellationToken)
    {
        var total = 0;
        for (var start = 0; start < ids.Count; start += ReplayChunk)
        {
            var chunk = ids.Skip(start).Take(ReplayChunk).ToList();
            total += await Replayable(db).Where(m => chunk.Contains(m.Id)).ExecuteUpdateAsync(s => Replay(s, now), cancellationToken).ConfigureAwait(false);
        }

        return total;
    }

    public static Task<int> ReplayAllAsync(DbContext db, DateTime now, CancellationToken cancellationToken)
        => Replayable(db).ExecuteUpdateAsync(s => Replay(s, now), cancellationToken);

    private static IQueryable<OutboxMessage> Replayable(DbContext db)
        => db.Set<OutboxMessage>().Where(m => m.Status == OutboxStatus.DeadLettered);

    private static void Replay(Microsoft.EntityFrameworkCore.Query.UpdateSettersBuilder<OutboxMessage> s, DateTime now)
        => s.SetProperty(m => m.Status, OutboxStatus.Pending)
            .SetProperty(m => m.Attempts, 0)
            .SetProperty(m => m.NextAttemptAt, now)
            .SetProperty(m => m.LockedBy, (string?)null)
            .SetProperty(m => m.LockedUntil, (DateTime?)null);
}
