namespace EfNotify;

/// <summary>
/// A row of the outbox table: the notifications of one committed transaction, written in that transaction
/// and published by the dispatcher afterwards. Map it with <c>modelBuilder.AddEfNotifyOutbox()</c>.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>The row id; increases with insertion order, which is the order of publication.</summary>
    public long Id { get; set; }

    /// <summary>When the transaction wrote the row (UTC).</summary>
    public DateTime CreatedAt { get; set; }

    /// <summary>
    /// The notifications, as JSON: an object with what they share (<c>"v"</c>, the format version, then <c>"id"</c>,
    /// <c>"at"</c>, <c>"by"</c>, <c>"socketId"</c>) and <c>"items"</c>, one
    /// <c>[channel, event, entity, key, change, {source, values, …}?]</c> array per notification, from which the message
    /// browsers receive is built when the row is published (each notification's id is derived from <c>"id"</c> and its
    /// place in the row). Rows written by EfNotify before this format (a JSON array of
    /// <c>{"channel","event","socketId","data"}</c>) are still read and published.
    /// </summary>
    public string Payload { get; set; } = "[]";

    /// <summary>How many notifications <see cref="Payload"/> holds.</summary>
    public int Count { get; set; }

    /// <summary>Pending, delivered or dead-lettered.</summary>
    public OutboxStatus Status { get; set; }

    /// <summary>How many publication attempts failed so far.</summary>
    public int Attempts { get; set; }

    /// <summary>The earliest time of the next attempt (UTC); backoff survives restarts.</summary>
    public DateTime NextAttemptAt { get; set; }

    /// <summary>The dispatcher instance holding the row, while its lease lasts.</summary>
    public string? LockedBy { get; set; }

    /// <summary>When the lease of <see cref="LockedBy"/> ends (UTC); another instance may claim the row after it.</summary>
    public DateTime? LockedUntil { get; set; }

    /// <summary>When the server accepted the last notification of the row (UTC).</summary>
    public DateTime? DeliveredAt { get; set; }

    /// <summary>The reason of the last failure, or why the row was dead-lettered.</summary>
    public string? LastError { get; set; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the activity that wrote the row (the saving request's trace), which the publish span
    /// links to; <see langword="null"/> when there was no activity, or for rows written before this column existed.
    /// </summary>
    public string? TraceParent { get; set; }

    /// <summary>The W3C <c>tracestate</c> that went with <see cref="TraceParent"/>, when it had one of at most 256 characters.</summary>
    public string? TraceState { get; set; }
}

/// <summary>The state of an <see cref="OutboxMessage"/>.</summary>
public enum OutboxStatus
{
    /// <summary>Waiting to be published.</summary>
    Pending = 0,

    /// <summary>Accepted by the server.</summary>
    Delivered = 1,

    /// <summary>Refused permanently, or out of attempts; kept with the reason and can be replayed.</summary>
    DeadLettered = 2,
}
