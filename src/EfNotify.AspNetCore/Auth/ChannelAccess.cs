using System.Security.Claims;
using EfNotify.Capture;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfNotify.AspNetCore.Auth;

/// <summary>Decides whether an authenticated user may subscribe to one of EfNotify's channels.</summary>
internal interface IChannelAccess
{
    /// <param name="user">The authenticated user.</param>
    /// <param name="channelName">A channel name that passed Pusher's grammar, <c>private-</c> or <c>presence-</c>.</param>
    /// <param name="cancellationToken">Cancels the database query.</param>
    Task<bool> MayReadAsync(ClaimsPrincipal user, string channelName, CancellationToken cancellationToken);
}

internal static class PresenceChannels
{
    public const string Prefix = "presence-";
}

internal sealed partial class ChannelAccess<TContext>(
    TContext context,
    IAuthorizationService authorization,
    IOptions<EfNotifyAspNetCoreOptions> options,
    ILogger<ChannelAccess<TContext>> logger) : IChannelAccess
    where TContext : DbContext
{
    public async Task<bool> MayReadAsync(ClaimsPrincipal user, string channelName, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var presence = channelName.StartsWith(PresenceChannels.Prefix, StringComparison.Ordinal);
        if (presence && !settings.AllowPresence)
        {
            return Refuse(channelName, "presence channels are turned off");
        }

        var privateName = presence ? ChannelNames.PrivatePrefix + channelName[PresenceChannels.Prefix.Length..] : channelName;
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

    private bool Refuse(string channelName, string reason)
    {
        LogRefused(logger, channelName, reason);
        return false;
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "Subscription to {Channel} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string channel, string reason);
}
