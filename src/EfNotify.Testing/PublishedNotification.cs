using System.Text.Json;

namespace EfNotify.Testing;

/// <summary>One event the dispatcher published through the in-memory transport, with its message read back.</summary>
/// <param name="Channel">The channel, for example <c>private-Order.42</c>.</param>
/// <param name="Action">The event name: the notification's action, for example <c>changed</c>.</param>
/// <param name="Entity">The message's <c>entity</c>: the notified entity type's channel name, for example <c>Order</c>.</param>
/// <param name="Key">The message's <c>key</c> (a number, a string or an array for composite keys); undefined for a list channel's event without one.</param>
/// <param name="Change">The message's <c>change</c>: <c>added</c>, <c>modified</c>, <c>deleted</c> or <c>notified</c>.</param>
/// <param name="By">The notifier's user name, if known.</param>
/// <param name="SocketId">The connection left out of delivery (the author's own tab), if any.</param>
/// <param name="Data">The event data as sent: the message's JSON text.</param>
public sealed record PublishedNotification(
    string Channel, string Action, string? Entity, JsonElement Key, string? Change, string? By, string? SocketId, string Data)
{
    internal static PublishedNotification Read(OutgoingEvent e)
    {
        string? entity = null, change = null, by = null;
        JsonElement key = default;
        try
        {
            using var document = JsonDocument.Parse(e.Data);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                entity = Text(root, "entity");
                change = Text(root, "change");
                by = Text(root, "by");
                key = root.TryGetProperty("key", out var k) ? k.Clone() : default;
            }
        }
        catch (JsonException)
        {
            // Not a message of EfNotify's: kept with its channel, action and data only.
        }

        return new PublishedNotification(e.Channel, e.Name, entity, key, change, by, e.SocketId, e.Data);
    }

    internal bool IsObject(string entity, JsonElement key, string action)
        => Action == action && Entity == entity && Key.ValueKind != JsonValueKind.Undefined && JsonElement.DeepEquals(Key, key)
           && !Channel.Equals(ChannelNames.ForList(entity), StringComparison.Ordinal);

    internal bool IsList(string entity, string action) => Action == action && Channel == ChannelNames.ForList(entity);

    /// <inheritdoc/>
    public override string ToString() => $"{Channel} {Action} {Data}";

    private static string? Text(JsonElement root, string name)
        => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
