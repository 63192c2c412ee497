using EfNotify.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>
/// A refusal that concerns the application (its credentials, its clock, its account, its id) says nothing about the
/// events: dead-lettering them would turn a deployment mistake of a few minutes into a replay job. Publishing pauses
/// instead: the rows stay pending in order, untouched, and one request probes again after each back-off period, which
/// grows as after any failure, up to <see cref="EfNotifyOptions.MaxBackoff"/>. The health check reports the reason; the
/// first accepted request resumes publishing.
/// </summary>
internal sealed partial class OutboxDispatcher<TContext>
{
    private int _pausedRefusals;
    private DateTime _pausedSince;
    private TimeSpan _pauseDelay;

    private bool IsPaused => _pausedRefusals > 0;

    /// <summary>Records a refusal of the application: logged, counted and reported once per back-off period.</summary>
    private void Paused(Failure failure)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (_pausedRefusals == 0)
        {
            _pausedSince = now;
        }

        _pausedRefusals++;
        _pauseDelay = Backoff(_pausedRefusals);
        LogPaused(_logger, failure.Reason, _pauseDelay);
        Instrumentation.Paused(failure.StatusCode);
        Monitor.Paused(new PublishingPause(failure.Reason, _pausedSince, now + _pauseDelay));
    }

    /// <summary>Waits out the back-off period; a commit does not cut it short.</summary>
    private Task PauseAsync(CancellationToken stoppingToken) => Task.Delay(_pauseDelay, _time, stoppingToken);

    /// <summary>Called when the server accepted a request.</summary>
    private void ResumeIfPaused()
    {
        if (_pausedRefusals == 0)
        {
            return;
        }

        LogResumed(_logger, _time.GetUtcNow().UtcDateTime - _pausedSince, _pausedRefusals);
        _pausedRefusals = 0;
        Monitor.Resumed();
    }

    [LoggerMessage(EventId = 14, Level = LogLevel.Error, Message = "Publishing is paused: the server refused the application, not its events ({Reason}); every notification stays pending, next attempt in {Delay}")]
    private static partial void LogPaused(ILogger logger, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "Publishing resumed after a pause of {Duration} ({Refusals} refused attempts)")]
    private static partial void LogResumed(ILogger logger, TimeSpan duration, int refusals);
}
