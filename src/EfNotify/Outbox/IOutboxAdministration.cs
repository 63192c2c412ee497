namespace EfNotify;

/// <summary>
/// Operates the outbox of the application's DbContext: lists dead letters, replays them and reports the backlog.
/// Registered by <c>services.AddEfNotify&lt;TContext&gt;()</c> as a singleton; every call uses a DbContext of its own.
/// </summary>
/// <remarks>
/// A replay changes the dead-lettered row in place rather than inserting a copy: the row keeps its id, which is the handle
/// <see cref="ListDeadLettersAsync"/> returned, and no copy can ever be delivered twice. Because the dispatcher claims
/// pending rows in id order, a replayed row is therefore published at the head of the queue, before rows committed after
/// it, not at the end; its notifications may reach subscribers after newer ones for the same channel (each message carries
/// its <c>at</c> time and id). <see cref="OutboxMessage.LastError"/> is kept, so the reason stays readable after a replay
/// until a new failure replaces it.
/// </remarks>
public interface IOutboxAdministration
{
    /// <summary>Lists dead-lettered rows in id order, a page at a time.</summary>
    /// <param name="take">The page size, 1 to 1,000.</param>
    /// <param name="afterId">The last id of the previous page; <see langword="null"/> for the first page.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>At most <paramref name="take"/> dead letters with ids above <paramref name="afterId"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="take"/> is not between 1 and 1,000.</exception>
    Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(int take = 50, long? afterId = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the given dead-lettered rows pending again, with no failed attempts and due at once, and wakes the dispatcher.
    /// Ids of rows that are not dead-lettered (delivered, pending, deleted) are ignored.
    /// </summary>
    /// <param name="ids">The ids of the rows to replay.</param>
    /// <param name="cancellationToken">Cancels the update.</param>
    /// <returns>How many rows were made pending.</returns>
    Task<int> ReplayAsync(IEnumerable<long> ids, CancellationToken cancellationToken = default);

    /// <summary>Replays every dead-lettered row, as <see cref="ReplayAsync"/> does, and wakes the dispatcher.</summary>
    /// <param name="cancellationToken">Cancels the update.</param>
    /// <returns>How many rows were made pending.</returns>
    Task<int> ReplayAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Counts the pending and dead-lettered rows and finds the oldest pending one (two aggregate queries).</summary>
    /// <param name="cancellationToken">Cancels the queries.</param>
    /// <returns>The backlog as of now (<see cref="TimeProvider"/>).</returns>
    Task<OutboxBacklog> GetBacklogAsync(CancellationToken cancellationToken = default);
}

/// <summary>A dead-lettered outbox row, as <see cref="IOutboxAdministration.ListDeadLettersAsync"/> lists it.</summary>
/// <param name="Id">The row id: pass it to <see cref="IOutboxAdministration.ReplayAsync"/>.</param>
/// <param name="CreatedAt">When the transaction wrote the row (UTC).</param>
/// <param name="Attempts">How many attempts failed.</param>
/// <param name="Reason">Why the row was dead-lettered (<see cref="OutboxMessage.LastError"/>).</param>
/// <param name="Count">How many notifications the row holds.</param>
/// <param name="Events">
/// The distinct channel and event pairs of the row, in payload order, at most <see cref="DeadLetter.MaxEventsListed"/>;
/// <paramref name="Count"/> tells whether there are more notifications.
/// </param>
public sealed record DeadLetter(long Id, DateTime CreatedAt, int Attempts, string? Reason, int Count, IReadOnlyList<DeadLetterEvent> Events)
{
    /// <summary>The most channel and event pairs listed per row: 20.</summary>
    public const int MaxEventsListed = 20;
}

/// <summary>A channel and event of a dead-lettered row.</summary>
/// <param name="Channel">The channel, for example <c>private-Order.42</c>.</param>
/// <param name="Event">The event name (the notification's action).</param>
public sealed record DeadLetterEvent(string Channel, string Event);

/// <summary>The state of the outbox queue at one moment.</summary>
/// <param name="PendingCount">Rows waiting to be published, including those waiting for a retry.</param>
/// <param name="OldestPendingCreatedAt">When the oldest pending row was written (UTC); <see langword="null"/> when none is pending.</param>
/// <param name="DeadLetterCount">Dead-lettered rows, waiting for a replay.</param>
/// <param name="MeasuredAt">When the counts were taken (UTC).</param>
public sealed record OutboxBacklog(long PendingCount, DateTime? OldestPendingCreatedAt, long DeadLetterCount, DateTime MeasuredAt)
{
    /// <summary>How long the oldest pending row has waited at <see cref="MeasuredAt"/>; <see cref="TimeSpan.Zero"/> when none is pending.</summary>
    public TimeSpan OldestPendingAge
        => OldestPendingCreatedAt is { } oldest && MeasuredAt > oldest ? MeasuredAt - oldest : TimeSpan.Zero;
}
