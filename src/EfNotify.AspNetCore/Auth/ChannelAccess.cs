using System.Security.Claims;
using EfNotify.Capture;
using EfNotify.Channels;
using EfNotify.Pusher;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfNotify.AspNetCore.Auth;

/// <summary>The outcome of an access check; every refusal but the rate limit's becomes a bare status code.</summary>
internal enum AccessOutcome
{
    Granted,
    RateLimited,
    Unauthenticated,
    Forbidden,
}

/// <summary>An access check's outcome, and how long to wait when the user is over the rate limit.</summary>
internal readonly record struct AccessDecision(AccessOutcome Outcome, TimeSpan RetryAfter = default)
{
    public static readonly AccessDecision Granted = new(AccessOutcome.Granted);
}

/// <summary>
/// The whole decision on who may subscribe to one of EfNotify's channels or sign in: the rate limit, the sign-in, the
/// required role and policy, presence, encryption and whether the user may read the channel's object.
/// </summary>
internal interface IChannelAccess
{
    /// <summary>What every request is checked for before its form is read: the user's rate limit, then the sign-in.</summary>
    /// <param name="http">The request.</param>
    /// <param name="needsUserId">Whether the user must also have an id (a sign-in does; see <see cref="UserIds"/>).</param>
    AccessDecision Admit(HttpContext http, bool needsUserId);

    /// <summary>Whether an admitted user may subscribe to a channel.</summary>
    /// <param name="user">The authenticated user.</param>
    /// <param name="channelName">A channel name that passed Pusher's grammar.</param>
    /// <param name="cancellationToken">Cancels the database query.</param>
    Task<AccessDecision> DecideAsync(ClaimsPrincipal user, string channelName, CancellationToken cancellationToken);
}

internal sealed partial class ChannelAccess<TContext>(
    TContext context,
    IAuthorizationService authorization,
    AuthRateLimiter limiter,
    PusherEncryption encryption,
    IOptions<EfNotifyAspNetCoreOptions> options,
    ILogger<ChannelAccess<TContext>> logger) : IChannelAccess
    where TContext : DbContext
{
    public AccessDecision Admit(HttpContext http, bool needsUserId)
    {
        if (!limiter.TryAcquire(http, out var retryAfter))
        {
            LogRateLimited(logger);
            return new AccessDecision(AccessOutcome.RateLimited, retryAfter);
        }

        return http.User.Identity?.IsAuthenticated == true && (!needsUserId || UserIds.Of(http.User).Length > 0)
            ? AccessDecision.Granted
            : new AccessDecision(AccessOutcome.Unauthenticated);
    }

    public async Task<AccessDecision> DecideAsync(ClaimsPrincipal user, string channelName, CancellationToken cancellationToken)
    {
        return await HasRequiredRoleAndPolicyAsync(user).ConfigureAwait(false)
               && await MayReadAsync(user, channelName, cancellationToken).ConfigureAwait(false)
            ? AccessDecision.Granted
            : new AccessDecision(AccessOutcome.Forbidden);
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

    private async Task<bool> MayReadAsync(ClaimsPrincipal user, string channelName, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var presence = PusherProtocol.IsPresence(channelName);
        if (presence && !settings.AllowPresence)
        {
            return Refuse(channelName, "presence channels are turned off");
        }

        var privateName = presence ? ChannelNames.PrivatePrefix + channelName[PusherProtocol.PresencePrefix.Length..] : DecryptedName(channelName);
        if (privateName is null)
        {
            return Refuse(channelName, "no event of this entity is encrypted, so nothing is sent on this channel");
        }

        if (!ChannelNames.TryParse(privateName, out var entityName, out var keyParts))
        {
            return Refuse(channelName, "not an EfNotify channel name");
        }

        var entityType = NotifyModel.Get(context.Model).FindByChannelName(entityName);
        if (entityType is null || entityType.IsOwned())
        {
            return Refuse(channelName, "no entity type has this channel name");
        }

        if (keyParts is null)
        {
            if (presence)
            {
                return Refuse(channelName, "presence channels are for objects, not lists");
            }

            var listRule = settings.FindListRule(entityType.ClrType);
            return listRule is not null && listRule(user) || Refuse(channelName, "no list rule grants it");
        }

        var key = EntityLoader.ConvertKey(entityType, keyParts);
        if (key is null)
        {
            return Refuse(channelName, "the key does not fit the entity's key type");
        }

        var entity = await EntityLoader.LoadAsync(context, entityType, key, cancellationToken).ConfigureAwait(false);
        if (entity is null)
        {
            return Refuse(channelName, "no such object for this user (missing, or hidden by a query filter)");
        }

        if (settings.FindObjectRule(entity.GetType()) is { } rule)
        {
            return rule(user, entity) || Refuse(channelName, "the entity's rule refuses");
        }

        var result = await authorization.AuthorizeAsync(user, entity, settings.ReadRequirement).ConfigureAwait(false);
        return result.Succeeded || Refuse(channelName, "no rule, and authorization did not grant the read requirement");
    }

    /// <summary>
    /// An encrypted channel is decided as the object's private channel, and only for an entity whose events are encrypted
    /// (<see langword="null"/> otherwise: a name no event goes to). Other private names are decided as they are.
    /// </summary>
    private string? DecryptedName(string channelName)
    {
        if (!channelName.StartsWith(PusherEncryption.ChannelPrefix, StringComparison.Ordinal))
        {
            return channelName;
        }

        var privateName = ChannelNames.PrivatePrefix + channelName[PusherEncryption.ChannelPrefix.Length..];
        return encryption.EncryptedChannelFor(privateName) == channelName ? privateName : null;
    }

    private bool Refuse(string channelName, string reason)
    {
        LogRefused(logger, channelName, reason);
        return false;
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "Subscription to {Channel} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string channel, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Subscription refused: the user is not in the role {Role}")]
    private static partial void LogRoleMissing(ILogger logger, string role);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Subscription refused: the user does not meet the policy {Policy}")]
    private static partial void LogPolicyFailed(ILogger logger, string policy);

    [LoggerMessage(EventId = 106, Level = LogLevel.Debug, Message = "Authorization request over the user's rate limit; answered 429")]
    private static partial void LogRateLimited(ILogger logger);
}
