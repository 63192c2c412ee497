using EfNotify.Diagnostics;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>
/// Writes the outcome of a claim (<see cref="OutcomePlan"/>) through the claiming strategy that took the rows: a leader
/// hands its deliveries to the <see cref="DeliveryRecorder"/>, an instance under leases writes them at once.
/// </summary>
internal sealed partial class OutcomeRecorder(
    RetrySchedule schedule, EfNotifyOptions options, TimeProvider time, EfNotifyInstrumentation instrumentation, ILogger logger)
{
    public async Task RecordAsync(DbContext db, IClaimStrategy claims, IReadOnlyList<OutboxMessage> rows, ClaimOutcome outcome)
    {
        // Recorded even when the host is stopping: what the server accepted must not be published again.
        var now = time.GetUtcNow().UtcDateTime;
        var plan = OutcomePlan.From(rows, outcome, now, options.MaxAttempts, schedule);
        foreach (var dead in plan.DeadLetters)
        {
            foreach (var (_, reason) in dead.Refused)
            {
                LogDeadLettered(logger, dead.Row.Id, 1, reason);
                instrumentation.DeadLettered(1, refused: true);
            }

            await claims.DeadLetterAsync(db, dead, now).ConfigureAwait(false);
        }

        if (plan.Retry is { } retry)
        {
            await claims.RetryLaterAsync(db, retry).ConfigureAwait(false);
            if (retry.DeadLetter)
            {
                LogDeadLettered(logger, retry.Id, retry.Count, $"out of attempts ({retry.Attempts}): {retry.Reason}");
                instrumentation.DeadLettered(retry.Count, refused: false);
            }
            else
            {
                LogBackoff(logger, retry.Id, retry.Attempts, retry.NextAttemptAt, retry.Reason);
            }
        }

        await claims.DeliveredAsync(db, plan.Delivered, now).ConfigureAwait(false);
        await claims.ReleaseAsync(db, plan.Released).ConfigureAwait(false);
        LogRecorded(logger, plan.Delivered.Count, plan.Released.Count + (plan.Retry is null ? 0 : 1));
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Outbox row {Id} failed (attempt {Attempts}); next attempt at {Next:O}: {Reason}")]
    private static partial void LogBackoff(ILogger logger, long id, int attempts, DateTime next, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Dead-lettered {Count} notification(s) of outbox row {Id}: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, long id, int count, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "{Delivered} outbox rows delivered, {Postponed} postponed")]
    private static partial void LogRecorded(ILogger logger, int delivered, int postponed);
}
