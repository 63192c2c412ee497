using System.Globalization;
using System.Text.Json;
using EfNotify.Channels;
using EfNotify.Pusher;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfNotify.AspNetCore.Auth;

/// <summary>
/// The request handlers behind <c>MapEfNotify</c>: they read the form, ask <see cref="IChannelAccess"/> and answer pusher-js.
/// Every refusal of a well-formed request is the same bare status code, so the answer never tells a missing object from one
/// that belongs to someone else; unauthenticated is 401 rather than a cookie scheme's redirect to a login page.
/// </summary>
internal static partial class PusherEndpoints
{
    private const int MaxFormLength = 4096;

    private static readonly FormOptions FormLimits = new()
    {
        ValueLengthLimit = MaxFormLength,
        KeyLengthLimit = 64,
        ValueCountLimit = 8,
    };

    /// <summary><c>GET {prefix}/key</c>: how a browser connects.</summary>
    public static Task Key(HttpContext http, string prefix)
    {
        var settings = http.RequestServices.GetRequiredService<IOptionsMonitor<PusherOptions>>().CurrentValue; // a rotated key is served at once
        var selfHosted = !string.IsNullOrWhiteSpace(settings.Host);
        var port = settings.Port ?? (settings.UseTls ? 443 : 80);
        var connection = new ConnectionOptions(
            selfHosted ? "" : settings.Cluster, // pusher-js 8 insists on a cluster; with wsHost set it is not used
            selfHosted ? settings.Host : null,
            selfHosted ? port : null,
            selfHosted ? port : null,
            settings.UseTls,
            ["ws", "wss"], // WebSocket only: pusher-js's HTTP fallbacks load scripts from Pusher's CDN, which a strict CSP refuses
            new AuthEndpoint(http.Request.PathBase.Add(prefix + "/auth").ToString()),
            new AuthEndpoint(http.Request.PathBase.Add(prefix + "/user-auth").ToString()));
        object? encrypted = string.IsNullOrEmpty(settings.EncryptionMasterKey) ? null
            : settings.EncryptedEntities.Count == 0 ? "*"
            : settings.EncryptedEntities.ToArray();

        http.Response.Headers.CacheControl = "no-store,no-cache";
        http.Response.Headers.Pragma = "no-cache";
        return http.Response.WriteAsJsonAsync(new KeyResponse(settings.Key, connection, encrypted), PusherResponseJsonContext.Default.KeyResponse);
    }

    /// <summary><c>POST {prefix}/auth</c>: signs a private, presence or encrypted channel subscription once access is granted.</summary>
    public static async Task Auth(HttpContext http)
    {
        var aborted = http.RequestAborted;
        var logger = Logger(http);
        try
        {
            var access = http.RequestServices.GetRequiredService<IChannelAccess>();
            if (await AdmittedFormAsync(http, access, needsUserId: false, logger).ConfigureAwait(false) is not (var form, var socketId))
            {
                return;
            }

            if (form["channel_name"] is not [{ } channelName] || !PusherProtocol.IsValidChannelName(channelName)
                || !(channelName.StartsWith(ChannelNames.PrivatePrefix, StringComparison.Ordinal)
                     || PusherProtocol.IsPresence(channelName)))
            {
                Malformed(http, logger, "channel_name missing, repeated, or not a private or presence channel name");
                return;
            }

            var decision = await access.DecideAsync(http.User, channelName, aborted).ConfigureAwait(false);
            if (decision.Outcome != AccessOutcome.Granted)
            {
                Refuse(http, decision);
                return;
            }

            await http.Response.WriteAsJsonAsync(SignedAnswer(http, socketId, channelName), PusherResponseJsonContext.Default.ChannelAuthResponse, cancellationToken: aborted)
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest; // the browser has gone; nobody reads this
        }
        catch (Exception exception) when (!http.Response.HasStarted)
        {
            // A broken rule, handler or database must not become a 500 that tells the caller more than a refusal does.
            LogFailed(logger, exception);
            Denied(http, StatusCodes.Status403Forbidden, "failed");
        }
    }

    /// <summary>
    /// <c>POST {prefix}/user-auth</c>, pusher-js's <c>signin()</c>: signs the user's id, so the server knows which connections
    /// are the user's and can close them (<see cref="ISubscriptionRevocation"/>).
    /// </summary>
    public static async Task UserAuth(HttpContext http)
    {
        var logger = Logger(http);
        var access = http.RequestServices.GetRequiredService<IChannelAccess>();
        if (await AdmittedFormAsync(http, access, needsUserId: true, logger).ConfigureAwait(false) is not (_, var socketId))
        {
            return;
        }

        var userData = JsonSerializer.Serialize(new SignedInUser(UserIds.Of(http.User)), PusherResponseJsonContext.Default.SignedInUser);
        var auth = http.RequestServices.GetRequiredService<PusherChannelAuthorizer>().AuthenticateUser(socketId, userData);
        await http.Response.WriteAsJsonAsync(new UserAuthResponse(auth, userData), PusherResponseJsonContext.Default.UserAuthResponse, cancellationToken: http.RequestAborted)
            .ConfigureAwait(false);
    }

    private static ChannelAuthResponse SignedAnswer(HttpContext http, string socketId, string channelName)
    {
        var authorizer = http.RequestServices.GetRequiredService<PusherChannelAuthorizer>();
        if (channelName.StartsWith(ChannelNames.PrivatePrefix, StringComparison.Ordinal))
        {
            var auth = authorizer.AuthorizePrivateChannel(socketId, channelName);
            return channelName.StartsWith(PusherEncryption.ChannelPrefix, StringComparison.Ordinal)
                ? new ChannelAuthResponse(auth, SharedSecret: authorizer.SharedSecret(channelName))
                : new ChannelAuthResponse(auth);
        }

        var id = UserIds.Of(http.User);
        var member = new PresenceMember(id, new PresenceMemberInfo(http.User.Identity?.Name ?? id));
        var channelData = JsonSerializer.Serialize(member, PusherResponseJsonContext.Default.PresenceMember);
        return new ChannelAuthResponse(authorizer.AuthorizePresenceChannel(socketId, channelName, channelData), ChannelData: channelData);
    }

    /// <summary>
    /// The form and its socket id once the user is admitted (rate limit, sign-in) and the socket id is well formed;
    /// <see langword="null"/> after answering the refusal.
    /// </summary>
    private static async Task<(IFormCollection Form, string SocketId)?> AdmittedFormAsync(HttpContext http, IChannelAccess access, bool needsUserId, ILogger logger)
    {
        var admitted = access.Admit(http, needsUserId);
        if (admitted.Outcome != AccessOutcome.Granted)
        {
            Refuse(http, admitted);
            return null;
        }

        if (await ReadFormAsync(http, logger).ConfigureAwait(false) is not { } form)
        {
            return null;
        }

        if (form["socket_id"] is not [{ } socketId] || !PusherProtocol.IsValidSocketId(socketId))
        {
            Malformed(http, logger, "socket_id missing, repeated or not like 1234.5678 (two integers of at most 20 digits)");
            return null;
        }

        return (form, socketId);
    }

    /// <summary>The form within EfNotify's limits, or <see langword="null"/> after answering 400.</summary>
    private static async Task<IFormCollection?> ReadFormAsync(HttpContext http, ILogger logger)
    {
        if (!http.Request.HasFormContentType)
        {
            Malformed(http, logger, "not a form post");
            return null;
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxFormLength;
        }

        http.Features.Set<IFormFeature>(new FormFeature(http.Request, FormLimits));
        try
        {
            return await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is InvalidDataException or IOException or BadHttpRequestException or FormatException
                                              or OperationCanceledException)
        {
            Malformed(http, logger, "unreadable form: " + exception.Message);
            return null;
        }
    }

    private static void Refuse(HttpContext http, AccessDecision decision)
    {
        switch (decision.Outcome)
        {
            case AccessOutcome.RateLimited:
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(decision.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                Denied(http, StatusCodes.Status429TooManyRequests, "rate_limited");
                break;
            case AccessOutcome.Unauthenticated:
                Denied(http, StatusCodes.Status401Unauthorized, "unauthenticated");
                break;
            default:
                Denied(http, StatusCodes.Status403Forbidden, "forbidden");
                break;
        }
    }

    private static void Malformed(HttpContext http, ILogger logger, string reason)
    {
        LogMalformed(logger, reason);
        Denied(http, StatusCodes.Status400BadRequest, "malformed");
    }

    private static void Denied(HttpContext http, int status, string reason)
    {
        http.RequestServices.GetRequiredService<AuthMetrics>().Denied(reason);
        http.Response.StatusCode = status;
    }

    private static ILogger Logger(HttpContext http)
        => http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("EfNotify.AspNetCore.Auth.PusherEndpoints");

    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "Malformed channel authorization request: {Reason}")]
    private static partial void LogMalformed(ILogger logger, string reason);

    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "Channel authorization failed; answered 403")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
