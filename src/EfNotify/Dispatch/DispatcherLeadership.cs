using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>
/// Lets one dispatcher at a time publish an outbox shared by several processes. On PostgreSQL the leader holds a
/// session-level advisory lock on a connection of its own; on a SQLite file it holds an exclusive lock on a file beside
/// the database (<c>{database}.efnotify-lock</c>). Either lock goes with its holder: if the process dies, the server or
/// the operating system releases it and another instance takes over. Because only the leader claims rows, it
/// needs no row leases, may take over rows still leased by a dead leader, and publication order holds across instances.
/// Other databases (and in-memory SQLite) have no such lock: there every instance claims under row leases.
/// <para>
/// The leader listens for the commits of other instances (<see cref="InstanceSignal"/>). On PostgreSQL it waits for
/// them on its lock connection, which therefore shows its loss the moment it happens (a terminated backend, a closed
/// socket): <see cref="Lost"/> is then cancelled, and the dispatcher starts no further publish request.
/// Instances that do not lead try to take the lock at most once per polling interval.
/// </para>
/// </summary>
internal sealed partial class DispatcherLeadership(TimeProvider time, OutboxSignal signal, TimeSpan retryInterval, ILogger logger) : IAsyncDisposable
{
    private DbConnection? _connection;
    private FileStream? _lockFile;
    private FileSystemWatcher? _watcher;
    private CancellationTokenSource? _term;
    private Task _listening = Task.CompletedTask;
    private DateTimeOffset _lastCheck = DateTimeOffset.MinValue;
    private bool _noFileLock;
    private bool _connected;
    private string? _lockPath;
    private string? _channel;

    /// <summary>Whether this instance is the only one claiming rows (so other instances' leases are stale by definition).</summary>
    public bool IsExclusive => _connection is not null || _lockFile is not null;

    /// <summary>
    /// Cancelled as soon as this instance stops leading (its lock connection was lost): a publish must not start after
    /// it, since another instance may lead by then. <see cref="CancellationToken.None"/> where the lock cannot be lost.
    /// </summary>
    public CancellationToken Lost => _term?.Token ?? CancellationToken.None;

    /// <summary>
    /// Sets up the signal by which this instance wakes the leader after its commits: <c>NOTIFY</c> on PostgreSQL, a
    /// wake file beside a SQLite file; other databases (and in-memory SQLite) poll. Called once, before leading.
    /// </summary>
    public async Task ConnectAsync(DbContext db, CancellationToken cancellationToken)
    {
        if (_connected)
        {
            return;
        }

        if (IsPostgres(db))
        {
            var type = db.Database.GetDbConnection().GetType();
            var connectionString = db.Database.GetConnectionString() ?? db.Database.GetDbConnection().ConnectionString;
            _channel = PostgresInstanceSignal.Channel(LockKey(db));
            signal.Instances = new PostgresInstanceSignal(() => Create(type, connectionString), _channel, logger);
        }
        else if (IsSqlite(db) && await SqliteFileAsync(db, cancellationToken).ConfigureAwait(false) is { } path)
        {
            _lockPath = path + ".efnotify-lock";
            signal.Instances = new FileInstanceSignal(FileInstanceSignal.PathFor(path), logger);
        }

        _connected = true;
    }

    /// <summary>Acquires or confirms leadership.</summary>
    /// <remarks>On a SQLite file whose folder this process may not write to, it claims under row leases instead.</remarks>
    /// <returns><see langword="false"/> when another instance leads; this one then publishes nothing.</returns>
    public async Task<bool> TryLeadAsync(DbContext db, CancellationToken cancellationToken)
    {
        await ConnectAsync(db, cancellationToken).ConfigureAwait(false);
        if (IsSqlite(db))
        {
            return TryLeadSqlite();
        }

        if (!IsPostgres(db))
        {
            return true;
        }

        if (_connection is not null)
        {
            if (!_term!.IsCancellationRequested)
            {
                return true; // the listener watches the lock connection and cancels the term the moment it fails
            }

            LogLeadershipLost(logger);
            await StepDownAsync().ConfigureAwait(false);
        }

        var now = time.GetUtcNow();
        if (now - _lastCheck < retryInterval)
        {
            return false; // another instance led at the last attempt: its own commits do not make this one try again
        }

        _lastCheck = now;
        var own = Create(db.Database.GetDbConnection().GetType(), db.Database.GetConnectionString() ?? db.Database.GetDbConnection().ConnectionString);
        try
        {
            await own.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (await ScalarAsync(own, $"SELECT pg_try_advisory_lock({LockKey(db)})", cancellationToken).ConfigureAwait(false) is true)
            {
                _connection = own;
                _term = new CancellationTokenSource();
                var term = _term;
                Lead();
                _listening = Task.Run(() => ListenAsync(own, term), CancellationToken.None);
                return true;
            }
        }
        catch (DbException)
        {
            // The database is unreachable: the dispatcher loop logs it and backs off, so an outage is never silent.
            await own.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await own.DisposeAsync().ConfigureAwait(false);
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await StepDownAsync().ConfigureAwait(false);
        if (_lockFile is { } lockFile)
        {
            // The file stays: deleting it could let a process that has just opened it lock a name nobody else sees.
            _lockFile = null;
            await lockFile.DisposeAsync().ConfigureAwait(false);
        }

        _watcher?.Dispose();
        _watcher = null;
        signal.Leads = false;
        if (signal.Instances is { } instances)
        {
            signal.Instances = null;
            await instances.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Lead()
    {
        signal.Leads = true;
        LogLeading(logger);
    }

    /// <summary>Waits for signals on the lock connection; its failure ends this term of leadership at once.</summary>
    private async Task ListenAsync(DbConnection connection, CancellationTokenSource term)
    {
        try
        {
            await PostgresInstanceSignal.ListenAsync(connection, _channel!, signal.Wake, term.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Lost connection, or the term ended: either way this instance no longer leads.
        }

        signal.Leads = false;
        await term.CancelAsync().ConfigureAwait(false);
        signal.Wake(); // the loop learns of it now rather than at its next poll
    }

    private async Task StepDownAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await _term!.CancelAsync().ConfigureAwait(false);
            await _listening.ConfigureAwait(false);
            _term.Dispose();
            _term = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static DbConnection Create(Type type, string connectionString)
    {
        var connection = (DbConnection)Activator.CreateInstance(type)!;
        connection.ConnectionString = connectionString;
        return connection;
    }

    private bool TryLeadSqlite()
    {
        if (_lockFile is not null || _noFileLock)
        {
            return true;
        }

        var now = time.GetUtcNow();
        if (now - _lastCheck < retryInterval)
        {
            return false; // another instance led at the last check
        }

        _lastCheck = now;
        if (_lockPath is not { } lockPath)
        {
            _noFileLock = true; // in memory: nothing outside this process can share it
            return true;
        }

        try
        {
            // FileShare.None is an exclusive advisory lock (flock on Unix, a share mode on Windows): held by one open
            // handle at a time, across processes and within one, and released by the operating system when the process
            // dies. Opened for reading, so an existing lock file works on a read-only file system too.
            _lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.Read, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            return false; // it exists, so what failed is the lock: another instance holds it
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The file cannot be made or read here (a folder this process may not write to): claim under row leases, as
            // without a lock, rather than stand by for ever.
            _noFileLock = true;
            return true;
        }

        try
        {
            _watcher = FileInstanceSignal.Watch(FileInstanceSignal.PathFor(lockPath[..^".efnotify-lock".Length]), signal.Wake);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            LogNoWakeFile(logger, exception); // it leads all the same, and finds other instances' rows by polling
        }

        Lead();
        return true;
    }

    /// <summary>The database file of a SQLite context, or <see langword="null"/> for an in-memory database.</summary>
    private static async Task<string?> SqliteFileAsync(DbContext db, CancellationToken cancellationToken)
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

    private static bool IsPostgres(DbContext db) => db.Database.ProviderName?.Contains("PostgreSQL", StringComparison.Ordinal) == true;

    private static bool IsSqlite(DbContext db) => db.Database.ProviderName?.EndsWith(".Sqlite", StringComparison.Ordinal) == true;

    /// <summary>One lock per outbox table (schema and name), so two applications on one server do not block each other.</summary>
    private static long LockKey(DbContext db)
    {
        var outbox = db.Model.FindEntityType(typeof(OutboxMessage))!;
        var name = $"EfNotify:{Microsoft.EntityFrameworkCore.RelationalEntityTypeExtensions.GetSchema(outbox)}.{Microsoft.EntityFrameworkCore.RelationalEntityTypeExtensions.GetTableName(outbox)}";
        var hash = 14695981039346656037UL; // FNV-1a: stable across processes, unlike string.GetHashCode
        foreach (var c in name)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "This instance now leads: it publishes the outbox")]
    private static partial void LogLeading(ILogger logger);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "This instance lost its leadership (the lock connection failed): it publishes nothing more until it leads again")]
    private static partial void LogLeadershipLost(ILogger logger);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "The wake file beside the database cannot be watched; commits of other instances are found by polling")]
    private static partial void LogNoWakeFile(ILogger logger, Exception exception);

    private static async Task<object?> ScalarAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = sql;
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
