using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Dispatch;

/// <summary>
/// Claims beside other instances: each claimed row is leased to this instance for <see cref="EfNotifyOptions.LeaseDuration"/>,
/// and its outcome is written only while this instance still holds the lease. Where no leader lock exists (databases
/// other than PostgreSQL and SQLite files, in-memory SQLite, a SQLite folder this process may not write to).
/// </summary>
internal sealed class LeasedClaims(string owner, EfNotifyOptions options, TimeProvider time) : IClaimStrategy
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <remarks>Held rows keep their lease until their held events are published, so no claim takes them meanwhile.</remarks>
    public async Task<IReadOnlyList<OutboxMessage>> ClaimAsync(DbContext db, IReadOnlyCollection<long> held, CancellationToken cancellationToken)
        => await OutboxStore.ClaimAsync(db, owner, time.GetUtcNow().UtcDateTime, options.LeaseDuration, options.ClaimBatchSize, [], cancellationToken)
            .ConfigureAwait(false);

    public Task AbandonAsync() => Task.CompletedTask;

    public Task DeliveredAsync(DbContext db, IReadOnlyCollection<long> ids, DateTime now) => OutboxStore.MarkDeliveredAsync(db, owner, ids, now, None);

    public Task ReleaseAsync(DbContext db, IReadOnlyCollection<long> ids) => OutboxStore.ReleaseAsync(db, owner, ids, None);

    public Task RetryLaterAsync(DbContext db, RowRetry retry)
        => OutboxStore.RetryLaterAsync(db, owner, retry.Id, retry.Attempts, retry.NextAttemptAt, retry.Reason, retry.DeadLetter, None);

    public Task DeadLetterAsync(DbContext db, RowDeadLetters deadLetters, DateTime now)
        => OutboxStore.DeadLetterAsync(db, owner, deadLetters.Row, deadLetters.Refused, deadLetters.WholeRow, now, None);
}
