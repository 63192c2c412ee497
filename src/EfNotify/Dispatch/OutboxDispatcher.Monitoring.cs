using System.Diagnostics;
using EfNotify.Diagnostics;
using EfNotify.Outbox;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Dispatch;

/// <summary>The dispatcher's reports to metrics, traces and the health check.</summary>
internal sealed partial class OutboxDispatcher<TContext>
{
    private EfNotifyInstrumentation? _instrumentation;
    private OutboxMonitor? _monitor;

    private EfNotifyInstrumentation Instrumentation => _instrumentation ??= _services.GetRequiredService<EfNotifyInstrumentation>();

    private OutboxMonitor Monitor => _monitor ??= _services.GetRequiredService<OutboxMonitor>();

    /// <summary>Counts the backlog when due and records that the loop completed an iteration.</summary>
    private async Task ReportIterationAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (Monitor.IsBacklogDue(now, _options.BacklogRefreshInterval))
        {
            Monitor.SetBacklog(await _loopContext.RunAsync((db, token) => OutboxQueries.GetBacklogAsync(db, now, token), cancellationToken).ConfigureAwait(false));
        }

        Monitor.IterationCompleted(now);
    }

    private void RecordPublished(List<OutboxMessage> rows, List<Item> chunk)
    {
        ResumeIfPaused();
        foreach (var item in chunk)
        {
            Instrumentation.Published(rows[item.Row].CreatedAt);
        }
    }

    private async Task<Failure?> PublishTracedAsync(
        INotificationTransport transport, List<OutboxMessage> rows, List<Item> chunk, CancellationToken stoppingToken)
    {
        using var activity = StartPublish(rows, chunk);
        var failure = await PublishAsync(transport, chunk, stoppingToken).ConfigureAwait(false);
        EfNotifyInstrumentation.Published(activity, failure?.IsTransient, failure?.Reason);
        return failure;
    }

    /// <summary>Links the publish span to the trace context each row kept of the transaction that wrote it.</summary>
    private Activity? StartPublish(List<OutboxMessage> rows, List<Item> chunk)
    {
        if (!EfNotifyInstrumentation.ActivitySource.HasListeners())
        {
            return null;
        }

        var links = new List<ActivityLink>();
        var channel = chunk[0].Event.Channel;
        for (var i = 0; i < chunk.Count; i++)
        {
            if (i == 0 || chunk[i].Row != chunk[i - 1].Row)
            {
                OutboxTrace.AddLink(rows[chunk[i].Row], links);
            }

            if (channel is not null && !string.Equals(channel, chunk[i].Event.Channel, StringComparison.Ordinal))
            {
                channel = null;
            }
        }

        return EfNotifyInstrumentation.StartPublish(chunk.Count, channel, links, _owner);
    }
}
