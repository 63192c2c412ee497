using System.Buffers.Binary;
using System.Text.Json;
using static EfNotify.Outbox.PooledJson;

namespace EfNotify.Outbox;

/// <summary>
/// The text of <see cref="OutboxMessage.Payload"/>: writes a row's notifications and reads them back as the events to
/// publish. A row is one JSON object holding what its notifications share, then one short positional array per
/// notification:
/// <code>
/// {"v":2,"id":"…","at":"2026-11-28T12:00:00Z","by":"alice","socketId":"123.456","items":[
///   ["private-Order.42","changed","Order",42,"m"],
///   ["private-Room.7","newMessage","Room",7,"a",{"source":{"entity":"Message","key":9},"values":{…}}]]}
/// </code>
/// An item is <c>[channel, event, entity, key, change]</c>, where the event is also the message's <c>action</c> and the
/// change is <c>a</c>dded, <c>m</c>odified, <c>d</c>eleted or <c>n</c>otified. A sixth element, present only when
/// needed, holds <c>source</c> and <c>values</c> as browsers receive them, <c>window</c> (a coalescing window in ms, for the
/// dispatcher only), and <c>at</c>, <c>by</c> or <c>socketId</c>
/// where the item differs from the row (<c>null</c> for "none"). Item <c>i</c>'s id is the row's id with <c>i</c>
/// XORed into its last four bytes, so it is a UUIDv7 still and the same on every publication.
/// Rows of the first format, a JSON array of <c>{"channel","event","socketId","data"}</c>, are still read.
/// Writing is <see cref="PayloadWriter"/>'s, an item's parts <see cref="PayloadItem"/>'s, the message <see cref="BrowserMessage"/>'s.
/// </summary>
internal static class OutboxPayload
{
    /// <summary>The value of <c>"v"</c>; the bare array of the first format counts as version 1.</summary>
    public const int Version = 2;

    /// <summary>
    /// 2^53 − 1, the largest integer a JavaScript number holds exactly: integer keys beyond it are written as strings
    /// (the same text as in the channel name), so a browser receives them unchanged.
    /// </summary>
    public const long MaxSafeInteger = 9_007_199_254_740_991;

    /// <summary>Writes <paramref name="count"/> notifications from <paramref name="start"/> as one row.</summary>
    public static string Write(List<PendingNotification> notifications, int start, int count, TimeProvider time)
        => PayloadWriter.Write(notifications, start, count, time);

    /// <summary>The notifications of a row, in order, as the dispatcher publishes them.</summary>
    /// <param name="payload">The row's payload.</param>
    /// <param name="windows">When given, receives each notification's coalescing window (zero for none), in the same order.</param>
    /// <exception cref="JsonException">The payload is not one this version reads.</exception>
    public static List<OutgoingEvent> Read(string payload, List<TimeSpan>? windows = null)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        var events = new List<OutgoingEvent>();
        if (root.ValueKind == JsonValueKind.Array)
        {
            foreach (var element in root.EnumerateArray())
            {
                var socketId = element.TryGetProperty("socketId", out var socket) ? socket.GetString() : null;
                events.Add(new OutgoingEvent(
                    element.GetProperty("channel").GetString()!, element.GetProperty("event").GetString()!, element.GetProperty("data").GetRawText(), socketId));
                windows?.Add(TimeSpan.Zero);
            }

            return events;
        }

        var row = PayloadItem.ReadRow(root, out var items);
        var index = 0;
        foreach (var element in items.EnumerateArray())
        {
            var item = PayloadItem.Read(element, index++, row);
            var socketId = IsAny(item.SocketId) ? item.SocketId.GetString() : null;
            events.Add(new OutgoingEvent(item.Channel.GetString()!, item.Name.GetString()!, BrowserMessage.Write(item), socketId));
            windows?.Add(item.Window.ValueKind == JsonValueKind.Number && item.Window.TryGetInt32(out var ms) && ms > 0 ? TimeSpan.FromMilliseconds(ms) : TimeSpan.Zero);
        }

        return events;
    }

    /// <summary>The minimal message of notification <paramref name="index"/> of a row (see <see cref="BrowserMessage"/>).</summary>
    /// <exception cref="JsonException">The payload is not one this version reads.</exception>
    public static string Minimal(string payload, int index)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Array)
        {
            return BrowserMessage.Minimal(root[index].GetProperty("data"));
        }

        var row = PayloadItem.ReadRow(root, out var items);
        return BrowserMessage.Minimal(PayloadItem.Read(items[index], index, row));
    }

    /// <summary>
    /// Notification <paramref name="index"/> of a row alone, as a complete one-notification payload with the same id:
    /// what its dead letter stores. Built only when needed, since refusals are rare.
    /// </summary>
    /// <exception cref="JsonException">The payload is not one this version reads.</exception>
    public static string Alone(string payload, int index)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Array)
        {
            // A first-format dead letter stays in that format, which is read as long as this is: the item is kept
            // exactly, whatever an earlier version or an operator put into it.
            return "[" + root[index].GetRawText() + "]";
        }

        var row = PayloadItem.ReadRow(root, out var items);
        return Alone(PayloadItem.Read(items[index], index, row));
    }

    /// <summary>
    /// The channel and event of each notification that names them, for listings: a damaged payload yields what can be
    /// read of it, and a payload that is not JSON throws <see cref="JsonException"/>.
    /// </summary>
    public static IEnumerable<(string Channel, string Event)> Targets(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Array)
        {
            foreach (var element in root.EnumerateArray())
            {
                if (element.ValueKind == JsonValueKind.Object
                    && element.TryGetProperty("channel", out var channel) && channel.ValueKind == JsonValueKind.String
                    && element.TryGetProperty("event", out var name) && name.ValueKind == JsonValueKind.String)
                {
                    yield return (channel.GetString()!, name.GetString()!);
                }
            }
        }
        else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() >= 2
                    && item[0] is { ValueKind: JsonValueKind.String } channel && item[1] is { ValueKind: JsonValueKind.String } name)
                {
                    yield return (channel.GetString()!, name.GetString()!);
                }
            }
        }
    }

    /// <summary>The id of item <paramref name="index"/> of the row whose id is <paramref name="rowId"/>.</summary>
    public static Guid ItemId(Guid rowId, int index)
    {
        // The last four bytes are random in a UUIDv7: version, variant and timestamp stay as they are.
        Span<byte> bytes = stackalloc byte[16];
        rowId.TryWriteBytes(bytes, bigEndian: true, out _);
        var low = bytes[12..];
        BinaryPrimitives.WriteUInt32BigEndian(low, BinaryPrimitives.ReadUInt32BigEndian(low) ^ (uint)index);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>The item as a row of its own: its id is that row's id, which item 0 keeps unchanged.</summary>
    private static string Alone(in PayloadItem item)
    {
        var writer = Writer();
        writer.WriteStartObject();
        writer.WriteNumber("v", Version);
        writer.WriteString("id", item.Id);
        Copy(writer, "at", item.At);
        CopyIfAny(writer, "by", item.By);
        CopyIfAny(writer, "socketId", item.SocketId);
        writer.WriteStartArray("items");
        writer.WriteStartArray();
        Copy(writer, item.Channel);
        Copy(writer, item.Name);
        Copy(writer, item.Entity);
        Copy(writer, item.Key);
        Copy(writer, item.Change);
        if (IsAny(item.Source) || IsAny(item.Values) || IsAny(item.Count) || IsAny(item.Window))
        {
            writer.WriteStartObject();
            CopyIfAny(writer, "source", item.Source);
            CopyIfAny(writer, "values", item.Values);
            CopyIfAny(writer, "count", item.Count);
            CopyIfAny(writer, "window", item.Window);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndArray();
        writer.WriteEndObject();
        return Finish(writer);
    }
}
