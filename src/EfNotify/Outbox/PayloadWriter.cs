using System.Globalization;
using System.Text.Json;
using EfNotify.Channels;

namespace EfNotify.Outbox;

/// <summary>Writes captured notifications as the text of one outbox row (the format of <see cref="OutboxPayload"/>).</summary>
internal static class PayloadWriter
{
    /// <summary>Writes <paramref name="count"/> notifications from <paramref name="start"/> as one row.</summary>
    public static string Write(List<PendingNotification> notifications, int start, int count, TimeProvider time)
    {
        var first = notifications[start];
        var writer = PooledJson.Writer();
        writer.WriteStartObject();
        writer.WriteNumber("v", OutboxPayload.Version);
        writer.WriteString("id", Guid.CreateVersion7(time.GetUtcNow()));
        writer.WriteString("at", first.At.UtcDateTime);
        if (first.By is { } by)
        {
            writer.WriteString("by", by);
        }

        if (first.SocketId is { } socketId)
        {
            writer.WriteString("socketId", socketId);
        }

        writer.WriteStartArray("items");
        for (var i = start; i < start + count; i++)
        {
            WriteItem(writer, notifications[i], first);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        return PooledJson.Finish(writer);
    }

    private static void WriteItem(Utf8JsonWriter writer, PendingNotification notification, PendingNotification first)
    {
        writer.WriteStartArray();
        writer.WriteStringValue(notification.Channel);
        writer.WriteStringValue(notification.Action);
        writer.WriteStringValue(notification.EntityName);
        WriteKey(writer, notification.Key);
        writer.WriteStringValue(BrowserMessage.ChangeCode(notification.Change));

        var at = notification.At != first.At;
        var by = !string.Equals(notification.By, first.By, StringComparison.Ordinal);
        var socketId = !string.Equals(notification.SocketId, first.SocketId, StringComparison.Ordinal);
        if (at || by || socketId || notification.SourceEntityName is not null || notification.Values is not null || notification.Count is not null
            || notification.CoalesceMilliseconds > 0)
        {
            WriteExtra(writer, notification, at, by, socketId);
        }

        writer.WriteEndArray();
    }

    /// <summary>The sixth element: where the item differs from the row, and what only some items carry.</summary>
    private static void WriteExtra(Utf8JsonWriter writer, PendingNotification notification, bool at, bool by, bool socketId)
    {
        writer.WriteStartObject();
        if (at)
        {
            writer.WriteString("at", notification.At.UtcDateTime);
        }

        if (by)
        {
            writer.WriteString("by", notification.By);
        }

        if (socketId)
        {
            writer.WriteString("socketId", notification.SocketId);
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

        if (notification.Count is { } count)
        {
            writer.WriteNumber("count", count);
        }

        if (notification.CoalesceMilliseconds > 0)
        {
            writer.WriteNumber("window", notification.CoalesceMilliseconds);
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
            case long or ulong or decimal when Math.Abs(Convert.ToDecimal(value, CultureInfo.InvariantCulture)) > OutboxPayload.MaxSafeInteger:
                writer.WriteStringValue(KeyText.Format(value));
                break;
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
            default: writer.WriteStringValue(KeyText.Format(value)); break;
        }
    }
}
