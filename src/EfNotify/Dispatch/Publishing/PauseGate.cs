using EfNotify.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>
/// A refusal that concerns the application (its credentials, its clock, its account, its id) says nothing about the
/// events: dead-lettering them would turn a deployment mistake of a few minutes into a replay job. Publishing pauses
/// instead: the rows stay pending in order, untouched, and one request probes again after each back-off period
/// (<see cref="RetrySchedule"/>, from twice the base delay up to <see cref="EfNotifyOptions.MaxBackoff"/>). The health
/// check reports the reason; the first accepted request resumes publishing.
/// </summary>
internal sealed partial class PauseGate(RetrySchedule schedule, TimeProvider time, EfNotifyInstrumentation instrumentation, OutboxMonitor monitor, ILogger logger)
{
    private readonly Lock _lock = new();
    private int _refusals;
    private DateTime _since;
    private TimeSpan _delay;

    public bool IsPaused => _refusals > 0;

    /// <summary>Records a refusal of the application: logged, counted and reported once per back-off period.</summary>
    public void Refused(PublishFailure failure)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (_refusals == 0)
        {
            _since = now;
        }

        _refusals++;
        _delay = schedule.Delay(_refusals);
        LogPaused(logger, failure.Reason, _delay);
        instrumentation.Paused(failure.StatusCode);
        monitor.Paused(new PublishingPause(failure.Reason, _since, now + _delay));
    }

    /// <summary>Waits out the back-off period; a commit does not cut it short.</summary>
    public Task WaitAsync(CancellationToken stoppingToken) => Task.Delay(_delay, time, stoppingToken);

    /// <summary>Called when the server accepted a request.</summary>
    /// <remarks>The lanes of a claim answer at the same time: the first acceptance resumes, once.</remarks>
    public void Accepted()
    {
        int refusals;
        lock (_lock)
        {
            (refusals, _refusals) = (_refusals, 0);
        }

        if (refusals > 0)
        {
            LogResumed(logger, time.GetUtcNow().UtcDateTime - _since, refusals);
            monitor.Resumed();
        }
    }

    [LoggerMessage(EventId = 14, Level = LogLevel.Error, Message = "Publishing is paused: the server refused the application, not its events ({Reason}); every notification stays pending, next attempt in {Delay}")]
    private static partial void LogPaused(ILogger logger, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "Publishing resumed after a pause of {Duration} ({Refusals} refused attempts)")]
    private static partial void LogResumed(ILogger logger, TimeSpan duration, int refusals);
}
