using System.Text.Json;

namespace EfNotify.Outbox;

/// <summary>
/// One notification of a second-format row, checked and split into its parts, which stay the stored JSON values:
/// <see cref="BrowserMessage"/> and <see cref="OutboxPayload.Alone(string, int)"/> copy them verbatim.
/// </summary>
internal readonly record struct PayloadItem(
    Guid Id, JsonElement Channel, JsonElement Name, JsonElement Entity, JsonElement Key, JsonElement Change,
    JsonElement At, JsonElement By, JsonElement SocketId, JsonElement Source, JsonElement Values, JsonElement Count)
{
    /// <summary>The coalescing window in milliseconds (<c>"window"</c>), or none; the dispatcher's, never in the message.</summary>
    public JsonElement Window { get; init; }

    /// <summary>The parts of a second-format row: its id and what its items share.</summary>
    /// <exception cref="JsonException">The row is not of the second format.</exception>
    public static PayloadItem ReadRow(JsonElement root, out JsonElement items)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("v", out var version) || version.ValueKind != JsonValueKind.Number)
        {
            throw new JsonException("EfNotify: the outbox payload is neither a JSON array nor an object with a format version \"v\".");
        }

        if (!version.TryGetInt32(out var v) || v != OutboxPayload.Version)
        {
            throw new JsonException($"EfNotify: the outbox payload has format version {version.GetRawText()}; this version of EfNotify reads versions 1 and {OutboxPayload.Version}.");
        }

        if (!Required(root, "id", JsonValueKind.String).TryGetGuid(out var rowId))
        {
            throw new JsonException("EfNotify: the \"id\" of the outbox payload is not a UUID.");
        }

        var row = new PayloadItem { Id = rowId, At = Required(root, "at", JsonValueKind.String) };
        row = row with
        {
            By = root.TryGetProperty("by", out var by) ? by : default,
            SocketId = root.TryGetProperty("socketId", out var socketId) ? socketId : default,
        };
        if (!IsTextOrNone(row.By) || !IsTextOrNone(row.SocketId))
        {
            throw new JsonException("EfNotify: the \"by\" or \"socketId\" of the outbox payload is not text.");
        }

        items = Required(root, "items", JsonValueKind.Array);
        return row;
    }

    /// <summary>Item <paramref name="index"/> of <paramref name="row"/>: <c>[channel, event, entity, key, change, {…}?]</c>.</summary>
    /// <exception cref="JsonException">The item is not of that shape.</exception>
    public static PayloadItem Read(JsonElement item, int index, PayloadItem row)
    {
        // Messages name the item by its place, not its text: the text may hold property values that logs must not.
        if (item.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException($"EfNotify: item {index} of the outbox payload is not an array.");
        }

        var length = item.GetArrayLength();
        var extra = length > 5 ? item[5] : default;
        if (length < 5 || item[0].ValueKind != JsonValueKind.String || item[1].ValueKind != JsonValueKind.String
            || item[2].ValueKind != JsonValueKind.String || item[4].ValueKind != JsonValueKind.String
            || (length > 5 && extra.ValueKind != JsonValueKind.Object))
        {
            throw new JsonException($"EfNotify: item {index} of the outbox payload is not [channel, event, entity, key, change, {{…}}?].");
        }

        if (BrowserMessage.ChangeName(item[4].GetString()) is null)
        {
            throw new JsonException($"EfNotify: item {index} of the outbox payload has no change code a, m, d or n.");
        }

        var own = row with { Id = OutboxPayload.ItemId(row.Id, index), Channel = item[0], Name = item[1], Entity = item[2], Key = item[3], Change = item[4] };
        return extra.ValueKind == JsonValueKind.Object ? own.WithExtra(extra, index) : own;
    }

    private PayloadItem WithExtra(JsonElement extra, int index)
    {
        var own = this;
        foreach (var property in extra.EnumerateObject())
        {
            own = property.Name switch
            {
                "at" => own with { At = property.Value },
                "by" => own with { By = property.Value },
                "socketId" => own with { SocketId = property.Value },
                "source" => own with { Source = property.Value },
                "values" => own with { Values = property.Value },
                "count" => own with { Count = property.Value },
                "window" => own with { Window = property.Value },
                _ => own,
            };
        }

        if (own.At.ValueKind != JsonValueKind.String || !IsTextOrNone(own.By) || !IsTextOrNone(own.SocketId))
        {
            throw new JsonException($"EfNotify: item {index} of the outbox payload has an \"at\", \"by\" or \"socketId\" that is not text.");
        }

        return own;
    }

    private static JsonElement Required(JsonElement row, string name, JsonValueKind kind)
        => row.TryGetProperty(name, out var value) && value.ValueKind == kind
            ? value
            : throw new JsonException($"EfNotify: the outbox payload has no \"{name}\" of kind {kind}.");

    private static bool IsTextOrNone(JsonElement value) => value.ValueKind is JsonValueKind.String || !PooledJson.IsAny(value);
}
