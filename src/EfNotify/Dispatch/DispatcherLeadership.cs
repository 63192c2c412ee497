using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Dispatch;

/// <summary>
/// Lets one dispatcher at a time publish an outbox shared by several processes. On PostgreSQL the leader holds a
/// session-level advisory lock on a connection of its own; on a SQLite file it holds an exclusive lock on a file beside
/// the database (<c>{database}.efnotify-lock</c>). Either lock goes with its holder: if the process dies, the server or
/// the operating system releases it and another instance takes over at once. Because only the leader claims rows, it
/// needs no row leases, may take over rows still leased by a dead leader, and publication order holds across instances.
/// Other databases (and in-memory SQLite) have no such lock: there every instance claims under row leases.
/// </summary>
internal sealed class DispatcherLeadership(TimeProvider time) : IAsyncDisposable
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);
    private DbConnection? _connection;
    private FileStream? _lockFile;
    private DateTimeOffset _lastCheck;
    private bool _noFileLock;

    /// <summary>Whether this instance is the only one claiming rows (so other instances' leases are stale by definition).</summary>
    public bool IsExclusive => _connection is not null || _lockFile is not null;

    /// <summary>Acquires or confirms leadership.</summary>
    /// <remarks>On a SQLite file whose folder this process may not write to, it claims under row leases instead.</remarks>
    /// <returns><see langword="false"/> when another instance leads; this one then publishes nothing.</returns>
    public async Task<bool> TryLeadAsync(DbContext db, CancellationToken cancellationToken)
    {
        if (IsSqlite(db))
        {
            return await TryLeadSqliteAsync(db, cancellationToken).ConfigureAwait(false);
        }

        if (!IsPostgres(db))
        {
            return true;
        }

        var now = time.GetUtcNow();
        if (_connection is not null)
        {
            if (now - _lastCheck < CheckInterval && _connection.State == ConnectionState.Open)
            {
                return true;
            }

            try
            {
                if (await ScalarAsync(_connection, "SELECT 1", cancellationToken).ConfigureAwait(false) is not null)
                {
                    _lastCheck = now;
                    return true;
                }
            }
            catch (DbException)
            {
                // The connection is gone, and the lock with it: try to lead again below.
            }

            await DisposeAsync().ConfigureAwait(false);
        }

        var connection = db.Database.GetDbConnection();
        var own = (DbConnection)Activator.CreateInstance(connection.GetType())!;
        own.ConnectionString = db.Database.GetConnectionString() ?? connection.ConnectionString;
        try
        {
            await own.OpenAsync(cancellationToken).ConfigureAwait(false);
            var key = LockKey(db);
            if (await ScalarAsync(own, $"SELECT pg_try_advisory_lock({key})", cancellationToken).ConfigureAwait(false) is true)
            {
                _connection = own;
                _lastCheck = now;
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
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        if (_lockFile is { } lockFile)
        {
            // The file stays: deleting it could let a process that has just opened it lock a name nobody else sees.
            _lockFile = null;
            await lockFile.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<bool> TryLeadSqliteAsync(DbContext db, CancellationToken cancellationToken)
    {
        if (_lockFile is not null || _noFileLock)
        {
            return true;
        }

        var now = time.GetUtcNow();
        if (now - _lastCheck < CheckInterval)
        {
            return false; // another instance led at the last check
        }

        _lastCheck = now;
        var path = await SqliteFileAsync(db, cancellationToken).ConfigureAwait(false);
        if (path is null)
        {
            _noFileLock = true; // in memory: nothing outside this process can share it
            return true;
        }

        var lockPath = path + ".efnotify-lock";
        try
        {
            // FileShare.None is an exclusive advisory lock (flock on Unix, a share mode on Windows): held by one open
            // handle at a time, across processes and within one, and released by the operating system when the process
            // dies. Opened for reading, so an existing lock file works on a read-only file system too.
            _lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.Read, FileShare.None, 1, FileOptions.None);
            return true;
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
