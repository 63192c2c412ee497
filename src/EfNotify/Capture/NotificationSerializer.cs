using EfNotify.Outbox;

namespace EfNotify.Capture;

/// <summary>
/// Turns the notifications of a committed unit of work into outbox rows, in the format of <see cref="OutboxPayload"/>.
/// Notifications to the same channel and action are coalesced first, keeping the first one's place.
/// </summary>
internal static class NotificationSerializer
{
    /// <summary>
    /// The most notifications one outbox row holds. A larger transaction writes several rows (in order), which keeps every
    /// payload string under the large-object heap threshold and bounds what the dispatcher holds per claimed row.
    /// </summary>
    public const int MaxPerRow = 128;

    /// <summary>The payloads of the rows to write, in order.</summary>
    public static List<(string Payload, int Count)> Serialize(List<PendingNotification> pending, TimeProvider time)
    {
        var coalesced = Coalesce(pending);
        var rows = new List<(string, int)>((coalesced.Count + MaxPerRow - 1) / MaxPerRow);
        for (var start = 0; start < coalesced.Count; start += MaxPerRow)
        {
            var count = Math.Min(MaxPerRow, coalesced.Count - start);
            rows.Add((OutboxPayload.Write(coalesced, start, count, time), count));
        }

        return rows;
    }

    private static List<PendingNotification> Coalesce(List<PendingNotification> pending)
    {
        if (pending.Count < 2)
        {
            return pending;
        }

        var byTarget = new Dictionary<(string, string), PendingNotification>(pending.Count);
        var result = new List<PendingNotification>(pending.Count);
        foreach (var notification in pending)
        {
            if (byTarget.TryGetValue((notification.Channel, notification.Action), out var first))
            {
                first.MergeLater(notification);
            }
            else
            {
                byTarget.Add((notification.Channel, notification.Action), notification);
                result.Add(notification);
            }
        }

        return result;
    }
}
