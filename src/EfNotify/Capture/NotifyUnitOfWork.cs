using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Update;

namespace EfNotify.Capture;

/// <summary>
/// The notifications of one DbContext's unit of work. It lives in the context's own (EF internal) service scope,
/// so a shared or pooled interceptor keeps no per-save state of its own; EF resets it when a pooled context is returned.
/// </summary>
internal sealed class NotifyUnitOfWork : IResettableService
{
    /// <summary>Resolved notifications of <see cref="PendingTransaction"/>, written when it commits.</summary>
    public List<PendingNotification> Pending { get; } = [];

    public DbTransaction? PendingTransaction { get; set; }

    /// <summary>Entries of the save in progress whose keys the database generates: resolved once known.</summary>
    public List<(IUpdateEntry Entry, ChangeKind Kind)> Deferred { get; } = [];

    /// <summary>Notifications queued by <c>context.Notify(...)</c>, resolved at the next commit.</summary>
    public List<(object? Entity, IEntityType EntityType, string Action)> Manual { get; } = [];

    /// <summary>Where the save in progress (inside an explicit transaction) started appending to <see cref="Pending"/>.</summary>
    public int SaveStart { get; set; } = -1;

    /// <summary>The save in progress runs in a transaction SaveChanges opens itself.</summary>
    public bool ImplicitSave { get; set; }

    /// <summary>The save in progress runs in an ambient System.Transactions transaction.</summary>
    public bool AmbientSave { get; set; }

    /// <summary>The auto-transaction behaviour to restore after a save that EfNotify made transactional.</summary>
    public AutoTransactionBehavior? RestoreBehavior { get; set; }

    /// <summary>An outbox row was written in the transaction now committing: wake the dispatcher after the commit.</summary>
    public bool Wrote { get; set; }

    /// <summary>How many notifications the row of <see cref="Wrote"/> holds: counted as captured once the commit succeeded.</summary>
    public int WrittenCount { get; set; }

    public void Capture(IUpdateEntry entry, ChangeKind kind, NotifyModel model, CaptureContext context)
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
                Add(list, [], notification, entry, kind, values, context);
                continue;
            }

            if (ReadKey(entry, notification, original: false) is { } key)
            {
                Add(ChannelNames.ForObject(notification.TargetEntityName, key), key, notification, entry, kind, values, context);
            }

            // A dependent moved to another principal: the principal it left learns of it too.
            if (notification.IsVia && kind == ChangeKind.Modified && AnyModified(entry, notification.KeyProperties)
                && ReadKey(entry, notification, original: true) is { } oldKey)
            {
                Add(ChannelNames.ForObject(notification.TargetEntityName, oldKey), oldKey, notification, entry, kind, values, context);
            }
        }
    }

    public void CaptureManual(object? entity, IEntityType entityType, string action, DbContext dbContext, CaptureContext context)
    {
        var name = NotifyModel.GetChannelEntityName(entityType);
        if (entity is null)
        {
            Pending.Add(new PendingNotification
            {
                Channel = ChannelNames.ForList(name), Action = action, EntityName = name, Key = [], Change = ChangeKind.Notified,
                At = context.Now, By = context.UserName, SocketId = context.SocketId,
            });
            return;
        }

        var entry = dbContext.Entry(entity).GetInfrastructure();
        var keyProperties = entityType.FindPrimaryKey()!.Properties;
        var key = new object?[keyProperties.Count];
        for (var i = 0; i < key.Length; i++)
        {
            key[i] = ToStore(keyProperties[i], entry.GetCurrentValue(keyProperties[i]));
        }

        Pending.Add(new PendingNotification
        {
            Channel = ChannelNames.ForObject(name, key), Action = action, EntityName = name, Key = key, Change = ChangeKind.Notified,
            At = context.Now, By = context.UserName, SocketId = context.SocketId,
        });
    }

    /// <summary>
    /// Adds notifications captured outside SaveChanges (a set-based statement) to the explicit transaction that ran them:
    /// written when it commits, dropped when it rolls back.
    /// </summary>
    public void QueueInTransaction(DbTransaction transaction, List<PendingNotification> notifications)
    {
        if (!ReferenceEquals(PendingTransaction, transaction))
        {
            Pending.Clear(); // left by a transaction that was disposed without commit
            PendingTransaction = transaction;
        }

        Pending.AddRange(notifications);
    }

    public void ResetState()
    {
        Pending.Clear();
        PendingTransaction = null;
        Deferred.Clear();
        Manual.Clear();
        SaveStart = -1;
        ImplicitSave = false;
        AmbientSave = false;
        RestoreBehavior = null;
        Wrote = false;
        WrittenCount = 0;
    }

    public Task ResetStateAsync(CancellationToken cancellationToken = default)
    {
        ResetState();
        return Task.CompletedTask;
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

    private void Add(string channel, object?[] key, CompiledNotification notification, IUpdateEntry entry, ChangeKind kind,
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

        Pending.Add(new PendingNotification
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
        });
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
}

/// <summary>What every notification of one capture shares: the time and the notifier.</summary>
internal readonly record struct CaptureContext(DateTimeOffset Now, string? UserName, string? SocketId);
