using System.Text.RegularExpressions;

namespace EfNotify.Pusher;

/// <summary>How EfNotify treats a refusal by a Pusher-protocol server.</summary>
internal enum PusherRefusalKind
{
    /// <summary>The events of the request are at fault: dead-letter them, the others go on.</summary>
    Event,

    /// <summary>The application is at fault (credentials, clock, account, app id): pause and keep every event.</summary>
    Application,

    /// <summary>The server or the network is busy or failing: retry the same events later.</summary>
    Transient,
}

/// <summary>
/// Tells what a refusal concerns from its status (the HTTP status, or the code in soketi's body) and the server's
/// message: 401, 403 and 404 concern the application whatever they say; so do the messages hosted Pusher sends for a
/// wrong key or cluster (with 400), a bad signature or an expired timestamp, a disabled application or a spent quota.
/// 408, 429 and 5xx are transient; anything else (400, 413) concerns the events.
/// </summary>
internal static partial class PusherRefusals
{
    public static PusherRefusalKind Classify(int? code, string? message)
    {
        if (code is 408 or 429 or >= 500)
        {
            return PusherRefusalKind.Transient;
        }

        if (code is 401 or 403 or 404)
        {
            return PusherRefusalKind.Application;
        }

        // A 413 is about the event's size, whatever it says; otherwise the words decide (hosted Pusher answers 400 to an
        // unknown key, and a server may give no code at all).
        return code != 413 && message is not null && ApplicationMessage().IsMatch(message)
            ? PusherRefusalKind.Application
            : PusherRefusalKind.Event;
    }

    // Phrases, not single words: a refusal of one event may quote its channel or event name, and those hold no spaces.
    [GeneratedRegex(
        @"\bauth_key\b|\binvalid signature\b|\btimestamp expired\b|\bsecret authentication failed\b|\bapp(lication)? (is )?disabled\b|\bover (your |its )?(daily )?(message )?quota\b|\bmessage quota\b|^the app \S+ could not be found",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ApplicationMessage();
}
