using System.ComponentModel.DataAnnotations;

namespace EfNotify;

/// <summary>Options of the outbox dispatcher. Bound from the <c>EfNotify</c> configuration section when configuration is given.</summary>
public sealed class EfNotifyOptions
{
    /// <summary>The default configuration section: <c>EfNotify</c>.</summary>
    public const string SectionName = "EfNotify";

    /// <summary>Whether this process runs the dispatcher. Default: <see langword="true"/>. Turn it off in processes that only write.</summary>
    public bool DispatcherEnabled { get; set; } = true;

    /// <summary>
    /// How many outbox rows one claim takes. Default: 500. A claim is read in one query and recorded in few writes, so
    /// larger claims drain a backlog faster; while the outbox keeps up, a claim holds only the rows pending then.
    /// </summary>
    [Range(1, 10_000)]
    public int ClaimBatchSize { get; set; } = 500;

    /// <summary>
    /// How many publish requests the dispatcher has in flight at once (1 to 64). Each channel keeps to one of that many
    /// lanes whose requests go one after the other, so the events of a channel are published in order; a postponed
    /// event holds back the later events of its lane. A request carries at most 10 events, so this bounds what one
    /// round trip to the server carries: 80 events at the default. Worth raising when the server is far away.
    /// Default: 8.
    /// </summary>
    [Range(1, 64)]
    public int MaxRequestsInFlight { get; set; } = 8;

    /// <summary>
    /// How often the dispatcher looks for rows when nothing woke it: picks up rows of other processes and rows left by a
    /// process that died after its commit. Default: 1 second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan PollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a claim holds rows before another instance may take them over, where instances claim under row leases:
    /// databases other than PostgreSQL and SQLite files, whose dispatchers elect a leader that takes no leases.
    /// Default: 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Immediate retries of one request for transient failures (network, timeout, 5xx, 429). Default: 3.</summary>
    [Range(0, 20)]
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>
    /// The first delay of the immediate retries (at least 10 ms); it doubles with each retry, up to <see cref="MaxBackoff"/>.
    /// The same formula spaces a row's later attempts and a pause's probes. Default: 200 ms.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How many times a row may fail transiently (after its immediate retries) before it is dead-lettered. Between them
    /// the row waits <see cref="RetryBaseDelay"/> times 2^attempts, at most <see cref="MaxBackoff"/>. Default: 50.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxAttempts { get; set; } = 50;

    /// <summary>The longest wait between two attempts of a row. Default: 1 minute.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long delivered rows are kept before cleanup deletes them. Default: 1 day.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan DeliveredRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Whether <c>ExecuteUpdate</c>/<c>ExecuteDelete</c> on a [Notify] entity notify (SQLite and PostgreSQL). It adds a command
    /// interceptor to the context, which EF Core then calls for every command, SaveChanges' own included: about 5 µs a
    /// command on SQLite (a SaveChanges of 100 rows takes about 0.5 ms longer), so it is off unless the application uses
    /// set-based changes on notified entities. Default: <see langword="false"/>.
    /// </summary>
    public bool CaptureSetBasedChanges { get; set; }

    /// <summary>
    /// How many rows one <c>ExecuteUpdate</c>/<c>ExecuteDelete</c> may change and still notify each object. Above it only the
    /// list channels are told, and each object notification becomes one event on the notified type's list channel
    /// (<c>private-{Entity}</c>) with the number of rows in <c>count</c>. Default: 1,000.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int SetBasedRowLimit { get; set; } = 1000;

    /// <summary>
    /// How often the dispatcher counts the backlog for the <c>efnotify.outbox.*</c> gauges (two aggregate queries), so that
    /// a metrics scrape never queries the database. Default: 10 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan BacklogRefreshInterval { get; set; } = TimeSpan.FromSeconds(10);
}
