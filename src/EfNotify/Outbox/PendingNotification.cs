namespace EfNotify.Outbox;

/// <summary>A notification captured in a unit of work, waiting for its transaction to commit.</summary>
internal sealed class PendingNotification
{
    public required string Channel { get; init; }

    public required string Action { get; init; }

    public required string EntityName { get; init; }

    public required object?[] Key { get; init; }

    public required ChangeKind Change { get; set; }

    public required DateTimeOffset At { get; set; }

    public string? By { get; init; }

    public string? SocketId { get; init; }

    public string? SourceEntityName { get; set; }

    public object?[]? SourceKey { get; set; }

    public KeyValuePair<string, object?>[]? Values { get; set; }

    /// <summary>How many changes this notification stands for, when it stands for several (a set-based statement's rows).</summary>
    public int? Count { get; set; }

    /// <summary>The coalescing window in milliseconds the dispatcher applies to this notification's channel and action; 0 for none.</summary>
    public int CoalesceMilliseconds { get; set; }

    /// <summary>Several changes to one object and action in one transaction become one notification.</summary>
    public void MergeLater(PendingNotification later)
    {
        Change = (Change, later.Change) switch
        {
            (_, ChangeKind.Deleted) => ChangeKind.Deleted,
            (ChangeKind.Added, _) => ChangeKind.Added,
            _ => later.Change,
        };
        At = later.At;
        CoalesceMilliseconds = Math.Max(CoalesceMilliseconds, later.CoalesceMilliseconds);
        Values = later.Values ?? Values;
        if (Count is not null || later.Count is not null)
        {
            Count = (Count ?? 1) + (later.Count ?? 1);
        }
    }
}

internal enum ChangeKind
{
    Added,
    Modified,
    Deleted,
    Notified,
}
