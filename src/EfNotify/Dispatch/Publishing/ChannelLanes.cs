namespace EfNotify.Dispatch;

/// <summary>
/// Puts every channel in one lane of its own, by a hash of its name: the lanes of a claim publish at the same time, one
/// request after the other within a lane, so the events of one channel go out in order while several requests are in
/// flight (<see cref="EfNotifyOptions.MaxRequestsInFlight"/>).
/// </summary>
internal static class ChannelLanes
{
    /// <summary>The lane of <paramref name="channel"/> among <paramref name="lanes"/>: the same for the same name, always.</summary>
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

    /// <summary>The events of a claim by lane, each lane in the claim's order; lanes without events are left out.</summary>
    public static List<List<PlannedEvent>> Split(IReadOnlyList<PlannedEvent> events, int lanes)
        => ByLane(events, lanes).OfType<List<PlannedEvent>>().ToList();

    /// <summary>The events of a claim at the index of their lane, each lane in the claim's order; null where a lane has none.</summary>
    public static List<PlannedEvent>?[] ByLane(IReadOnlyList<PlannedEvent> events, int lanes)
    {
        var byLane = new List<PlannedEvent>?[Math.Max(1, lanes)];
        foreach (var planned in events)
        {
            (byLane[Of(planned.Event.Channel, byLane.Length)] ??= []).Add(planned);
        }

        return byLane;
    }
}
