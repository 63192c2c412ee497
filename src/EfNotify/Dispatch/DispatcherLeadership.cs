using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Dispatch;

/// <summary>
/// Lets one dispatcher at a time publish an outbox shared by several processes. On PostgreSQL the leader holds a
/// session-level advisory lock on a connection of its own: if the process dies, the server releases the lock with the
/// connection and another instance takes over at once. Because only the leader claims rows, it may take over rows still
/// leased by a dead leader without waiting for their lease to expire, and publication order holds across instances.
/// Other databases have no such lock: there every instance claims under row leases.
/// </summary>
internal sealed class DispatcherLeadership(TimeProvider time) : IAsyncDisposable
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);
    private DbConnection? _connection;
    private DateTimeOffset _lastCheck;

    /// <summary>Whether this instance is the only one claiming rows (so other instances' leases are stale by definition).</summary>
    public bool IsExclusive => _connection is not null;

    /// <summary>Acquires or confirms leadership.</summary>
    /// <returns><see langword="false"/> when another instance leads; this one then publishes nothing.</returns>
    public async Task<bool> TryLeadAsync(DbContext db, CancellationToken cancellationToken)
    {
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
    }

    private static bool IsPostgres(DbContext db) => db.Database.ProviderName?.Contains("PostgreSQL", StringComparison.Ordinal) == true;

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
