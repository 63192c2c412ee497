using System.Buffers;
using System.Text;
using System.Text.Json;

namespace EfNotify.Capture;

/// <summary>
/// Writes outbox payloads: JSON arrays of <c>{"channel","event","socketId","data"}</c> where <c>data</c> is the
/// message browsers receive. Notifications to the same channel and action are coalesced first, keeping the first id.
/// </summary>
internal static class NotificationSerializer
{
    /// <summary>
    /// The most notifications one outbox row holds. A larger transaction writes several rows (in order), which keeps every
    /// payload string under the large-object heap threshold and bounds what the dispatcher holds per claimed row.
    /// </summary>
    public const int MaxPerRow = 128;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    /// <summary>The payloads of the rows to write, in order.</summary>
    public static List<(string Payload, int Count)> Serialize(List<PendingNotification> pending, TimeProvider time)
    {
        var coalesced = Coalesce(pending);
        var rows = new List<(string, int)>((coalesced.Count + MaxPerRow - 1) / MaxPerRow);
        for (var start = 0; start < coalesced.Count; start += MaxPerRow)
        {
            var count = Math.Min(MaxPerRow, coalesced.Count - start);
            rows.Add((SerializeRow(coalesced, start, count, time), count));
        }

        return rows;
    }

    private static string SerializeRow(List<PendingNotification> notifications, int start, int count, TimeProvider time)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(32 * 1024);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            for (var i = start; i < start + count; i++)
            {
                var notification = notifications[i];
                writer.WriteStartObject();
                writer.WriteString("channel", notification.Channel);
                writer.WriteString("event", notification.Action);
                if (notification.SocketId is { } socketId)
                {
                    writer.WriteString("socketId", socketId);
                }

                writer.WritePropertyName("data");
                WriteMessage(writer, notification, NewId(time));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
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

    private static Guid NewId(TimeProvider time) => Guid.CreateVersion7(time.GetUtcNow());

    private static void WriteMessage(Utf8JsonWriter writer, PendingNotification notification, Guid id)
    {
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteString("entity", notification.EntityName);
        writer.WritePropertyName("key");
        WriteKey(writer, notification.Key);
        writer.WriteString("action", notification.Action);
        writer.WriteString("change", notification.Change switch
        {
            ChangeKind.Added => "added",
            ChangeKind.Modified => "modified",
            ChangeKind.Deleted => "deleted",
            _ => "notified",
        });
        writer.WriteString("at", notification.At.UtcDateTime);
        if (notification.By is { } by)
        {
            writer.WriteString("by", by);
        }

        if (notification.SourceEntityName is { } source)
        {
            writer.WriteStartObject("source");
            writer.WriteString("entity", source);
            writer.WritePropertyName("key");
            WriteKey(writer, notification.SourceKey!);
            writer.WriteEndObject();
        }

        if (notification.Values is { } values)
        {
            writer.WriteStartObject("values");
            foreach (var (name, value) in values)
            {
                writer.WritePropertyName(name);
                JsonSerializer.Serialize(writer, value, value?.GetType() ?? typeof(object));
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void WriteKey(Utf8JsonWriter writer, object?[] key)
    {
        if (key.Length == 0)
        {
            writer.WriteNullValue();
            return;
        }

        if (key.Length == 1)
        {
            WriteKeyValue(writer, key[0]);
            return;
        }

        writer.WriteStartArray();
        foreach (var part in key)
        {
            WriteKeyValue(writer, part);
        }

        writer.WriteEndArray();
    }

    private static void WriteKeyValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case int i: writer.WriteNumberValue(i); break;
            case long l: writer.WriteNumberValue(l); break;
            case short s: writer.WriteNumberValue(s); break;
            case byte b: writer.WriteNumberValue(b); break;
            case uint u: writer.WriteNumberValue(u); break;
            case ulong ul: writer.WriteNumberValue(ul); break;
            case ushort us: writer.WriteNumberValue(us); break;
            case sbyte sb: writer.WriteNumberValue(sb); break;
            case decimal d: writer.WriteNumberValue(d); break;
            case string text: writer.WriteStringValue(text); break;
            case Guid g: writer.WriteStringValue(g); break;
            default: writer.WriteStringValue(ChannelNames.FormatKeyValue(value)); break;
        }
    }
}
