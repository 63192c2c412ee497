using EfNotify.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.Registry;

namespace EfNotify.Dispatch;

/// <summary>
/// Publishes committed outbox rows: woken right after a commit, polling as a fallback. Each pass
/// (<see cref="OutboxProcessor{TContext}"/>) leads or stands by, claims (<see cref="IClaimStrategy"/>), publishes in
/// batches the transport accepts (<see cref="ClaimPublication"/>) and records the outcome (<see cref="OutcomeRecorder"/>).
/// Transient failures are retried at once (the <see cref="EfNotifyResiliencePipelines.Publish"/> pipeline) and then later
/// with a persisted backoff; permanent refusals are dead-lettered; refusals of the application pause publishing
/// (<see cref="PauseGate"/>). Delivered rows are deleted by <see cref="OutboxCleanup{TContext}"/>.
/// </summary>
internal sealed partial class OutboxDispatcher<TContext>(
    IServiceProvider services, OutboxSignal signal, DispatcherRole<TContext> role, TimeProvider time, IOptions<EfNotifyOptions> options,
    ILogger<OutboxDispatcher<TContext>> logger) : BackgroundService
    where TContext : DbContext
{
    private readonly EfNotifyOptions _options = options.Value;
    private readonly RetrySchedule _schedule = RetrySchedule.From(options.Value);

    internal string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.DispatcherEnabled)
        {
            await SignalOnlyAsync(stoppingToken).ConfigureAwait(false);
            return;
        }

        var transport = services.GetService<INotificationTransport>() ?? throw new InvalidOperationException(
            "EfNotify: no transport is registered, so notifications cannot be published. Call services.AddEfNotify<TContext>().AddPusher(...).");
        var monitor = services.GetRequiredService<OutboxMonitor>();
        var parts = new DispatchParts(_options, time, signal, monitor, services.GetRequiredService<EfNotifyInstrumentation>(), logger);
        var pipeline = services.GetRequiredService<ResiliencePipelineProvider<string>>().GetPipeline(DispatchPipelines.Publish);
        var processor = new OutboxProcessor<TContext>(services, parts, transport, pipeline, role, Owner);
        await using (processor.ConfigureAwait(false))
        {
            LogStarted(logger, typeof(TContext).Name, Owner);
            monitor.DispatcherStarted(time.GetUtcNow().UtcDateTime);
            await RunAsync(processor, stoppingToken).ConfigureAwait(false);
            monitor.DispatcherStopped();
        }
    }

    /// <summary>Wait, process, back off.</summary>
    private async Task RunAsync(OutboxProcessor<TContext> processor, CancellationToken stoppingToken)
    {
        for (var failures = 0; !stoppingToken.IsCancellationRequested;)
        {
            try
            {
                var result = await processor.RunAsync(stoppingToken).ConfigureAwait(false);
                failures = 0;
                if (result == PassResult.More)
                {
                    continue; // more rows are waiting
                }

                await processor.ReleaseContextsAsync().ConfigureAwait(false);
                await (result == PassResult.Paused
                    ? processor.Pause.WaitAsync(stoppingToken) // a commit does not cut a pause short
                    : signal.WaitAsync(processor.NextWait(_options.PollingInterval), time, stoppingToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                // The database or the transport failed outside a publish: log, back off, go on.
                await processor.ReleaseContextsAsync().ConfigureAwait(false);
                if (!await BackOffAsync(exception, ++failures, stoppingToken).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
    }

    /// <summary>A process that only writes: it signals the leader after its commits until the host stops.</summary>
    private async Task SignalOnlyAsync(CancellationToken stoppingToken)
    {
        var leadership = new DispatcherLeadership(time, signal, _options.PollingInterval, logger);
        await using var leadershipScope = leadership.ConfigureAwait(false);
        var context = new ContextSlot<TContext>(services);
        await using var contextScope = context.ConfigureAwait(false);
        for (var failures = 1; !stoppingToken.IsCancellationRequested; failures++)
        {
            try
            {
                await context.RunAsync(async (db, token) => { await leadership.ConnectAsync(db, token).ConfigureAwait(false); return true; }, stoppingToken)
                    .ConfigureAwait(false);
                await context.ReleaseAsync().ConfigureAwait(false);
                await Task.Delay(Timeout.InfiniteTimeSpan, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                if (!await BackOffAsync(exception, failures, stoppingToken).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Logs a failure of the loop and waits the schedule's delay. Not a Polly pipeline: the loop goes on after any
    /// failure for as long as the host runs, which no bounded retry expresses; the delays are the schedule's all the same.
    /// </summary>
    /// <returns><see langword="false"/> when the host stopped meanwhile.</returns>
    private async Task<bool> BackOffAsync(Exception exception, int failures, CancellationToken stoppingToken)
    {
        var delay = _schedule.Delay(failures);
        LogLoopFailed(logger, exception, delay);
        try
        {
            await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "EfNotify dispatcher for {Context} started as {Owner}")]
    private static partial void LogStarted(ILogger logger, string context, string owner);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "The EfNotify dispatcher loop failed; it resumes in {Delay}")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception, TimeSpan delay);
}
