using System.Text.RegularExpressions;

namespace EfNotify.Pusher;

/// <summary>The grammar of socket ids and channel names that Pusher accepts.</summary>
internal static partial class PusherNames
{
    public const int MaxChannelNameLength = 164;

    public static void ValidateSocketId(string socketId, string paramName)
    {
        ArgumentNullException.ThrowIfNull(socketId, paramName);
        if (!SocketIdPattern().IsMatch(socketId))
        {
            throw new ArgumentException($"The socket id '{Shorten(socketId)}' is not valid: it must look like '1234.5678' (1 to 20 digits, a dot, 1 to 20 digits).", paramName);
        }
    }

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

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "...";

    [GeneratedRegex("^[0-9]{1,20}\\.[0-9]{1,20}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex SocketIdPattern();

    [GeneratedRegex("^[-a-zA-Z0-9_=@,.;]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ChannelNamePattern();
}
