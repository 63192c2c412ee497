using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Dispatch;

/// <summary>
/// How this instance takes rows and writes their outcome: alone, as the leader (<see cref="ExclusiveClaims{TContext}"/>),
/// or beside other instances under row leases (<see cref="LeasedClaims"/>). Outcome writes are never cancelled: what the
/// server accepted must not be published again.
/// </summary>
internal interface IClaimStrategy
{
    /// <summary>
    /// The oldest due pending rows, in id order, up to <see cref="EfNotifyOptions.ClaimBatchSize"/>, except the
    /// <paramref name="held"/> ones (rows whose events wait in the <see cref="CoalescingStage"/>).
    /// </summary>
    Task<IReadOnlyList<OutboxMessage>> ClaimAsync(DbContext db, IReadOnlyCollection<long> held, CancellationToken cancellationToken);

    /// <summary>Called when a claim was not published in full: anything read ahead must not overtake a row left for later.</summary>
    Task AbandonAsync();

    Task DeliveredAsync(DbContext db, IReadOnlyCollection<long> ids, DateTime now);

    Task ReleaseAsync(DbContext db, IReadOnlyCollection<long> ids);

    Task RetryLaterAsync(DbContext db, RowRetry retry);

    Task DeadLetterAsync(DbContext db, RowDeadLetters deadLetters, DateTime now);
}
