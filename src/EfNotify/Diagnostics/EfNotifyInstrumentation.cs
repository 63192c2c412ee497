using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EfNotify.Diagnostics;

/// <summary>EfNotify's meter and instruments, one per service provider; the activity source is process-wide.</summary>
internal sealed class EfNotifyInstrumentation : IDisposable
{
    internal static readonly ActivitySource ActivitySource = new(EfNotifyDiagnostics.ActivitySourceName);

    private static readonly KeyValuePair<string, object?> Refused = new(EfNotifyDiagnostics.DeadLetterReasonTagName, "refused");
    private static readonly KeyValuePair<string, object?> AttemptsExhausted = new(EfNotifyDiagnostics.DeadLetterReasonTagName, "attempts_exhausted");

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly TimeProvider _time;
    private readonly OutboxMonitor _monitor;
    private readonly Counter<long> _captured;
    private readonly Counter<long> _published;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _paused;
    private readonly Histogram<double> _latency;

    public EfNotifyInstrumentation(OutboxMonitor monitor, TimeProvider time, IMeterFactory? meterFactory)
    {
        _time = time;
        _monitor = monitor;
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(new MeterOptions(EfNotifyDiagnostics.MeterName)) ?? new Meter(EfNotifyDiagnostics.MeterName);
        _captured = _meter.CreateCounter<long>(
            EfNotifyDiagnostics.CapturedCounterName, "{notification}", "Notifications written to the outbox by committed transactions.");
        _published = _meter.CreateCounter<long>(
            EfNotifyDiagnostics.PublishedCounterName, "{notification}", "Notifications the server accepted.");
        _retried = _meter.CreateCounter<long>(
            EfNotifyDiagnostics.RetriedCounterName, "{retry}", "Immediate retries of publish requests after transient failures.");
        _deadLettered = _meter.CreateCounter<long>(
            EfNotifyDiagnostics.DeadLetteredCounterName, "{notification}", "Notifications dead-lettered.");
        _paused = _meter.CreateCounter<long>(
            EfNotifyDiagnostics.PausedCounterName, "{refusal}", "Refusals of the application that paused publishing, at most one per back-off period.");
        _latency = _meter.CreateHistogram(
            EfNotifyDiagnostics.PublishLatencyHistogramName,
            "ms",
            "Time from the outbox row's creation to the server's acceptance, per notification.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000] });
        _meter.CreateObservableGauge(
            EfNotifyDiagnostics.BacklogGaugeName,
            () => monitor.Backlog is { } backlog ? [new Measurement<long>(backlog.PendingCount)] : Array.Empty<Measurement<long>>(),
            "{row}",
            "Pending outbox rows, as the dispatcher last counted them.");
        _meter.CreateObservableGauge(
            EfNotifyDiagnostics.OldestPendingAgeGaugeName,
            () => monitor.Backlog is { } backlog ? [new Measurement<double>(OldestAge(backlog).TotalSeconds)] : Array.Empty<Measurement<double>>(),
            "s",
            "Age of the oldest pending outbox row, as the dispatcher last found it.");
    }

    public void Captured(int count) => _captured.Add(count);

    public void Published(DateTime createdAt)
    {
        _published.Add(1);
        var now = _time.GetUtcNow().UtcDateTime;
        var latency = Math.Max(0, (now - DateTime.SpecifyKind(createdAt, DateTimeKind.Utc)).TotalMilliseconds);
        _latency.Record(latency);
        _monitor.History.Record(now, latency);
    }

    public void Retried() => _retried.Add(1);

    public void DeadLettered(int count, bool refused) => _deadLettered.Add(count, refused ? Refused : AttemptsExhausted);

    public void Paused(int? statusCode)
    {
        if (statusCode is { } code)
        {
            _paused.Add(1, new KeyValuePair<string, object?>(EfNotifyDiagnostics.PauseStatusCodeTagName, code));
        }
        else
        {
            _paused.Add(1);
        }
    }

    public static Activity? StartCapture() => ActivitySource.StartActivity(EfNotifyDiagnostics.CaptureActivityName);

    public static void CaptureWritten(Activity? activity, int count) => activity?.SetTag("efnotify.notifications.count", count);

    /// <summary>
    /// The span of one publish request, a root span linked to the traces that wrote its rows, with OpenTelemetry's
    /// messaging attributes (the destination only when the whole batch goes to one channel).
    /// </summary>
    public static Activity? StartPublish(int batchSize, string? channel, IEnumerable<ActivityLink>? links, string dispatcher)
    {
        var activity = ActivitySource.StartActivity(
            EfNotifyDiagnostics.PublishActivityName, ActivityKind.Producer, parentContext: default, tags: null, links: links);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "pusher");
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.operation.name", "publish");
            activity.SetTag("messaging.batch.message_count", batchSize);
            activity.SetTag("messaging.destination.name", channel);
            activity.SetTag("efnotify.dispatcher", dispatcher);
        }

        return activity;
    }

    public static void Published(Activity? activity, bool? transientFailure, string? reason)
    {
        if (activity is null)
        {
            return;
        }

        if (transientFailure is null)
        {
            activity.SetTag("efnotify.outcome", "delivered");
            return;
        }

        activity.SetTag("efnotify.outcome", transientFailure.Value ? "failed" : "refused");
        activity.SetStatus(ActivityStatusCode.Error, reason);
    }

    public static void Failed(Activity? activity, Exception exception)
    {
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity?.SetTag("error.type", exception.GetType().FullName);
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private TimeSpan OldestAge(OutboxBacklog backlog)
        => backlog.OldestPendingCreatedAt is { } oldest && _time.GetUtcNow().UtcDateTime > oldest ? _time.GetUtcNow().UtcDateTime - oldest : TimeSpan.Zero;
}
