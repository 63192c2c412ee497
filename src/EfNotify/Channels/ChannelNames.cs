using System.Text;
using EfNotify.Channels;

namespace EfNotify;

/// <summary>
/// Names Pusher channels for objects and lists, and maps a channel name back to an entity name and key.
/// An object's channel is <c>private-{Entity}.{key}</c>, a list's channel <c>private-{Entity}</c>; the parts of a
/// composite key are joined by <c>,</c>. Key text is encoded reversibly so that any key fits Pusher's channel grammar
/// (<c>[-a-zA-Z0-9_=@,.;]</c>): letters, digits, <c>-</c>, <c>_</c> and <c>@</c> stand as they are, every other
/// character as <c>=XX</c> per UTF-8 byte.
/// </summary>
public static class ChannelNames
{
    /// <summary>The prefix of every channel EfNotify publishes to.</summary>
    public const string PrivatePrefix = PusherProtocol.PrivatePrefix;

    /// <summary>The longest channel name Pusher accepts, prefix included.</summary>
    public const int MaxLength = PusherProtocol.MaxChannelNameLength;

    /// <summary>The list channel of an entity type: <c>private-{entityName}</c>.</summary>
    /// <param name="entityName">The entity's channel name.</param>
    /// <returns>The channel name.</returns>
    public static string ForList(string entityName) => PrivatePrefix + entityName;

    /// <summary>The channel of one object: <c>private-{entityName}.{key}</c>.</summary>
    /// <param name="entityName">The entity's channel name.</param>
    /// <param name="keyValues">The key values, in key order (store values: after any value converter).</param>
    /// <returns>The channel name.</returns>
    /// <exception cref="InvalidOperationException">The name would be longer than <see cref="MaxLength"/>.</exception>
    public static string ForObject(string entityName, params ReadOnlySpan<object?> keyValues)
    {
        if (keyValues.Length == 1 && KeyText.Format(keyValues[0]) is var single && KeyText.IsLiteral(single)
            && PrivatePrefix.Length + entityName.Length + 1 + single.Length <= MaxLength)
        {
            return string.Concat(PrivatePrefix, entityName, ".", single); // the common case: one key that needs no escaping
        }

        var builder = new StringBuilder(PrivatePrefix.Length + entityName.Length + 16);
        builder.Append(PrivatePrefix).Append(entityName).Append('.');
        for (var i = 0; i < keyValues.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            KeyText.AppendEscaped(builder, KeyText.Format(keyValues[i]));
        }

        if (builder.Length > MaxLength)
        {
            throw new InvalidOperationException(
                $"EfNotify: the key of '{entityName}' gives the channel name '{builder.ToString(0, 60)}…' of {builder.Length} characters; "
                + $"Pusher allows at most {MaxLength}. Use a shorter key, or notify this entity through its list channel (ToList) or a principal (Via).");
        }

        return builder.ToString();
    }

    /// <summary>Splits a channel name made by <see cref="ForObject"/> or <see cref="ForList"/>.</summary>
    /// <param name="channelName">The channel name.</param>
    /// <param name="entityName">The entity's channel name.</param>
    /// <param name="keyParts">The decoded key texts; <see langword="null"/> for a list channel.</param>
    /// <returns><see langword="false"/> when the name is not one of EfNotify's channels.</returns>
    public static bool TryParse(string channelName, out string entityName, out string[]? keyParts)
    {
        entityName = string.Empty;
        keyParts = null;
        if (string.IsNullOrEmpty(channelName) || channelName.Length > MaxLength
            || !channelName.StartsWith(PrivatePrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = channelName.AsSpan(PrivatePrefix.Length);
        var dot = rest.IndexOf('.');
        var name = dot < 0 ? rest : rest[..dot];
        if (name.IsEmpty)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        entityName = name.ToString();
        if (dot < 0)
        {
            return true;
        }

        var encodedParts = rest[(dot + 1)..].ToString().Split(',');
        var parts = new string[encodedParts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!KeyText.TryUnescape(encodedParts[i], out var part))
            {
                return false;
            }

            parts[i] = part;
        }

        keyParts = parts;
        return true;
    }

    /// <summary>Converts a decoded key text from <see cref="TryParse"/> back to a store value of <paramref name="type"/>.</summary>
    internal static bool TryConvertKeyText(string text, Type type, out object? value) => KeyText.TryConvert(text, type, out value);
}
