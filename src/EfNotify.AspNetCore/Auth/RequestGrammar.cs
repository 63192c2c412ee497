using System.Text.RegularExpressions;

namespace EfNotify.AspNetCore.Auth;

/// <summary>What a socket id and a channel name sent by a browser must look like before anything else is decided.</summary>
// TODO(issue 11): use the Channels rules (the one copy of Pusher's grammar in src/EfNotify/Channels) instead of these.
internal static partial class RequestGrammar
{
    /// <summary>Two integers of at most 20 digits joined by a dot, as Pusher hands them out (<c>1234.5678</c>).</summary>
    public static bool IsSocketId(string? value) => value is { Length: <= 41 } && SocketIdPattern().IsMatch(value);

    /// <summary>Pusher's channel grammar and length limit.</summary>
    public static bool IsChannelName(string? value)
        => value is { Length: > 0 and <= ChannelNames.MaxLength } && ChannelNamePattern().IsMatch(value);

    [GeneratedRegex("^[0-9]{1,20}\\.[0-9]{1,20}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex SocketIdPattern();

    [GeneratedRegex("^[-a-zA-Z0-9_=@,.;]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ChannelNamePattern();
}
