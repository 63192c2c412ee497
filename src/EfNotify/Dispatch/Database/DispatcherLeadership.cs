using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>
/// Lets one dispatcher at a time publish an outbox shared by several processes, through the lock of the database's
/// dialect (<see cref="OutboxDialect"/>): a PostgreSQL advisory lock, or a lock file beside a SQLite file. Either lock
/// goes with its holder: if the process dies, the server or the operating system releases it and another instance takes
/// over. Because only the leader claims rows, it needs no row leases, may take over rows still leased by a dead leader,
/// and publication order holds across instances. Other databases (and in-memory SQLite) have no such lock: there every
/// instance claims under row leases. Instances that do not lead try to take the lock at most once per polling interval.
/// </summary>
internal sealed partial class DispatcherLeadership(TimeProvider time, OutboxSignal signal, TimeSpan retryInterval, ILogger logger) : IAsyncDisposable
{
    private ILeaderLock? _lock;
    private LeaderState _state = LeaderState.Standby;
    private CancellationToken _term;

    /// <summary>Whether this instance leads or claims under leases, as of the last <see cref="TryLeadAsync(CancellationToken)"/>.</summary>
    public LeaderState State => _state;

    /// <summary>
    /// Cancelled as soon as this instance stops leading (its lock connection was lost): a publish must not start after
    /// it, since another instance may lead by then. <see cref="CancellationToken.None"/> where the lock cannot be lost.
    /// </summary>
    public CancellationToken Lost => _lock?.Lost ?? CancellationToken.None;

    /// <summary>
    /// Chooses the dialect and sets up the signal by which this instance wakes the leader after its commits: <c>NOTIFY</c>
    /// on PostgreSQL, a wake file beside a SQLite file; other databases (and in-memory SQLite) poll. Once, before leading.
    /// </summary>
    public async Task ConnectAsync(DbContext db, CancellationToken cancellationToken)
        => _lock ??= await OutboxDialect.For(db)
            .ConnectAsync(db, new LeaderLockContext(time, signal, retryInterval, logger), cancellationToken)
            .ConfigureAwait(false);

    /// <summary>Whether the lock is set up (<see cref="ConnectAsync"/>), so <see cref="TryLeadAsync(CancellationToken)"/> needs no context.</summary>
    public bool IsConnected => _lock is not null;

    /// <summary>Sets up the lock if it is not yet, then acquires or confirms leadership.</summary>
    /// <returns><see cref="LeaderState.Standby"/> when another instance leads; this one then publishes nothing.</returns>
    public async Task<LeaderState> TryLeadAsync(DbContext db, CancellationToken cancellationToken)
    {
        await ConnectAsync(db, cancellationToken).ConfigureAwait(false);
        return await TryLeadAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Acquires or confirms leadership once <see cref="IsConnected"/>. No lock needs the application's context for it (a
    /// lock file, or an advisory lock on a connection of its own), so a standby's attempt builds none (issue 12).
    /// </summary>
    public async Task<LeaderState> TryLeadAsync(CancellationToken cancellationToken)
    {
        var state = await _lock!.TryLeadAsync(cancellationToken).ConfigureAwait(false);
        if (state == LeaderState.Exclusive && (_state != LeaderState.Exclusive || _term != _lock.Lost))
        {
            _term = _lock.Lost;
            signal.Leads = true;
            LogLeading(logger);
        }
        else if (state != LeaderState.Exclusive && _state == LeaderState.Exclusive)
        {
            signal.Leads = false;
        }

        _state = state;
        return state;
    }

    public async ValueTask DisposeAsync()
    {
        if (_lock is { } held)
        {
            _lock = null;
            await held.DisposeAsync().ConfigureAwait(false);
        }

        _state = LeaderState.Standby;
        signal.Leads = false;
        if (signal.Instances is { } instances)
        {
            signal.Instances = null;
            await instances.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "This instance now leads: it publishes the outbox")]
    private static partial void LogLeading(ILogger logger);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "This instance lost its leadership (the lock connection failed): it publishes nothing more until it leads again")]
    internal static partial void LogLeadershipLost(ILogger logger);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "The wake file beside the database cannot be watched; commits of other instances are found by polling")]
    internal static partial void LogNoWakeFile(ILogger logger, Exception exception);
}
