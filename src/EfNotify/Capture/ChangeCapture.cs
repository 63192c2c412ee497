using EfNotify.Channels;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore.ChangeTracking.Internal;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Update;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Capture;

/// <summary>Turns tracked changes and queued <c>Notify</c> calls into pending notifications.</summary>
internal static class ChangeCapture
{
    /// <summary>
    /// Captures every added, modified and deleted entry of a [Notify] entity into <paramref name="target"/>; entries
    /// whose key the database has yet to generate go to <paramref name="deferred"/> when given, to be captured once known.
    /// </summary>
    public static void Tracked(
        DbContext context, NotifyModel model, CaptureContext capture, List<PendingNotification> target,
        List<(IUpdateEntry Entry, ChangeKind Kind)>? deferred)
    {
        if (model.IsEmpty)
        {
            return;
        }

        foreach (var entry in context.GetService<IStateManager>().Entries)
        {
            if (Kind(entry.EntityState) is not { } kind)
            {
                continue;
            }

            if (deferred is not null && HasTemporaryKey(entry, model))
            {
                deferred.Add((entry, kind));
            }
            else
            {
                Entry(entry, kind, model, capture, target);
            }
        }
    }

    public static void Entry(IUpdateEntry entry, ChangeKind kind, NotifyModel model, CaptureContext capture, List<PendingNotification> target)
    {
        var config = model.Find(entry.EntityType);
        if (config is null)
        {
            return;
        }

        var change = kind switch
        {
            ChangeKind.Added => NotifyChanges.Added,
            ChangeKind.Modified => NotifyChanges.Modified,
            _ => NotifyChanges.Deleted,
        };

        foreach (var notification in config.Notifications)
        {
            if ((notification.On & change) == 0
                || (kind == ChangeKind.Modified && notification.WhenChanged.Length > 0 && !AnyModified(entry, notification.WhenChanged)))
            {
                continue;
            }

            var values = notification.IncludeValues.Length == 0 ? null : ReadValues(entry, notification.IncludeValues);
            if (notification.ListChannel is { } list)
            {
                target.Add(New(list, [], notification, entry, kind, values, capture));
                continue;
            }

            if (ReadKey(entry, notification, original: false) is { } key)
            {
                target.Add(New(ChannelNames.ForObject(notification.TargetEntityName, key), key, notification, entry, kind, values, capture));
            }

            // A dependent moved to another principal: the principal it left learns of it too.
            if (notification.IsVia && kind == ChangeKind.Modified && AnyModified(entry, notification.KeyProperties)
                && ReadKey(entry, notification, original: true) is { } oldKey)
            {
                target.Add(New(ChannelNames.ForObject(notification.TargetEntityName, oldKey), oldKey, notification, entry, kind, values, capture));
            }
        }
    }

    /// <summary>A notification queued by <c>context.Notify(...)</c>, with the entity's key as it is now.</summary>
    public static PendingNotification Queued(DbContext dbContext, object? entity, IEntityType entityType, string action, CaptureContext capture)
    {
        var name = NotifyModel.GetChannelEntityName(entityType);
        object?[] key = [];
        if (entity is not null)
        {
            var entry = dbContext.Entry(entity).GetInfrastructure();
            var keyProperties = entityType.FindPrimaryKey()!.Properties;
            key = new object?[keyProperties.Count];
            for (var i = 0; i < key.Length; i++)
            {
                key[i] = ToStore(keyProperties[i], entry.GetCurrentValue(keyProperties[i]));
            }
        }

        return new PendingNotification
        {
            Channel = entity is null ? ChannelNames.ForList(name) : ChannelNames.ForObject(name, key), Action = action, EntityName = name,
            Key = key, Change = ChangeKind.Notified, At = capture.Now, By = capture.UserName, SocketId = capture.SocketId,
        };
    }

    /// <summary>What every notification captured now shares: the time and the notifier (a well-formed socket id only).</summary>
    public static CaptureContext Now(TimeProvider time, INotifierContext notifier)
    {
        var socketId = notifier.SocketId;
        return new CaptureContext(time.GetUtcNow(), notifier.UserName, PusherProtocol.IsValidSocketId(socketId) ? socketId : null);
    }

    public static bool HasTemporaryKey(IUpdateEntry entry, NotifyModel model)
    {
        var config = model.Find(entry.EntityType);
        if (config is null)
        {
            return false;
        }

        foreach (var notification in config.Notifications)
        {
            foreach (var property in notification.KeyProperties)
            {
                if (entry.HasTemporaryValue(property))
                {
                    return true;
                }
            }

            if (notification.IsVia)
            {
                foreach (var property in entry.EntityType.FindPrimaryKey()!.Properties)
                {
                    if (entry.HasTemporaryValue(property))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private static PendingNotification New(string channel, object?[] key, CompiledNotification notification, IUpdateEntry entry, ChangeKind kind,
        KeyValuePair<string, object?>[]? values, CaptureContext context)
    {
        object?[]? sourceKey = null;
        if (notification.IsVia)
        {
            var ownKey = entry.EntityType.FindPrimaryKey()!.Properties;
            sourceKey = new object?[ownKey.Count];
            for (var i = 0; i < sourceKey.Length; i++)
            {
                sourceKey[i] = ToStore(ownKey[i], entry.GetCurrentValue(ownKey[i]));
            }
        }

        return new PendingNotification
        {
            Channel = channel,
            Action = notification.Action,
            EntityName = notification.ListChannel is null ? notification.TargetEntityName : NotifyModel.GetChannelEntityName(entry.EntityType),
            Key = key,
            Change = kind,
            At = context.Now,
            By = context.UserName,
            SocketId = context.SocketId,
            SourceEntityName = notification.IsVia ? NotifyModel.GetChannelEntityName(entry.EntityType) : null,
            SourceKey = sourceKey,
            Values = values,
            CoalesceMilliseconds = notification.CoalesceMilliseconds,
        };
    }

    private static object?[]? ReadKey(IUpdateEntry entry, CompiledNotification notification, bool original)
    {
        var properties = notification.KeyProperties;
        var key = new object?[properties.Length];
        for (var i = 0; i < key.Length; i++)
        {
            var value = original ? entry.GetOriginalValue(properties[i]) : entry.GetCurrentValue(properties[i]);
            if (value is null)
            {
                return null; // an optional relationship with no principal: nobody to notify
            }

            key[i] = notification.KeyConverters[i] is { } converter ? converter.ConvertToProvider(value) : value;
        }

        return key;
    }

    private static object? ToStore(IProperty property, object? value)
        => value is not null && property.GetTypeMapping().Converter is { } converter ? converter.ConvertToProvider(value) : value;

    private static bool AnyModified(IUpdateEntry entry, IProperty[] properties)
    {
        foreach (var property in properties)
        {
            if (entry.IsModified(property))
            {
                return true;
            }
        }

        return false;
    }

    private static KeyValuePair<string, object?>[] ReadValues(IUpdateEntry entry, IProperty[] properties)
    {
        var values = new KeyValuePair<string, object?>[properties.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = new(properties[i].Name, entry.GetCurrentValue(properties[i]));
        }

        return values;
    }

    public static ChangeKind? Kind(EntityState state) => state switch
    {
        EntityState.Added => ChangeKind.Added,
        EntityState.Modified => ChangeKind.Modified,
        EntityState.Deleted => ChangeKind.Deleted,
        _ => null,
    };
}

/// <summary>What every notification of one capture shares: the time and the notifier.</summary>
internal readonly record struct CaptureContext(DateTimeOffset Now, string? UserName, string? SocketId);
