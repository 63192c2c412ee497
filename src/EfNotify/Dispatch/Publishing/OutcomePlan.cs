using EfNotify.Outbox;

namespace EfNotify.Dispatch;

/// <summary>The next attempt of a row that failed transiently, or its dead letter once it is out of attempts.</summary>
internal sealed record RowRetry(long Id, int Count, int Attempts, DateTime NextAttemptAt, string Reason, bool DeadLetter);

/// <summary>The refused notifications of a row; <c>WholeRow</c> when none of them was delivered.</summary>
internal sealed record RowDeadLetters(OutboxMessage Row, IReadOnlyList<(string Item, string Reason)> Refused, bool WholeRow);

/// <summary>
/// What the outcome of a claim means for each of its rows, without I/O: delivered, released untouched, retried later
/// (<see cref="RetrySchedule"/>) or dead-lettered. Each row is judged on its own state, once all its notifications
/// (on several channels, so several lanes) have their answer. A finished row after a postponed one is recorded too: its
/// channels' earlier events all went before it (a lane stops at its first transient failure), so it overtakes nothing.
/// </summary>
internal sealed record OutcomePlan(List<long> Delivered, List<long> Released, RowRetry? Retry, List<RowDeadLetters> DeadLetters)
{
    public static OutcomePlan From(
        IReadOnlyList<OutboxMessage> rows, ClaimOutcome outcome, DateTime now, int maxAttempts, RetrySchedule schedule)
    {
        var plan = new OutcomePlan([], [], null, []);
        RowRetry? retry = null;
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            var state = outcome.States[r];
            if (outcome.Stopped is { } stop && r == stop.Row)
            {
                var attempts = row.Attempts + 1;
                retry = new RowRetry(row.Id, row.Count, attempts, now + schedule.Delay(attempts), stop.Reason, attempts >= maxAttempts);
            }
            else if (state.Pending > 0)
            {
                plan.Released.Add(row.Id); // not finished (a pause, a stop, a row postponed before it): no attempt is counted
            }
            else if (state.Held)
            {
                continue; // kept pending and unrecorded: a held event goes out when its window ends, and the row is recorded then
            }
            else if (state.Refused.Count == 0)
            {
                plan.Delivered.Add(row.Id);
            }
            else
            {
                plan.DeadLetters.Add(new RowDeadLetters(row, state.Refused, WholeRow: state.Delivered == 0));
            }
        }

        return plan with { Retry = retry };
    }
}
