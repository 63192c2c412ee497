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
    public void Follow_puts_every_event_in_its_channels_lane_once_in_claim_order_and_leaves_empty_lanes_empty()
    {
        var events = Enumerable.Range(0, 60)
            .Select(i => new PlannedEvent(i / 3, i % 3, new OutgoingEvent($"private-Order.{i % 5}", "changed", "{}")))
            .ToList();

        var lanes = ChannelLanes.Follow(events, 8, placed: null).OfType<List<PlannedEvent>>().ToList();

        Assert.Equal(events.Count, lanes.Sum(l => l.Count));
        Assert.All(lanes, lane =>
        {
            Assert.NotEmpty(lane);
            Assert.Single(lane.Select(e => ChannelLanes.Of(e.Event.Channel, 8)).Distinct());
            Assert.Equal(lane.OrderBy(e => e.Row).ThenBy(e => e.Index), lane);
        });
        Assert.All(events.GroupBy(e => e.Event.Channel), channel => Assert.Single(lanes, l => l.Contains(channel.First())));
    }

    [Fact]
    public void A_claim_read_while_nothing_is_on_the_wire_spreads_channels_that_hash_to_one_lane_over_every_lane()
    {
        // Eight channels whose names all hash to lane 0 of 4, five events each: by their hash, one lane would carry all
        // 40 events in four requests one after the other; spread, each lane carries 10, one request each (issue 13).
        var channels = Channels.Where(c => ChannelLanes.Of(c, 4) == 0).Take(8).ToList();
        var events = Enumerable.Range(0, 40).Select(i => new PlannedEvent(i, 0, new OutgoingEvent(channels[i % 8], "changed", "{}"))).ToList();

        var byLane = new LaneChain(4).Place(events, fill: 4);

        Assert.All(byLane, lane => Assert.Equal(10, lane!.Count));
        Assert.All(events.GroupBy(e => e.Event.Channel), channel => Assert.Single(byLane, l => l!.Contains(channel.First())));
        Assert.All(byLane, lane => Assert.Equal(lane!.OrderBy(e => e.Row), lane));
    }

    [Theory]
    [InlineData(false, 2)] // 12 events fill two requests of 10: two lanes, one turn, not six requests of two
    [InlineData(true, 6)] // a full claim goes over every lane its channels allow: the claims read meanwhile follow it
    public async Task A_claim_that_is_not_full_is_sent_in_as_few_requests_as_its_events_fill(bool full, int requests)
    {
        var rows = Enumerable.Range(0, 12).Select(i => LaneFixtures.Row(i + 1, (Channels[i % 6], $"{i}"))).ToList();
        var transport = new CountingTransport();

        var outcome = await LaneFixtures.Publication(transport, lanes: 8).PublishAsync(rows, full, CancellationToken.None);

        Assert.True(outcome.Complete);
        Assert.Equal(requests, transport.Requests);
    }

    [Fact]
    public void A_claim_read_while_another_is_on_the_wire_keeps_each_of_its_channels_in_the_lane_it_had()
    {
        var channels = Channels.Where(c => ChannelLanes.Of(c, 4) == 0).Take(8).ToList();
        var chain = new LaneChain(4);
        var first = chain.Place(Claim(channels, rows: 16), fill: 4);
        var run = new ClaimRun([], paused: false, CancellationToken.None);
        chain.Append(run);

        var second = chain.Place(Claim(channels, rows: 8), fill: 4);

        Assert.All(channels, channel => Assert.Equal(LaneOf(first, channel), LaneOf(second, channel)));
        Assert.Equal(LaneOf(first, channels[1]), LaneOf(chain.Place(Claim([channels[1]], rows: 1), fill: 4), channels[1]));

        chain.Recorded(run); // nothing on the wire: the next claim is spread anew
        var third = chain.Place(Claim([channels[1], channels[0]], rows: 2), fill: 2);
        Assert.Equal(0, LaneOf(third, channels[1]));
        Assert.Equal(1, LaneOf(third, channels[0]));
    }

    private static List<PlannedEvent> Claim(IReadOnlyList<string> channels, int rows)
        => Enumerable.Range(0, rows).Select(i => new PlannedEvent(i, 0, new OutgoingEvent(channels[i % channels.Count], "changed", "{}"))).ToList();

    private static int LaneOf(List<PlannedEvent>?[] byLane, string channel)
        => Array.FindIndex(byLane, lane => lane?.Any(e => e.Event.Channel == channel) == true);

    private sealed class CountingTransport : INotificationTransport
    {
        private int _requests;

        public int Requests => _requests;

        public int MaxBatchSize => 10;

        public int MaxEventDataBytes => 10_240;

        public Task PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            return Task.CompletedTask;
        }
    }
}
