using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using EfNotify.Capture;
using EfNotify.Channels;

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
/// needed, holds <c>source</c> and <c>values</c> as browsers receive them, and <c>at</c>, <c>by</c> or <c>socketId</c>
/// where the item differs from the row (<c>null</c> for "none"). Item <c>i</c>'s id is the row's id with <c>i</c>
/// XORed into its last four bytes, so it is a UUIDv7 still and the same on every publication.
/// Rows of the first format, a JSON array of <c>{"channel","event","socketId","data"}</c>, are still read.
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

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Writes <paramref name="count"/> notifications from <paramref name="start"/> as one row.</summary>
    public static string Write(List<PendingNotification> notifications, int start, int count, TimeProvider time)
    {
        var first = notifications[start];
        var writer = Writer();
        writer.WriteStartObject();
        writer.WriteNumber("v", Version);
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
        return Finish(writer);
    }

    /// <summary>The notifications of a row, in order, as the dispatcher publishes them.</summary>
    /// <exception cref="JsonException">The payload is not one this version reads.</exception>
    public static List<OutgoingEvent> Read(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        var events = new List<OutgoingEvent>();
        if (root.ValueKind == JsonValueKind.Array)
        {
            foreach (var element in root.EnumerateArray())
            {
                events.Add(ReadFirstFormat(element));
            }
        }
        else
        {
            var row = ReadRow(root, out var rowId, out var items);
            var index = 0;
            foreach (var item in items.EnumerateArray())
            {
                events.Add(ReadItem(item, index, ItemId(rowId, index), row, alone: false).Event);
                index++;
            }
        }

        return events;
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

        var row = ReadRow(root, out var rowId, out var items);
        return ReadItem(items[index], index, ItemId(rowId, index), row, alone: true).Alone!;
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

    private static void WriteItem(Utf8JsonWriter writer, PendingNotification notification, PendingNotification first)
    {
        writer.WriteStartArray();
        writer.WriteStringValue(notification.Channel);
        writer.WriteStringValue(notification.Action);
        writer.WriteStringValue(notification.EntityName);
        WriteKey(writer, notification.Key);
        writer.WriteStringValue(notification.Change switch
        {
            ChangeKind.Added => "a",
            ChangeKind.Modified => "m",
            ChangeKind.Deleted => "d",
            _ => "n",
        });

        var at = notification.At != first.At;
        var by = !string.Equals(notification.By, first.By, StringComparison.Ordinal);
        var socketId = !string.Equals(notification.SocketId, first.SocketId, StringComparison.Ordinal);
        if (at || by || socketId || notification.SourceEntityName is not null || notification.Values is not null || notification.Count is not null)
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

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
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
            case long or ulong or decimal when Math.Abs(Convert.ToDecimal(value, System.Globalization.CultureInfo.InvariantCulture)) > MaxSafeInteger:
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

    private static OutgoingEvent ReadFirstFormat(JsonElement element)
    {
        var channel = element.GetProperty("channel").GetString()!;
        var name = element.GetProperty("event").GetString()!;
        var socketId = element.TryGetProperty("socketId", out var socket) ? socket.GetString() : null;
        return new OutgoingEvent(channel, name, element.GetProperty("data").GetRawText(), socketId);
    }

    private static Shared ReadRow(JsonElement root, out Guid rowId, out JsonElement items)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("v", out var version) || version.ValueKind != JsonValueKind.Number)
        {
            throw new JsonException("EfNotify: the outbox payload is neither a JSON array nor an object with a format version \"v\".");
        }

        if (!version.TryGetInt32(out var v) || v != Version)
        {
            throw new JsonException($"EfNotify: the outbox payload has format version {version.GetRawText()}; this version of EfNotify reads versions 1 and {Version}.");
        }

        if (!Required(root, "id", JsonValueKind.String).TryGetGuid(out rowId))
        {
            throw new JsonException("EfNotify: the \"id\" of the outbox payload is not a UUID.");
        }

        var row = new Shared(
            Required(root, "at", JsonValueKind.String),
            root.TryGetProperty("by", out var by) ? by : default,
            root.TryGetProperty("socketId", out var socketId) ? socketId : default);
        if (!IsTextOrNone(row.By) || !IsTextOrNone(row.SocketId))
        {
            throw new JsonException("EfNotify: the \"by\" or \"socketId\" of the outbox payload is not text.");
        }

        items = Required(root, "items", JsonValueKind.Array);
        return row;
    }

    private static (OutgoingEvent Event, string? Alone) ReadItem(JsonElement item, int index, Guid id, Shared row, bool alone)
    {
        // Messages name the item by its place, not its text: the text may hold property values that logs must not.
        if (item.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException($"EfNotify: item {index} of the outbox payload is not an array.");
        }

        JsonElement channel = default, name = default, entity = default, key = default, change = default, extra = default;
        var position = 0;
        foreach (var part in item.EnumerateArray())
        {
            switch (position++)
            {
                case 0: channel = part; break;
                case 1: name = part; break;
                case 2: entity = part; break;
                case 3: key = part; break;
                case 4: change = part; break;
                case 5: extra = part; break;
            }
        }

        if (position < 5 || channel.ValueKind != JsonValueKind.String || name.ValueKind != JsonValueKind.String
            || entity.ValueKind != JsonValueKind.String || change.ValueKind != JsonValueKind.String
            || (position > 5 && extra.ValueKind != JsonValueKind.Object))
        {
            throw new JsonException($"EfNotify: item {index} of the outbox payload is not [channel, event, entity, key, change, {{…}}?].");
        }

        var changeName = change.GetString() switch
        {
            "a" => "added",
            "m" => "modified",
            "d" => "deleted",
            "n" => "notified",
            _ => throw new JsonException($"EfNotify: item {index} of the outbox payload has no change code a, m, d or n."),
        };

        var own = row;
        JsonElement source = default, values = default, count = default;
        if (extra.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in extra.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "at": own = own with { At = property.Value }; break;
                    case "by": own = own with { By = property.Value }; break;
                    case "socketId": own = own with { SocketId = property.Value }; break;
                    case "source": source = property.Value; break;
                    case "values": values = property.Value; break;
                    case "count": count = property.Value; break;
                }
            }

            if (own.At.ValueKind != JsonValueKind.String || !IsTextOrNone(own.By) || !IsTextOrNone(own.SocketId))
            {
                throw new JsonException($"EfNotify: item {index} of the outbox payload has an \"at\", \"by\" or \"socketId\" that is not text.");
            }
        }

        var writer = Writer();
        writer.WriteStartObject();
        writer.WriteString("id", id);
        Copy(writer, "entity", entity);
        CopyIfAny(writer, "key", key); // a list channel's message has no key
        Copy(writer, "action", name);
        writer.WriteString("change", changeName);
        Copy(writer, "at", own.At);
        CopyIfAny(writer, "by", own.By);
        CopyIfAny(writer, "source", source);
        CopyIfAny(writer, "values", values);
        CopyIfAny(writer, "count", count);
        writer.WriteEndObject();
        var data = Finish(writer);
        var socketId = IsAny(own.SocketId) ? own.SocketId.GetString() : null;
        var outgoing = new OutgoingEvent(channel.GetString()!, name.GetString()!, data, socketId);
        if (!alone)
        {
            return (outgoing, null);
        }

        // The notification alone, as a row of its own: its id is that row's id, which item 0 keeps unchanged.
        writer = Writer();
        writer.WriteStartObject();
        writer.WriteNumber("v", Version);
        writer.WriteString("id", id);
        Copy(writer, "at", own.At);
        CopyIfAny(writer, "by", own.By);
        CopyIfAny(writer, "socketId", own.SocketId);
        writer.WriteStartArray("items");
        writer.WriteStartArray();
        Copy(writer, channel);
        Copy(writer, name);
        Copy(writer, entity);
        Copy(writer, key);
        Copy(writer, change);
        if (IsAny(source) || IsAny(values) || IsAny(count))
        {
            writer.WriteStartObject();
            CopyIfAny(writer, "source", source);
            CopyIfAny(writer, "values", values);
            CopyIfAny(writer, "count", count);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndArray();
        writer.WriteEndObject();
        return (outgoing, Finish(writer));
    }

    private static JsonElement Required(JsonElement row, string name, JsonValueKind kind)
        => row.TryGetProperty(name, out var value) && value.ValueKind == kind
            ? value
            : throw new JsonException($"EfNotify: the outbox payload has no \"{name}\" of kind {kind}.");

    private static bool IsTextOrNone(JsonElement value) => value.ValueKind is JsonValueKind.String || !IsAny(value);

    /// <summary>Absent (default) and JSON null both mean "none".</summary>
    private static bool IsAny(JsonElement value) => value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);

    // The stored text was written by this writer's own escaping, so copying it verbatim gives the bytes the first
    // format sent, without decoding and encoding every string again.
    private static void Copy(Utf8JsonWriter writer, JsonElement value)
        => writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true);

    private static void Copy(Utf8JsonWriter writer, string name, JsonElement value)
    {
        writer.WritePropertyName(name);
        Copy(writer, value);
    }

    private static void CopyIfAny(Utf8JsonWriter writer, string name, JsonElement value)
    {
        if (IsAny(value))
        {
            Copy(writer, name, value);
        }
    }

    private static Utf8JsonWriter Writer()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(16 * 1024);
        buffer.ResetWrittenCount();
        if (t_writer is { } writer)
        {
            writer.Reset(buffer);
            return writer;
        }

        return t_writer = new Utf8JsonWriter(buffer);
    }

    private static string Finish(Utf8JsonWriter writer)
    {
        writer.Flush();
        return Encoding.UTF8.GetString(t_buffer!.WrittenSpan);
    }

    /// <summary>What the items of a row share unless they say otherwise.</summary>
    private readonly record struct Shared(JsonElement At, JsonElement By, JsonElement SocketId);
}
