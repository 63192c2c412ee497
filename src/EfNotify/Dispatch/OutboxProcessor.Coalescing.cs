using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Dispatch;

/// <summary>The dispatcher's side of the <see cref="CoalescingStage"/>: publishing what is due, recording what was superseded.</summary>
internal sealed partial class OutboxProcessor<TContext>
{
    /// <summary>How long the loop may wait for a commit: the polling interval, or less when a held event is due sooner.</summary>
    public TimeSpan NextWait(TimeSpan pollingInterval)
    {
        if (_coalescing.NextDue() is not { } due)
        {
            return pollingInterval;
        }

        var until = due - _time.GetUtcNow();
        return until < pollingInterval ? TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, until.Ticks)) : pollingInterval;
    }

    /// <summary>Publishes the held events whose window ended and records their rows.</summary>
    /// <returns><see langword="false"/> when they did not all go out (a pause, a retry, a stop): the claim waits.</returns>
    private async Task<bool> PublishDueAsync(DbContext db, IClaimStrategy claims, CancellationToken cancellationToken)
    {
        var due = _coalescing.TakeDue();
        if (due.Rows.Count == 0)
        {
            return true;
        }

        var outcome = await _publication.PublishDueAsync(due, cancellationToken).ConfigureAwait(false);
        await _outcomes.RecordAsync(db, claims, due.Rows, outcome).ConfigureAwait(false);
        _coalescing.Settle(due.Rows, outcome);
        if (outcome.Complete)
        {
            return true;
        }

        await claims.AbandonAsync().ConfigureAwait(false); // rows left for later are claimed again, in order
        return false;
    }

    /// <summary>
    /// After a claim's outcome: held rows keep their state, and rows of earlier claims whose held events were all
    /// superseded are recorded now, as delivered (their refused notifications, if any, as dead letters).
    /// </summary>
    private async Task SettleCoalescingAsync(DbContext db, IClaimStrategy claims, IReadOnlyList<OutboxMessage> rows, ClaimOutcome outcome)
    {
        _coalescing.Settle(rows, outcome);
        var delivered = new List<long>();
        var now = _time.GetUtcNow().UtcDateTime;
        foreach (var (row, state) in _coalescing.TakeSuperseded())
        {
            if (state is { Refused.Count: > 0 })
            {
                await claims.DeadLetterAsync(db, new RowDeadLetters(row, state.Refused, WholeRow: false), now).ConfigureAwait(false);
            }
            else
            {
                delivered.Add(row.Id);
            }
        }

        if (delivered.Count > 0)
        {
            await claims.DeliveredAsync(db, delivered, now).ConfigureAwait(false);
        }
    }
}
