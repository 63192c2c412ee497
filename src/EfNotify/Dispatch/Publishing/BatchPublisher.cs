using System.Diagnostics;
using EfNotify.Diagnostics;
using EfNotify.Outbox;
using Polly;

namespace EfNotify.Dispatch;

/// <summary>
/// Sends one batch of events in one request through the publish pipeline (<see cref="DispatchPipelines.Publish"/>),
/// traced, and turns its failure into a <see cref="PublishFailure"/>. It keeps no state between requests, so several
/// may be in flight at once.
/// </summary>
internal sealed class BatchPublisher(
    INotificationTransport transport, ResiliencePipeline pipeline, EfNotifyInstrumentation instrumentation, PauseGate pause, string owner)
{
    public int MaxBatchSize => Math.Max(1, transport.MaxBatchSize);

    public int MaxEventDataBytes => transport.MaxEventDataBytes;

    /// <returns><see langword="null"/> when the server accepted the batch.</returns>
    public async Task<PublishFailure?> PublishAsync(IReadOnlyList<OutboxMessage> rows, IReadOnlyList<PlannedEvent> batch, CancellationToken stoppingToken)
    {
        using var activity = StartActivity(rows, batch);
        var failure = await SendAsync(batch, stoppingToken).ConfigureAwait(false);
        EfNotifyInstrumentation.Published(activity, failure?.IsTransient, failure?.Reason);
        if (failure is null)
        {
            pause.Accepted();
            foreach (var planned in batch)
            {
                instrumentation.Published(rows[planned.Row].CreatedAt);
            }
        }

        return failure;
    }

    private async Task<PublishFailure?> SendAsync(IReadOnlyList<PlannedEvent> batch, CancellationToken stoppingToken)
    {
        var events = new OutgoingEvent[batch.Count];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = batch[i].Event;
        }

        // A stop of the host only ends the waits for a retry. A request in flight is not cancelled: its outcome is
        // recorded, so nothing is sent twice. Nor is a first attempt not sent yet: its lane began the batch's rows
        // (ClaimRun.NextAsync), so other lanes may already carry their other notifications, and a row left half
        // published would be published again in full.
        using var retries = stoppingToken.CanBeCanceled ? new RetryStop(stoppingToken) : null;
        try
        {
            await pipeline.ExecuteAsync(
                static async (state, _) =>
                {
                    state.retries?.Arm();
                    await state.transport.PublishAsync(state.events, CancellationToken.None).ConfigureAwait(false);
                },
                (transport, events, retries),
                retries?.Token ?? CancellationToken.None).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return FailureClassifier.Stopped;
        }
        catch (Exception exception) when (FailureClassifier.Classify(exception) is not null)
        {
            return FailureClassifier.Classify(exception);
        }
    }

    /// <summary>The token the retries of one request wait with: cancelled by a stop of the host once the first attempt has begun, never before.</summary>
    private sealed class RetryStop(CancellationToken stopping) : IDisposable
    {
        private readonly CancellationTokenSource _source = new();
        private CancellationTokenRegistration _registration;
        private bool _armed;

        public CancellationToken Token => _source.Token;

        public void Arm()
        {
            if (!_armed)
            {
                _armed = true;
                _registration = stopping.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), _source);
            }
        }

        public void Dispose()
        {
            _registration.Dispose();
            _source.Dispose();
        }
    }

    /// <summary>Links the publish span to the trace context each row kept of the transaction that wrote it.</summary>
    private Activity? StartActivity(IReadOnlyList<OutboxMessage> rows, IReadOnlyList<PlannedEvent> batch)
    {
        if (!EfNotifyInstrumentation.ActivitySource.HasListeners())
        {
            return null;
        }

        var links = new List<ActivityLink>();
        var channel = batch[0].Event.Channel;
        for (var i = 0; i < batch.Count; i++)
        {
            if (i == 0 || batch[i].Row != batch[i - 1].Row)
            {
                OutboxTrace.AddLink(rows[batch[i].Row], links);
            }

            if (channel is not null && !string.Equals(channel, batch[i].Event.Channel, StringComparison.Ordinal))
            {
                channel = null;
            }
        }

        return EfNotifyInstrumentation.StartPublish(batch.Count, channel, links, owner);
    }
}
