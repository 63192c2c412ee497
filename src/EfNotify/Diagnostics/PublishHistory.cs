namespace EfNotify.Diagnostics;

/// <summary>
/// What this process's dispatcher published over the last minutes, in intervals of <see cref="IntervalWidth"/>: how many
/// notifications the server accepted and their latency from commit to acceptance. The operators' dashboard draws it.
/// </summary>
internal sealed class PublishHistory
{
    /// <summary>The width of one interval: 10 s.</summary>
    public static readonly TimeSpan IntervalWidth = TimeSpan.FromSeconds(10);

    /// <summary>How many intervals are kept: 60, so ten minutes.</summary>
    public const int IntervalCount = 60;

    private readonly Lock _lock = new();
    private readonly Interval[] _intervals = new Interval[IntervalCount];

    public void Record(DateTime now, double latencyMilliseconds)
    {
        var index = now.Ticks / IntervalWidth.Ticks;
        lock (_lock)
        {
            ref var interval = ref _intervals[index % IntervalCount];
            if (interval.Index != index)
            {
                interval = new Interval { Index = index };
            }

            interval.Published++;
            interval.LatencySum += latencyMilliseconds;
            interval.LatencyMax = Math.Max(interval.LatencyMax, latencyMilliseconds);
        }
    }

    /// <summary>The last <see cref="IntervalCount"/> intervals up to <paramref name="now"/>, oldest first; empty ones included.</summary>
    public IReadOnlyList<PublishInterval> Snapshot(DateTime now)
    {
        var last = now.Ticks / IntervalWidth.Ticks;
        var result = new PublishInterval[IntervalCount];
        lock (_lock)
        {
            for (var i = 0; i < IntervalCount; i++)
            {
                var index = last - IntervalCount + 1 + i;
                var interval = _intervals[index % IntervalCount];
                var start = new DateTime(index * IntervalWidth.Ticks, DateTimeKind.Utc);
                result[i] = interval.Index == index && interval.Published > 0
                    ? new PublishInterval(start, interval.Published, interval.LatencySum / interval.Published, interval.LatencyMax)
                    : new PublishInterval(start, 0, null, null);
            }
        }

        return result;
    }

    private struct Interval
    {
        public long Index;
        public long Published;
        public double LatencySum;
        public double LatencyMax;
    }
}

/// <summary>One interval of <see cref="PublishHistory"/>.</summary>
/// <param name="Start">When the interval began (UTC).</param>
/// <param name="Published">Notifications the server accepted in it.</param>
/// <param name="AverageLatencyMs">Their mean latency from commit to acceptance; <see langword="null"/> when none.</param>
/// <param name="MaxLatencyMs">The longest of those latencies; <see langword="null"/> when none.</param>
internal sealed record PublishInterval(DateTime Start, long Published, double? AverageLatencyMs, double? MaxLatencyMs);
