using System.Buffers;
using System.ComponentModel;
using System.Globalization;
using System.Text;

namespace EfNotify.Channels;

/// <summary>
/// The text of a key inside a channel name: each value in its invariant, round-trippable spelling, encoded reversibly so
/// that it fits Pusher's channel grammar (letters, digits, <c>-</c>, <c>_</c> and <c>@</c> as they are, every other character
/// as <c>=XX</c> per UTF-8 byte).
/// </summary>
internal static class KeyText
{
    private const string Hex = "0123456789ABCDEF";

    /// <summary>Converts a decoded key text back to a store value of the given type.</summary>
    /// <param name="text">The key text from <see cref="ChannelNames.TryParse"/>.</param>
    /// <param name="type">The store (provider) type of the key property.</param>
    /// <param name="value">The value.</param>
    /// <returns><see langword="false"/> when the text is not a valid value of that type.</returns>
    public static bool TryConvert(string text, Type type, out object? value)
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
            return value is not null && Format(value) == text;
        }
        catch (Exception exception) when (exception is FormatException or NotSupportedException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    public static string Format(object? value) => value switch
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

    public static bool IsLiteral(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '@';

    public static bool IsLiteral(string text)
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

    public static void AppendEscaped(StringBuilder builder, string text)
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

    public static bool TryUnescape(string encoded, out string text)
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
