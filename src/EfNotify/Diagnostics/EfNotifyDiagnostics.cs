namespace EfNotify;

/// <summary>
/// The names under which EfNotify reports metrics and traces through <see cref="System.Diagnostics"/>, for OpenTelemetry
/// or any other listener: <c>.AddMeter(EfNotifyDiagnostics.MeterName)</c> and <c>.AddSource(EfNotifyDiagnostics.ActivitySourceName)</c>.
/// </summary>
/// <remarks>
/// The meter is created through the application's <see cref="System.Diagnostics.Metrics.IMeterFactory"/> when one is
/// registered (hosts register one), so its instruments are scoped to that service provider. The gauges report values the
/// dispatcher caches, refreshed every <see cref="EfNotifyOptions.BacklogRefreshInterval"/>: a scrape never queries the database,
/// and a process whose dispatcher is off reports no gauge values.
/// </remarks>
public static class EfNotifyDiagnostics
{
    /// <summary>The name of the meter: <c>EfNotify</c>.</summary>
    public const string MeterName = "EfNotify";

    /// <summary>The name of the activity source: <c>EfNotify</c>.</summary>
    public const string ActivitySourceName = "EfNotify";

    /// <summary>
    /// Counter of notifications written to the outbox by transactions that committed (<c>{notification}</c>). An ambient
    /// (System.Transactions) transaction counts when it completes as committed.
    /// </summary>
    public const string CapturedCounterName = "efnotify.notifications.captured";

    /// <summary>Counter of notifications the server accepted (<c>{notification}</c>).</summary>
    public const string PublishedCounterName = "efnotify.notifications.published";

    /// <summary>Counter of immediate retries of a publish request after a transient failure (<c>{retry}</c>).</summary>
    public const string RetriedCounterName = "efnotify.notifications.retried";

    /// <summary>
    /// Counter of notifications dead-lettered (<c>{notification}</c>), tagged <see cref="DeadLetterReasonTagName"/>:
    /// <c>refused</c> (the server or the size guard refused them) or <c>attempts_exhausted</c>.
    /// </summary>
    public const string DeadLetteredCounterName = "efnotify.notifications.dead_lettered";

    /// <summary>
    /// Histogram of the time from the outbox row's creation (in the committing transaction) to the server's acceptance,
    /// per notification, in milliseconds. A replayed dead letter counts from its original creation.
    /// </summary>
    public const string PublishLatencyHistogramName = "efnotify.publish.latency";

    /// <summary>Gauge of pending outbox rows, including rows waiting for a retry (<c>{row}</c>).</summary>
    public const string BacklogGaugeName = "efnotify.outbox.backlog";

    /// <summary>Gauge of the age of the oldest pending outbox row, in seconds; 0 when none is pending.</summary>
    public const string OldestPendingAgeGaugeName = "efnotify.outbox.oldest_pending_age";

    /// <summary>
    /// Counter of refusals that paused publishing (<c>{refusal}</c>): the server refused the application rather than its
    /// events (a wrong key or secret, an expired timestamp, an application disabled, over its quota or unknown), at most
    /// one per back-off period. Tagged <see cref="PauseStatusCodeTagName"/> when the server gave a status.
    /// </summary>
    public const string PausedCounterName = "efnotify.publish.paused";

    /// <summary>The tag of <see cref="PausedCounterName"/> with the refusal's status code: <c>efnotify.pause.status_code</c>.</summary>
    public const string PauseStatusCodeTagName = "efnotify.pause.status_code";

    /// <summary>The tag of <see cref="DeadLetteredCounterName"/> that says why: <c>efnotify.dead_letter.reason</c>.</summary>
    public const string DeadLetterReasonTagName = "efnotify.dead_letter.reason";

    /// <summary>
    /// The span around the serialization and insert of the outbox row, in the application's transaction, as a child of the
    /// current activity. Tag: <c>efnotify.notifications.count</c>.
    /// </summary>
    public const string CaptureActivityName = "EfNotify.Capture";

    /// <summary>
    /// The span of one publish request (a batch, with its immediate retries as <c>retry</c> events). Tags:
    /// <c>messaging.batch.message_count</c>, <c>efnotify.outcome</c> (<c>delivered</c>, <c>refused</c> or <c>failed</c>)
    /// and <c>efnotify.dispatcher</c> (the dispatcher instance).
    /// </summary>
    public const string PublishActivityName = "EfNotify.Publish";
}
