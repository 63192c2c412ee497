using System.Globalization;
using System.Text.Json;
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
/// Reads a refusal from a Pusher-protocol server's answer (the HTTP status and a JSON body <c>{"error":..,"code":..}</c>)
/// and tells what it concerns from its status (the HTTP status, or the code in soketi's body) and the server's message:
/// 401, 403 and 404 concern the application whatever they say; so do the messages hosted Pusher sends for a wrong key or
/// cluster (with 400), a bad signature or an expired timestamp, a disabled application or a spent quota.
/// 408, 429 and 5xx are transient; anything else (400, 413) concerns the events.
/// </summary>
internal static partial class PusherRefusals
{
    private const int MaxErrorTextLength = 300;

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

    /// <summary>Throws <see cref="PublishException"/> when the status or the JSON body says the request was refused.</summary>
    public static void ThrowIfRefused(int httpStatus, string body, PusherOptions options)
    {
        var (error, bodyCode) = ReadError(body);
        var succeeded = httpStatus is >= 200 and < 300;
        if (succeeded && error is null)
        {
            return;
        }

        // A real status wins; with HTTP 200 (soketi) the code in the body is the only one there is.
        int? code = succeeded ? bodyCode : httpStatus;
        var reason = error ?? (string.IsNullOrWhiteSpace(body) ? "(empty body)" : Shorten(body));
        var message = code is null
            ? $"The Pusher server refused the request: {reason}"
            : string.Create(CultureInfo.InvariantCulture, $"The Pusher server refused the request with {code}: {reason}");
        var kind = PusherRefusals.Classify(code, reason);
        throw new PublishException(Redact(message, options), code, kind == PusherRefusalKind.Transient)
        {
            Scope = kind == PusherRefusalKind.Application ? PublishRefusalScope.Application : PublishRefusalScope.Event,
        };
    }

    private static (string? Error, int? Code) ReadError(string body)
    {
        if (string.IsNullOrWhiteSpace(body) || body.TrimStart()[0] != '{')
        {
            return (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (!root.TryGetProperty("error", out var error) || error.ValueKind is JsonValueKind.Null or JsonValueKind.False)
            {
                return (null, null);
            }

            var text = error.ValueKind == JsonValueKind.String ? error.GetString() ?? "" : error.GetRawText();
            int? code = root.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var n) ? n : null;
            return (Shorten(text), code);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static string Shorten(string text)
    {
        text = text.Trim();
        return text.Length <= MaxErrorTextLength ? text : text[..MaxErrorTextLength] + "...";
    }

    private static string Redact(string message, PusherOptions options)
    {
        foreach (var secret in options.Secrets.Prepend(options.Secret))
        {
            if (!string.IsNullOrEmpty(secret))
            {
                message = message.Replace(secret, "***", StringComparison.Ordinal);
            }
        }

        return message;
    }

    // Phrases, not single words: a refusal of one event may quote its channel or event name, and those hold no spaces.
    [GeneratedRegex(
        @"\bauth_key\b|\binvalid signature\b|\btimestamp expired\b|\bsecret authentication failed\b|\bapp(lication)? (is )?disabled\b|\bover (your |its )?(daily )?(message )?quota\b|\bmessage quota\b|^the app \S+ could not be found",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ApplicationMessage();
}
