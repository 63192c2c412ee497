using System.ComponentModel.DataAnnotations;

namespace EfNotify;

/// <summary>Thresholds of the EfNotify health check, registered by <c>services.AddHealthChecks().AddEfNotify()</c>.</summary>
public sealed class EfNotifyHealthCheckOptions
{
    /// <summary>The report is Degraded when the oldest pending outbox row is older than this. Default: 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "7.00:00:00")]
    public TimeSpan DegradedAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The report is Unhealthy (the registration's failure status) when the oldest pending outbox row is older than this;
    /// must be longer than <see cref="DegradedAfter"/>. Default: 5 minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "7.00:00:00")]
    public TimeSpan UnhealthyAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The report is Unhealthy when the dispatcher of this process has not completed a loop iteration for longer than this.
    /// Only checked where the dispatcher runs (<see cref="EfNotifyOptions.DispatcherEnabled"/>); it should exceed
    /// <see cref="EfNotifyOptions.PollingInterval"/>, the longest idle wait. Default: 1 minute.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan StallAfter { get; set; } = TimeSpan.FromMinutes(1);
}
