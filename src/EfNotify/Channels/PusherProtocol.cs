using System.Text.RegularExpressions;

namespace EfNotify.Channels;

/// <summary>
/// Pusher's protocol rules, the only copy in EfNotify: the socket-id pattern, the channel-name grammar and length limit,
/// and the prefixes that make a channel private, presence or end-to-end encrypted.
/// </summary>
internal static partial class PusherProtocol
{
    /// <summary>A channel that needs the server's signature to subscribe to.</summary>
    public const string PrivatePrefix = "private-";

    /// <summary>A private channel that also tells who is subscribed.</summary>
    public const string PresencePrefix = "presence-";

    /// <summary>A private channel whose event data is encrypted end to end.</summary>
    public const string EncryptedPrefix = "private-encrypted-";

    /// <summary>The longest channel name Pusher accepts, prefix included.</summary>
    public const int MaxChannelNameLength = 164;

    /// <summary>Whether <paramref name="socketId"/> looks like a connection's socket id (<c>1234.5678</c>).</summary>
    public static bool IsValidSocketId(string? socketId) => socketId is not null && SocketIdPattern().IsMatch(socketId);

    /// <summary>Whether <paramref name="channelName"/> fits Pusher's channel grammar and length limit.</summary>
    public static bool IsValidChannelName(string? channelName)
        => channelName is { Length: > 0 and <= MaxChannelNameLength } && ChannelNamePattern().IsMatch(channelName);

    /// <summary>Whether <paramref name="channelName"/> starts with <see cref="PresencePrefix"/>.</summary>
    public static bool IsPresence(string channelName) => channelName.StartsWith(PresencePrefix, StringComparison.Ordinal);

    /// <exception cref="ArgumentException">The socket id is malformed.</exception>
    public static void ValidateSocketId(string socketId, string paramName)
    {
        ArgumentNullException.ThrowIfNull(socketId, paramName);
        if (!IsValidSocketId(socketId))
        {
            throw new ArgumentException($"The socket id '{Shorten(socketId)}' is not valid: it must look like '1234.5678' (1 to 20 digits, a dot, 1 to 20 digits).", paramName);
        }
    }

    /// <exception cref="ArgumentException">The channel name is empty, too long or has a character Pusher does not allow.</exception>
    public static void ValidateChannelName(string channelName, string paramName)
    {
        ArgumentNullException.ThrowIfNull(channelName, paramName);
        if (channelName.Length == 0)
        {
            throw new ArgumentException("The channel name is empty.", paramName);
        }

        if (channelName.Length > MaxChannelNameLength)
        {
            throw new ArgumentException($"The channel name is {channelName.Length} characters long; Pusher allows at most {MaxChannelNameLength}.", paramName);
        }

        if (!ChannelNamePattern().IsMatch(channelName))
        {
            throw new ArgumentException($"The channel name '{channelName}' contains a character Pusher does not allow: use only letters, digits and - _ = @ , . ;", paramName);
        }
    }

    /// <exception cref="ArgumentException">The channel name does not start with <paramref name="prefix"/>.</exception>
    public static void RequirePrefix(string channelName, string prefix, string kind, string paramName)
    {
        if (!channelName.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The channel '{channelName}' is not {kind} channel: its name must start with '{prefix}'.", paramName);
        }
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "...";

    [GeneratedRegex("^[0-9]{1,20}\\.[0-9]{1,20}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex SocketIdPattern();

    [GeneratedRegex("^[-a-zA-Z0-9_=@,.;]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ChannelNamePattern();
}
