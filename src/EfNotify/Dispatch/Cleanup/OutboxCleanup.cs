using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfNotify.Dispatch;

/// <summary>
/// Deletes delivered rows past <see cref="EfNotifyOptions.DeliveredRetention"/>, in batches, once a minute (or as often
/// as the retention asks, at most once a second). Only where its writes do not fight the writers': on the leading
/// instance, or where instances claim under row leases, on the one that holds the cleanup's turn
/// (<see cref="OutboxStore.TryTakeCleanupTurnAsync"/>); never on a standby.
/// </summary>
internal sealed partial class OutboxCleanup<TContext>(
    IServiceProvider services, DispatcherRole<TContext> role, TimeProvider time, IOptions<EfNotifyOptions> options, ILogger<OutboxCleanup<TContext>> logger)
    : BackgroundService
    where TContext : DbContext
{
    private const int BatchSize = 1000;
    private readonly string _owner = $"cleanup/{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.DispatcherEnabled)
        {
            return;
        }

        // Deliveries are recorded apart from publishing, so a row delivered a moment ago may not be marked yet: at most once a second.
        var interval = TimeSpan.FromTicks(Math.Clamp(settings.DeliveredRetention.Ticks, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
        var schedule = RetrySchedule.From(settings);
        for (var failures = 0; !stoppingToken.IsCancellationRequested;)
        {
            var delay = interval;
            try
            {
                if (role.State != LeaderState.Standby)
                {
                    await CleanUpAsync(settings.DeliveredRetention, settings.LeaseDuration, stoppingToken).ConfigureAwait(false);
                }

                failures = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                delay = schedule.Delay(++failures);
                LogFailed(logger, exception, delay);
            }

            try
            {
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task CleanUpAsync(TimeSpan retention, TimeSpan lease, CancellationToken cancellationToken)
    {
        var slot = new ContextSlot<TContext>(services);
        await using var scope = slot.ConfigureAwait(false);
        var deleted = await slot.RunAsync(
                async (db, token) =>
                {
                    var now = time.GetUtcNow().UtcDateTime;
                    if (role.State == LeaderState.Exclusive)
                    {
                        return await OutboxStore.DeleteDeliveredAsync(db, now - retention, BatchSize, token).ConfigureAwait(false);
                    }

                    // Under row leases, the instance that leases the oldest delivered row cleans up; the others let it.
                    if (await OutboxStore.TryTakeCleanupTurnAsync(db, _owner, now, now - retention, lease, token).ConfigureAwait(false) is not { } turn)
                    {
                        return 0;
                    }

                    return await OutboxStore.DeleteDeliveredAsync(db, now - retention, BatchSize, token, turn).ConfigureAwait(false);
                },
                cancellationToken)
            .ConfigureAwait(false);
        if (deleted > 0)
        {
            LogCleanedUp(logger, deleted);
        }
    }

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Deleted {Count} delivered outbox rows past their retention")]
    private static partial void LogCleanedUp(ILogger logger, int count);

    [LoggerMessage(EventId = 16, Level = LogLevel.Error, Message = "Deleting delivered outbox rows failed; the cleanup tries again in {Delay}")]
    private static partial void LogFailed(ILogger logger, Exception exception, TimeSpan delay);
}
