using EfNotify.Dispatch;

namespace EfNotify.Tests.Dispatch;

/// <summary>Issue 13: every channel keeps to one lane, so its events go one request after the other, in order.</summary>
public sealed class ChannelLanesTests
{
    private static readonly string[] Channels = [.. Enumerable.Range(1, 200).Select(i => $"private-Order.{i}"), "private-Order", "presence-Room.7", "private-encrypted-Room.=C3=A9"];

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(64)]
    public void A_channel_always_gets_the_same_lane_among_the_lanes_there_are(int lanes)
    {
        foreach (var channel in Channels)
        {
            var lane = ChannelLanes.Of(channel, lanes);

            Assert.InRange(lane, 0, lanes - 1);
            Assert.Equal(lane, ChannelLanes.Of(new string(channel.AsSpan()), lanes)); // by its name, not the string instance
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(16)]
    public void Many_channels_spread_over_every_lane(int lanes)
    {
        var perLane = Channels.GroupBy(c => ChannelLanes.Of(c, lanes)).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(lanes, perLane.Count);
        Assert.All(perLane.Values, count => Assert.InRange(count, Channels.Length / lanes / 3, Channels.Length / lanes * 3));
    }

    [Fact]
    public void Split_puts_every_event_in_its_channels_lane_once_in_claim_order_and_leaves_out_empty_lanes()
    {
        var events = Enumerable.Range(0, 60)
            .Select(i => new PlannedEvent(i / 3, i % 3, new OutgoingEvent($"private-Order.{i % 5}", "changed", "{}")))
            .ToList();

        var lanes = ChannelLanes.Split(events, 8);

        Assert.Equal(events.Count, lanes.Sum(l => l.Count));
        Assert.All(lanes, lane =>
        {
            Assert.NotEmpty(lane);
            Assert.Single(lane.Select(e => ChannelLanes.Of(e.Event.Channel, 8)).Distinct());
            Assert.Equal(lane.OrderBy(e => e.Row).ThenBy(e => e.Index), lane);
        });
        Assert.All(events.GroupBy(e => e.Event.Channel), channel => Assert.Single(lanes, l => l.Contains(channel.First())));
    }
}
