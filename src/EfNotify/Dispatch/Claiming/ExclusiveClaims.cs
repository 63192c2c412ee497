using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Dispatch;

/// <summary>
/// Claims as the leader (<see cref="DispatcherLeadership"/>): the only instance claiming, so a claim is a plain read,
/// leases of others are stale, and deliveries are recorded off the publishing path (<see cref="DeliveryRecorder"/>), so
/// the path from a commit to the server holds no database write. While one claim is on the wire it reads the next.
/// </summary>
internal sealed class ExclusiveClaims<TContext> : IClaimStrategy, IAsyncDisposable
    where TContext : DbContext
{
    /// <summary>How long a chain of prefetched claims continues after the last id before it reads from the first pending row again.</summary>
    internal static readonly TimeSpan ClaimFromStartInterval = TimeSpan.FromSeconds(1);

    private static readonly CancellationToken None = CancellationToken.None;
    private readonly EfNotifyOptions _options;
    private readonly TimeProvider _time;
    private readonly ContextSlot<TContext> _prefetchContext;
    private Task<List<OutboxMessage>>? _prefetch;
    private DateTime _claimedFromStart;

    public ExclusiveClaims(IServiceProvider services, EfNotifyOptions options, TimeProvider time, DeliveryRecorder recorder)
    {
        _options = options;
        _time = time;
        _prefetchContext = new ContextSlot<TContext>(services);
        Recorder = recorder;
    }

    public DeliveryRecorder Recorder { get; }

    public async Task<IReadOnlyList<OutboxMessage>> ClaimAsync(DbContext db, IReadOnlyCollection<long> held, CancellationToken cancellationToken)
    {
        List<OutboxMessage> rows;
        if (_prefetch is { } prefetch)
        {
            _prefetch = null;
            rows = await prefetch.ConfigureAwait(false);
        }
        else
        {
            _claimedFromStart = _time.GetUtcNow().UtcDateTime;
            rows = await ClaimAsync(db, Excluded(held), null, cancellationToken).ConfigureAwait(false);
        }

        if (rows.Count == _options.ClaimBatchSize)
        {
            Prefetch(rows, held, cancellationToken);
        }

        return rows;
    }

    /// <summary>Discards the claim read ahead: its rows are claimed again by the next claim.</summary>
    public async Task AbandonAsync()
    {
        if (_prefetch is { } prefetch)
        {
            _prefetch = null;
            try
            {
                await prefetch.ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // Only a read, and its rows are claimed again by the next claim; a database fault shows there too.
            }
        }
    }

    /// <summary>Lets go of the read-ahead's context (the loop went idle or failed).</summary>
    public async ValueTask ReleaseContextAsync()
    {
        await AbandonAsync().ConfigureAwait(false);
        await _prefetchContext.ReleaseAsync().ConfigureAwait(false);
        Recorder.ReleaseWhenIdle();
    }

    public Task DeliveredAsync(DbContext db, IReadOnlyCollection<long> ids, DateTime now)
    {
        Recorder.Accept(ids);
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(DbContext db, IReadOnlyCollection<long> ids) => Task.CompletedTask; // the leader took no leases

    public Task RetryLaterAsync(DbContext db, RowRetry retry)
        => OutboxStore.RetryLaterAsync(db, owner: null, retry.Id, retry.Attempts, retry.NextAttemptAt, retry.Reason, retry.DeadLetter, None);

    public Task DeadLetterAsync(DbContext db, RowDeadLetters deadLetters, DateTime now)
        => OutboxStore.DeadLetterAsync(db, owner: null, deadLetters.Row, deadLetters.Refused, deadLetters.WholeRow, now, None);

    public async ValueTask DisposeAsync()
    {
        await ReleaseContextAsync().ConfigureAwait(false);
        await Recorder.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the next claim while this one is on the wire; it is used only if every row of this one went out. It
    /// continues after this claim's last id: every pending row below it is in this claim or published already. Once a
    /// second it starts from the first pending row again, skipping what awaits its record, since on PostgreSQL a
    /// transaction can commit a row whose id is below rows already visible.
    /// </summary>
    private void Prefetch(IReadOnlyList<OutboxMessage> rows, IReadOnlyCollection<long> held, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        long? after = rows[^1].Id;
        IReadOnlyCollection<long> excluded = [];
        if (now - _claimedFromStart >= ClaimFromStartInterval)
        {
            _claimedFromStart = now;
            after = null;
            var skipped = new HashSet<long>(Recorder.Unrecorded());
            skipped.UnionWith(held);
            skipped.UnionWith(rows.Select(r => r.Id));
            excluded = skipped;
        }

        // On a thread of its own: a provider such as SQLite's runs "async" queries synchronously.
        _prefetch = Task.Run(
            () => _prefetchContext.RunAsync((db, token) => ClaimAsync(db, excluded, after, token), cancellationToken),
            cancellationToken);
    }

    /// <summary>What a claim skips: rows awaiting their delivery record, and held rows.</summary>
    private IReadOnlyCollection<long> Excluded(IReadOnlyCollection<long> held)
        => held.Count == 0 ? Recorder.Unrecorded() : [.. Recorder.Unrecorded().Union(held)];

    private Task<List<OutboxMessage>> ClaimAsync(DbContext db, IReadOnlyCollection<long> excluded, long? after, CancellationToken cancellationToken)
        => OutboxStore.ClaimAsync(
            db, owner: null, _time.GetUtcNow().UtcDateTime, _options.LeaseDuration, _options.ClaimBatchSize, excluded, cancellationToken, after);
}
