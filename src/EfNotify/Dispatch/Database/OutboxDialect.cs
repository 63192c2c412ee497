using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>Whether this instance publishes, and how it claims.</summary>
internal enum LeaderState
{
    /// <summary>Another instance leads: this one publishes nothing.</summary>
    Standby,

    /// <summary>This instance leads: it alone claims (<see cref="ExclusiveClaims{TContext}"/>).</summary>
    Exclusive,

    /// <summary>No leader lock here: every instance claims under row leases (<see cref="LeasedClaims"/>).</summary>
    Leased,
}

/// <summary>A leader lock: held by one instance at a time, released by the server or the operating system when its holder dies.</summary>
internal interface ILeaderLock : IAsyncDisposable
{
    /// <summary>Cancelled as soon as this instance stops leading; <see cref="CancellationToken.None"/> where the lock cannot be lost.</summary>
    CancellationToken Lost { get; }

    /// <summary>Acquires or confirms leadership; an instance that did not lead tries again at most once per polling interval.</summary>
    Task<LeaderState> TryLeadAsync(CancellationToken cancellationToken);
}

/// <summary>What a dialect's lock and wake signal need from the dispatcher.</summary>
internal sealed record LeaderLockContext(TimeProvider Time, OutboxSignal Signal, TimeSpan RetryInterval, ILogger Logger);

/// <summary>
/// What differs between databases, chosen once from the context's provider: the leader lock, the wake signal between
/// instances, and whether the leader's own SQL (<see cref="LeaderCommands"/>) runs there.
/// </summary>
internal abstract class OutboxDialect
{
    /// <summary>Whether the leader's claim and delivery record run as SQL of their own (both use <c>LIMIT</c>).</summary>
    public abstract bool HasLeaderCommands { get; }

    /// <summary>The dialect of the context's provider: SQLite, PostgreSQL, or any other (generic: row leases, polling).</summary>
    public static OutboxDialect For(DbContext db)
    {
        var provider = db.Database.ProviderName ?? "";
        return provider.EndsWith(".Sqlite", StringComparison.Ordinal) ? SqliteDialect.Instance
            : provider.Contains("PostgreSQL", StringComparison.Ordinal) ? PostgresDialect.Instance
            : GenericDialect.Instance;
    }

    /// <summary>
    /// Sets up the signal by which this instance wakes the leader after its commits (<see cref="OutboxSignal.Instances"/>)
    /// and returns the lock by which it may lead.
    /// </summary>
    public abstract Task<ILeaderLock> ConnectAsync(DbContext db, LeaderLockContext context, CancellationToken cancellationToken);
}

/// <summary>Databases without a leader lock: every instance claims under row leases and finds the others' rows by polling.</summary>
internal sealed class GenericDialect : OutboxDialect
{
    public static readonly GenericDialect Instance = new();

    public override bool HasLeaderCommands => false;

    public override Task<ILeaderLock> ConnectAsync(DbContext db, LeaderLockContext context, CancellationToken cancellationToken)
        => Task.FromResult<ILeaderLock>(LeasedOnly.Instance);

    /// <summary>No lock: this instance claims beside the others.</summary>
    internal sealed class LeasedOnly : ILeaderLock
    {
        public static readonly LeasedOnly Instance = new();

        public CancellationToken Lost => CancellationToken.None;

        public Task<LeaderState> TryLeadAsync(CancellationToken cancellationToken) => Task.FromResult(LeaderState.Leased);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
