using System.Buffers;
using System.ComponentModel;
using System.Globalization;
using System.Text;

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
    public const string PrivatePrefix = "private-";

    /// <summary>The longest channel name Pusher accepts, prefix included.</summary>
    public const int MaxLength = 164;

    private const string Hex = "0123456789ABCDEF";

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
        if (keyValues.Length == 1 && FormatKeyValue(keyValues[0]) is var single && IsLiteral(single)
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

            AppendEscaped(builder, FormatKeyValue(keyValues[i]));
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
            if (!TryUnescape(encodedParts[i], out var part))
            {
                return false;
            }

            parts[i] = part;
        }

        keyParts = parts;
        return true;
    }

    /// <summary>Converts a decoded key text back to a store value of the given type.</summary>
    /// <param name="text">The key text from <see cref="TryParse"/>.</param>
    /// <param name="type">The store (provider) type of the key property.</param>
    /// <param name="value">The value.</param>
    /// <returns><see langword="false"/> when the text is not a valid value of that type.</returns>
    public static bool TryConvertKeyText(string text, Type type, out object? value)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        value = null;
        try
        {
            if (type == typeof(string))
            {
                value = text;
            }
            else if (type == typeof(Guid))
            {
                if (!Guid.TryParseExact(text, "D", out var guid))
                {
                    return false;
                }

                value = guid;
            }
            else if (type == typeof(byte[]))
            {
                value = Convert.FromHexString(text);
            }
            else if (type == typeof(DateTime))
            {
                value = DateTime.ParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            }
            else if (type == typeof(DateTimeOffset))
            {
                value = DateTimeOffset.ParseExact(text, "O", CultureInfo.InvariantCulture);
            }
            else
            {
                value = TypeDescriptor.GetConverter(type).ConvertFromInvariantString(text);
            }

            // Only the canonical spelling maps back: "007" is not the key 7, so one object has one channel.
            return value is not null && FormatKeyValue(value) == text;
        }
        catch (Exception exception) when (exception is FormatException or NotSupportedException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    internal static string FormatKeyValue(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        Guid g => g.ToString("D"),
        byte[] bytes => Convert.ToHexString(bytes),
        DateTime d => d.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset d => d.ToString("O", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => TypeDescriptor.GetConverter(value).ConvertToInvariantString(value) ?? string.Empty,
    };

    private static bool IsLiteral(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '@';

    private static bool IsLiteral(string text)
    {
        foreach (var c in text)
        {
            if (!IsLiteral(c))
            {
                return false;
            }
        }

        return true;
    }

    private static void AppendEscaped(StringBuilder builder, string text)
    {
        if (IsLiteral(text))
        {
            builder.Append(text);
            return;
        }

        var byteCount = Encoding.UTF8.GetByteCount(text);
        var rented = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            var written = Encoding.UTF8.GetBytes(text, rented);
            foreach (var b in rented.AsSpan(0, written))
            {
                if (b < 0x80 && IsLiteral((char)b))
                {
                    builder.Append((char)b);
                }
                else
                {
                    builder.Append('=').Append(Hex[b >> 4]).Append(Hex[b & 0xF]);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool TryUnescape(string encoded, out string text)
    {
        text = string.Empty;
        if (encoded.IndexOf('=', StringComparison.Ordinal) < 0)
        {
            text = encoded;
            return IsLiteral(encoded);
        }

        var bytes = new List<byte>(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '=')
            {
                if (i + 2 >= encoded.Length)
                {
                    return false;
                }

                var high = Hex.IndexOf(encoded[i + 1], StringComparison.Ordinal);
                var low = Hex.IndexOf(encoded[i + 2], StringComparison.Ordinal);
                if (high < 0 || low < 0)
                {
                    return false;
                }

                var b = (byte)((high << 4) | low);
                if (b < 0x80 && IsLiteral((char)b))
                {
                    return false; // not canonical: a literal character was escaped
                }

                bytes.Add(b);
                i += 2;
            }
            else if (IsLiteral(c))
            {
                bytes.Add((byte)c);
            }
            else
            {
                return false;
            }
        }

        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString([.. bytes]);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
