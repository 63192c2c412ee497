using Polly.Retry;

namespace EfNotify.Dispatch;

/// <summary>
/// EfNotify's one delay formula: <see cref="EfNotifyOptions.RetryBaseDelay"/> (at least 10 ms) times 2^n, at most
/// <see cref="EfNotifyOptions.MaxBackoff"/>. The publish pipeline's retry strategy takes it as its delay generator, and the
/// same numbers space a row's persisted attempts, a pause's probes, the loop's and the delivery record's retries.
/// </summary>
internal sealed class RetrySchedule
{
    private static readonly long MinimumTicks = TimeSpan.TicksPerMillisecond * 10;
    private readonly long _baseTicks;
    private readonly long _maxTicks;

    public RetrySchedule(TimeSpan baseDelay, TimeSpan maxDelay)
    {
        _baseTicks = Math.Max(baseDelay.Ticks, MinimumTicks);
        _maxTicks = Math.Max(maxDelay.Ticks, MinimumTicks);
    }

    public static RetrySchedule From(EfNotifyOptions options) => new(options.RetryBaseDelay, options.MaxBackoff);

    /// <summary>The delay after the failure numbered <paramref name="exponent"/>: the base delay times 2^exponent, capped.</summary>
    public TimeSpan Delay(int exponent)
    {
        var factor = Math.Pow(2, Math.Clamp(exponent, 0, 30));
        return TimeSpan.FromTicks((long)Math.Min(_baseTicks * factor, _maxTicks));
    }

    /// <summary>
    /// The retry strategy's delay: its first retry waits the base delay (Polly numbers attempts from 0), as a row's first
    /// persisted attempt is <see cref="Delay"/>(1) after the request's own retries ran out.
    /// </summary>
    public ValueTask<TimeSpan?> Generate<TResult>(RetryDelayGeneratorArguments<TResult> arguments) => new(Delay(arguments.AttemptNumber));
}
