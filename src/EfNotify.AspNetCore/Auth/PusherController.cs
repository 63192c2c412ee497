using System.Buffers;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using EfNotify.Pusher;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfNotify.AspNetCore.Auth;

/// <summary>
/// <c>GET /pusher/key</c> tells a browser how to connect; <c>POST /pusher/auth</c> signs a channel subscription for pusher-js
/// once <see cref="IChannelAccess"/> says the user may read the channel's object; <c>POST /pusher/user-auth</c> signs the
/// user in, so that the user's connections can be closed when access changes (<see cref="ISubscriptionRevocation"/>).
/// </summary>
/// <remarks>
/// Anonymous on purpose: the authentication check is made here, so an unauthenticated request gets 401 rather than a
/// cookie scheme's redirect to a login page, and a refusal gets 403 rather than a redirect to an access-denied page.
/// Every refusal of a well-formed request is the same bare 403, so the answer never tells a missing object from one
/// that belongs to someone else.
/// </remarks>
[Route("pusher")]
[AllowAnonymous]
[ApiExplorerSettings(IgnoreApi = true)]
internal sealed partial class PusherController(
    IChannelAccess access,
    PusherChannelAuthorizer authorizer,
    AuthRateLimiter limiter,
    AuthMetrics metrics,
    IAuthorizationService authorization,
    IOptionsMonitor<PusherOptions> pusherOptions,
    PusherEncryption encryption,
    IOptions<EfNotifyAspNetCoreOptions> options,
    ILogger<PusherController> logger) : ControllerBase
{
    private const int MaxFormLength = 4096;

    [HttpPost("auth")]
    [IgnoreAntiforgeryToken]
    [RequestSizeLimit(MaxFormLength)]
    [RequestFormLimits(ValueLengthLimit = MaxFormLength, KeyLengthLimit = 64, ValueCountLimit = 8)]
    public async Task<IActionResult> Auth()
    {
        var aborted = HttpContext.RequestAborted;
        try
        {
            if (!limiter.TryAcquire(HttpContext, out var retryAfter))
            {
                return RateLimited(retryAfter);
            }

            if (User.Identity?.IsAuthenticated != true)
            {
                return Denied(StatusCodes.Status401Unauthorized, "unauthenticated");
            }

            if (!Request.HasFormContentType)
            {
                return Malformed("not a form post");
            }

            IFormCollection form;
            try
            {
                form = await Request.ReadFormAsync(aborted).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is InvalidDataException or IOException or BadHttpRequestException or FormatException)
            {
                return Malformed("unreadable form: " + exception.Message);
            }

            if (form["socket_id"] is not [{ } socketId] || !SocketIdPattern().IsMatch(socketId))
            {
                return Malformed("socket_id missing, repeated or not like 1234.5678 (two integers of at most 20 digits)");
            }

            if (form["channel_name"] is not [{ } channelName] || channelName.Length > ChannelNames.MaxLength
                || !ChannelNamePattern().IsMatch(channelName)
                || !(channelName.StartsWith(ChannelNames.PrivatePrefix, StringComparison.Ordinal)
                     || channelName.StartsWith(PresenceChannels.Prefix, StringComparison.Ordinal)))
            {
                return Malformed("channel_name missing, repeated, or not a private or presence channel name");
            }

            if (!await HasRequiredRoleAndPolicyAsync(User).ConfigureAwait(false)
                || !await access.MayReadAsync(User, ChannelToCheck(channelName), aborted).ConfigureAwait(false))
            {
                return Denied(StatusCodes.Status403Forbidden, "forbidden");
            }

            return SignedAnswer(socketId, channelName);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return StatusCode(StatusCodes.Status400BadRequest); // the browser has gone; nobody reads this
        }
        catch (Exception exception)
        {
            // A broken rule, handler or database must not become a 500 that tells the caller more than a refusal does.
            LogFailed(logger, exception);
            return Denied(StatusCodes.Status403Forbidden, "failed");
        }
    }

    private async Task<bool> HasRequiredRoleAndPolicyAsync(ClaimsPrincipal user)
    {
        var settings = options.Value;
        if (!string.IsNullOrEmpty(settings.RequiredRole) && !user.IsInRole(settings.RequiredRole))
        {
            LogRoleMissing(logger, settings.RequiredRole);
            return false;
        }

        if (!string.IsNullOrEmpty(settings.RequiredPolicy)
            && !(await authorization.AuthorizeAsync(user, settings.RequiredPolicy).ConfigureAwait(false)).Succeeded)
        {
            LogPolicyFailed(logger, settings.RequiredPolicy);
            return false;
        }

        return true;
    }

    private ContentResult SignedAnswer(string socketId, string channelName)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (channelName.StartsWith(ChannelNames.PrivatePrefix, StringComparison.Ordinal))
            {
                writer.WriteString("auth", authorizer.AuthorizePrivateChannel(socketId, channelName));
                if (channelName.StartsWith(PusherEncryption.ChannelPrefix, StringComparison.Ordinal))
                {
                    writer.WriteString("shared_secret", authorizer.SharedSecret(channelName));
                }
            }
            else
            {
                var channelData = PresenceChannelData(User);
                writer.WriteString("auth", authorizer.AuthorizePresenceChannel(socketId, channelName, channelData));
                writer.WriteString("channel_data", channelData);
            }

            writer.WriteEndObject();
        }

        return Content(Encoding.UTF8.GetString(buffer.WrittenSpan), "application/json");
    }

    private static string PresenceChannelData(ClaimsPrincipal user)
    {
        var name = user.Identity?.Name;
        var id = UserIds.Of(user);
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("user_id", id);
            writer.WriteStartObject("user_info");
            writer.WriteString("name", name ?? id);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// An encrypted channel is decided as the object's private channel, and only for an entity whose events are encrypted:
    /// a name no event goes to is refused. Other names are decided as they are.
    /// </summary>
    private string ChannelToCheck(string channelName)
    {
        if (!channelName.StartsWith(PusherEncryption.ChannelPrefix, StringComparison.Ordinal))
        {
            return channelName;
        }

        var privateName = ChannelNames.PrivatePrefix + channelName[PusherEncryption.ChannelPrefix.Length..];
        return encryption.EncryptedChannelFor(privateName) == channelName ? privateName : "";
    }

    private StatusCodeResult Denied(int status, string reason)
    {
        metrics.Denied(reason);
        return StatusCode(status);
    }

    private StatusCodeResult RateLimited(TimeSpan retryAfter)
    {
        LogRateLimited(logger);
        Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Denied(StatusCodes.Status429TooManyRequests, "rate_limited");
    }

    private StatusCodeResult Malformed(string reason)
    {
        LogMalformed(logger, reason);
        return Denied(StatusCodes.Status400BadRequest, "malformed");
    }

    [GeneratedRegex("^[0-9]{1,20}\\.[0-9]{1,20}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex SocketIdPattern();

    [GeneratedRegex("^[-a-zA-Z0-9_=@,.;]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ChannelNamePattern();

    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "Malformed channel authorization request: {Reason}")]
    private static partial void LogMalformed(ILogger logger, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Subscription refused: the user is not in the role {Role}")]
    private static partial void LogRoleMissing(ILogger logger, string role);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Subscription refused: the user does not meet the policy {Policy}")]
    private static partial void LogPolicyFailed(ILogger logger, string policy);

    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "Channel authorization failed; answered 403")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 106, Level = LogLevel.Debug, Message = "Authorization request over the user's rate limit; answered 429")]
    private static partial void LogRateLimited(ILogger logger);
}
