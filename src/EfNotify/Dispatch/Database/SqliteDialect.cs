using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>
/// SQLite: on a file, the leader holds an exclusive lock on a file beside the database (<c>{database}.efnotify-lock</c>),
/// released by the operating system when its process dies, and other instances wake it through a wake file
/// (<see cref="FileInstanceSignal"/>). An in-memory database, or a folder this process may not write to, claims under row leases.
/// </summary>
internal sealed class SqliteDialect : OutboxDialect
{
    public static readonly SqliteDialect Instance = new();

    private const string LockSuffix = ".efnotify-lock";

    public override bool HasLeaderCommands => true;

    public override async Task<ILeaderLock> ConnectAsync(DbContext db, LeaderLockContext context, CancellationToken cancellationToken)
    {
        if (await FileAsync(db, cancellationToken).ConfigureAwait(false) is not { } path)
        {
            return GenericDialect.LeasedOnly.Instance; // in memory: nothing outside this process can share it
        }

        context.Signal.Instances = new FileInstanceSignal(FileInstanceSignal.PathFor(path), context.Logger);
        return new FileLock(path, context);
    }

    /// <summary>The database file of a SQLite context, or <see langword="null"/> for an in-memory database.</summary>
    private static async Task<string?> FileAsync(DbContext db, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // An open SqliteConnection reports the file SQLite itself opened (empty for in-memory databases).
            var file = db.Database.GetDbConnection().DataSource;
            return string.IsNullOrEmpty(file) || file == ":memory:" ? null : Path.GetFullPath(file);
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    private sealed class FileLock(string database, LeaderLockContext context) : ILeaderLock
    {
        private readonly string _path = database + LockSuffix;
        private FileStream? _lockFile;
        private FileSystemWatcher? _watcher;
        private DateTimeOffset _lastCheck = DateTimeOffset.MinValue;
        private bool _leased;

        public CancellationToken Lost => CancellationToken.None; // held by this process's open handle until it ends

        public Task<LeaderState> TryLeadAsync(CancellationToken cancellationToken) => Task.FromResult(TryLead());

        public async ValueTask DisposeAsync()
        {
            _watcher?.Dispose();
            _watcher = null;
            if (_lockFile is { } lockFile)
            {
                // The file stays: deleting it could let a process that has just opened it lock a name nobody else sees.
                _lockFile = null;
                await lockFile.DisposeAsync().ConfigureAwait(false);
            }
        }

        private LeaderState TryLead()
        {
            if (_lockFile is not null || _leased)
            {
                return _leased ? LeaderState.Leased : LeaderState.Exclusive;
            }

            var now = context.Time.GetUtcNow();
            if (now - _lastCheck < context.RetryInterval)
            {
                return LeaderState.Standby; // another instance led at the last check
            }

            _lastCheck = now;
            try
            {
                // FileShare.None is an exclusive advisory lock (flock on Unix, a share mode on Windows): held by one open
                // handle at a time, across processes and within one, and released by the operating system when the process
                // dies. Opened for reading, so an existing lock file works on a read-only file system too.
                _lockFile = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.Read, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (File.Exists(_path))
            {
                return LeaderState.Standby; // it exists, so what failed is the lock: another instance holds it
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The file cannot be made or read here (a folder this process may not write to): claim under row leases, as
                // without a lock, rather than stand by for ever.
                _leased = true;
                return LeaderState.Leased;
            }

            try
            {
                _watcher = FileInstanceSignal.Watch(FileInstanceSignal.PathFor(database), context.Signal.Wake);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                DispatcherLeadership.LogNoWakeFile(context.Logger, exception); // it leads all the same, and finds other instances' rows by polling
            }

            return LeaderState.Exclusive;
        }
    }
}
