namespace EfNotify.Dispatch;

/// <summary>
/// Puts every channel in one lane: the lanes of a claim publish at the same time, one request after the other within a
/// lane, so the events of one channel go out in order while several requests are in flight
/// (<see cref="EfNotifyOptions.MaxRequestsInFlight"/>). A claim read while nothing is on the wire spreads its channels
/// evenly (<see cref="Balance"/>); a claim read while earlier ones are on the wire keeps each of their channels in the
/// lane they gave it and puts the others by a hash of their name (<see cref="Follow"/>).
/// </summary>
internal static class ChannelLanes
{
    /// <summary>The lane of <paramref name="channel"/> among <paramref name="lanes"/> by its name: the same for the same name, always.</summary>
    public static int Of(string channel, int lanes)
    {
        if (lanes <= 1)
        {
            return 0;
        }

        // FNV-1a over the UTF-16 code units: stable across processes and runs, unlike string.GetHashCode.
        var hash = 2166136261u;
        foreach (var c in channel)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return (int)(hash % (uint)lanes);
    }

    /// <summary>
    /// The events of a claim at the index of their lane, each lane in the claim's order; null where a lane has none. A
    /// channel in <paramref name="placed"/> keeps its lane there; any other goes by its name (<see cref="Of"/>).
    /// </summary>
    public static List<PlannedEvent>?[] Follow(IReadOnlyList<PlannedEvent> events, int lanes, IReadOnlyDictionary<string, int>? placed)
    {
        var byLane = new List<PlannedEvent>?[Math.Max(1, lanes)];
        foreach (var planned in events)
        {
            var channel = planned.Event.Channel;
            var lane = placed is not null && placed.TryGetValue(channel, out var kept) ? kept : Of(channel, byLane.Length);
            (byLane[lane] ??= []).Add(planned);
        }

        return byLane;
    }

    /// <summary>
    /// The events of a claim read while nothing is on the wire, at the index of their lane: each channel, as it first
    /// appears, goes to the lane with the fewest events so far among the first <paramref name="fill"/> lanes. A lane's
    /// requests go one after the other, so the claim is published in as few turns as its events allow, where a hash can
    /// give one lane two turns' worth while another idles (issue 13: the claims of a steady stream of commits behind a
    /// 25 ms round trip). Each channel's lane is written to <paramref name="placed"/>, for the claims read while this
    /// one is on the wire.
    /// </summary>
    public static List<PlannedEvent>?[] Balance(IReadOnlyList<PlannedEvent> events, int lanes, int fill, Dictionary<string, int> placed)
    {
        var byLane = new List<PlannedEvent>?[Math.Max(1, lanes)];
        var counts = new int[byLane.Length];
        var used = counts.AsSpan(0, Math.Clamp(fill, 1, byLane.Length));
        foreach (var planned in events)
        {
            var channel = planned.Event.Channel;
            if (!placed.TryGetValue(channel, out var lane))
            {
                lane = IndexOfFewest(used);
                placed.Add(channel, lane);
            }

            counts[lane]++;
            (byLane[lane] ??= []).Add(planned);
        }

        return byLane;
    }

    private static int IndexOfFewest(ReadOnlySpan<int> counts)
    {
        var fewest = 0;
        for (var i = 1; i < counts.Length; i++)
        {
            if (counts[i] < counts[fewest])
            {
                fewest = i;
            }
        }

        return fewest;
    }
}
