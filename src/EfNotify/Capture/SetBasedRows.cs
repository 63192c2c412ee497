using System.Data.Common;
using EfNotify.Outbox;

namespace EfNotify.Capture;

/// <summary>
/// The rows a set-based statement changed, as its <c>RETURNING</c> clause gave them, and the notifications they make:
/// one per object (coalesced as in a SaveChanges), one per list channel, or, above the row limit, only the list channels
/// and one event per notification on the notified type's list channel, carrying the count.
/// </summary>
internal sealed class SetBasedRows(SetBasedStatement statement, int rowLimit)
{
    private readonly List<object?[]> _rows = [];

    public int Count { get; private set; }

    public bool OverLimit => Count > rowLimit;

    public void Read(DbDataReader reader)
    {
        Count++;
        if (OverLimit)
        {
            _rows.Clear(); // only the count is sent now: keep no keys
            return;
        }

        var readers = statement.Target.Readers;
        var row = new object?[readers.Length];
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = readers[i](reader, i);
        }

        _rows.Add(row);
    }

    public List<PendingNotification> Notifications(CaptureContext context)
    {
        var result = new List<PendingNotification>();
        if (Count == 0)
        {
            return result;
        }

        var target = statement.Target;
        var change = statement.IsDelete ? NotifyChanges.Deleted : NotifyChanges.Modified;
        var kind = statement.IsDelete ? ChangeKind.Deleted : ChangeKind.Modified;
        var ownName = NotifyModel.GetChannelEntityName(target.EntityType);
        foreach (var notification in target.Notifications.Notifications)
        {
            if ((notification.On & change) == 0 || !WhenChangedMet(notification))
            {
                continue;
            }

            if (notification.ListChannel is not null || OverLimit)
            {
                var entity = notification.ListChannel is null ? notification.TargetEntityName : ownName;
                var listed = New(ChannelNames.ForList(entity), notification.Action, entity, [], kind, context, Count);
                listed.CoalesceMilliseconds = notification.CoalesceMilliseconds;
                result.Add(listed);
                continue;
            }

            foreach (var row in _rows)
            {
                if (Key(row, notification.KeyProperties) is not { } key)
                {
                    continue; // an optional relationship with no principal: nobody to notify
                }

                var pending = New(ChannelNames.ForObject(notification.TargetEntityName, key), notification.Action, notification.TargetEntityName, key, kind, context);
                if (notification.IsVia)
                {
                    pending.SourceEntityName = ownName;
                    pending.SourceKey = Key(row, target.EntityType.FindPrimaryKey()!.Properties);
                }

                pending.Values = notification.IncludeValues.Length == 0 ? null : Values(row, notification);
                pending.CoalesceMilliseconds = notification.CoalesceMilliseconds;
                result.Add(pending);
            }
        }

        return result;
    }

    private bool WhenChangedMet(CompiledNotification notification)
        => statement.IsDelete || notification.WhenChanged.Length == 0 || statement.SetProperties is not { } set
           || notification.WhenChanged.Any(set.Contains);

    private object?[]? Key(object?[] row, IReadOnlyList<Microsoft.EntityFrameworkCore.Metadata.IProperty> properties)
    {
        var key = new object?[properties.Count];
        for (var i = 0; i < key.Length; i++)
        {
            if ((key[i] = row[statement.Target.IndexOf(properties[i])]) is null)
            {
                return null;
            }
        }

        return key;
    }

    private KeyValuePair<string, object?>[] Values(object?[] row, CompiledNotification notification)
    {
        var values = new KeyValuePair<string, object?>[notification.IncludeValues.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var property = notification.IncludeValues[i];
            var value = row[statement.Target.IndexOf(property)];
            var converter = property.GetTypeMapping().Converter;
            values[i] = new(property.Name, value is not null && converter is not null ? converter.ConvertFromProvider(value) : value);
        }

        return values;
    }

    private static PendingNotification New(string channel, string action, string entity, object?[] key, ChangeKind kind, CaptureContext context, int? count = null)
        => new()
        {
            Channel = channel, Action = action, EntityName = entity, Key = key, Change = kind,
            At = context.Now, By = context.UserName, SocketId = context.SocketId, Count = count,
        };
}
