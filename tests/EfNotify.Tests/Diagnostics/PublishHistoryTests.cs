using EfNotify.Diagnostics;

namespace EfNotify.Tests.Diagnostics;

/// <summary>Issue 14: what the dashboard charts, the publishes of the last ten minutes in 10-second intervals.</summary>
public sealed class PublishHistoryTests
{
    private static readonly DateTime Start = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Publishes_are_counted_per_interval_with_their_mean_and_longest_latency_and_empty_intervals_are_listed()
    {
        var history = new PublishHistory();
        history.Record(Start.AddSeconds(1), 10);
        history.Record(Start.AddSeconds(9), 30);
        history.Record(Start.AddSeconds(25), 5);

        var intervals = history.Snapshot(Start.AddSeconds(29));

        Assert.Equal(PublishHistory.IntervalCount, intervals.Count);
        Assert.Equal(new PublishInterval(Start.AddSeconds(20), 1, 5, 5), intervals[^1]);
        Assert.Equal(new PublishInterval(Start.AddSeconds(10), 0, null, null), intervals[^2]);
        Assert.Equal(new PublishInterval(Start, 2, 20, 30), intervals[^3]);
        Assert.Equal(3, intervals.Sum(i => i.Published));
    }

    [Fact]
    public void Intervals_older_than_ten_minutes_drop_out_and_their_slot_starts_afresh()
    {
        var history = new PublishHistory();
        history.Record(Start, 100);
        var later = Start + PublishHistory.IntervalWidth * PublishHistory.IntervalCount; // the same slot, one lap on

        Assert.Equal(0, history.Snapshot(later).Sum(i => i.Published));
        history.Record(later, 7);

        var intervals = history.Snapshot(later);
        Assert.Equal(new PublishInterval(later, 1, 7, 7), intervals[^1]);
        Assert.Equal(1, intervals.Sum(i => i.Published));
    }
}
