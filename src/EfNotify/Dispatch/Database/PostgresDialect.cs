using System.Data.Common;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Dispatch;

/// <summary>
/// PostgreSQL: the leader holds a session-level advisory lock (one per outbox table) on a connection of its own, and
/// waits on that connection for the <c>NOTIFY</c> of other instances' commits (<see cref="PostgresInstanceSignal"/>), so
/// its loss shows the moment it happens (a terminated backend, a closed socket): <see cref="ILeaderLock.Lost"/> is then
/// cancelled, and the dispatcher starts no further publish request.
/// </summary>
internal sealed class PostgresDialect : OutboxDialect
{
    public static readonly PostgresDialect Instance = new();

    public override bool HasLeaderCommands => true;

    public override Task<ILeaderLock> ConnectAsync(DbContext db, LeaderLockContext context, CancellationToken cancellationToken)
    {
        var type = db.Database.GetDbConnection().GetType();
        var connectionString = db.Database.GetConnectionString() ?? db.Database.GetDbConnection().ConnectionString;
        var key = LockKey(db);
        var channel = PostgresInstanceSignal.Channel(key);
        context.Signal.Instances = new PostgresInstanceSignal(() => Create(type, connectionString), channel, context.Logger);
        return Task.FromResult<ILeaderLock>(new AdvisoryLock(() => Create(type, connectionString), key, channel, context));
    }

    private static DbConnection Create(Type type, string connectionString)
    {
        var connection = (DbConnection)Activator.CreateInstance(type)!;
        connection.ConnectionString = connectionString;
        return connection;
    }

    /// <summary>One lock per outbox table (schema and name), so two applications on one server do not block each other.</summary>
    private static long LockKey(DbContext db)
    {
        var outbox = db.Model.FindEntityType(typeof(OutboxMessage))!;
        var name = $"EfNotify:{RelationalEntityTypeExtensions.GetSchema(outbox)}.{RelationalEntityTypeExtensions.GetTableName(outbox)}";
        var hash = 14695981039346656037UL; // FNV-1a: stable across processes, unlike string.GetHashCode
        foreach (var c in name)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    private sealed class AdvisoryLock(Func<DbConnection> connect, long key, string channel, LeaderLockContext context) : ILeaderLock
    {
        private DbConnection? _connection;
        private CancellationTokenSource? _term;
        private Task _listening = Task.CompletedTask;
        private DateTimeOffset _lastCheck = DateTimeOffset.MinValue;

        public CancellationToken Lost => _term?.Token ?? CancellationToken.None;

        public async Task<LeaderState> TryLeadAsync(CancellationToken cancellationToken)
        {
            if (_connection is not null)
            {
                if (!_term!.IsCancellationRequested)
                {
                    return LeaderState.Exclusive; // the listener watches the lock connection and cancels the term the moment it fails
                }

                DispatcherLeadership.LogLeadershipLost(context.Logger);
                await StepDownAsync().ConfigureAwait(false);
            }

            var now = context.Time.GetUtcNow();
            if (now - _lastCheck < context.RetryInterval)
            {
                return LeaderState.Standby; // another instance led at the last attempt: its own commits do not make this one try again
            }

            _lastCheck = now;
            var own = connect();
            try
            {
                await own.OpenAsync(cancellationToken).ConfigureAwait(false);
                if (await TryLockAsync(own, cancellationToken).ConfigureAwait(false))
                {
                    _connection = own;
                    var term = _term = new CancellationTokenSource();
                    _listening = Task.Run(() => ListenAsync(own, term), CancellationToken.None);
                    return LeaderState.Exclusive;
                }
            }
            catch (DbException)
            {
                // The database is unreachable: the dispatcher loop logs it and backs off, so an outage is never silent.
                await own.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            await own.DisposeAsync().ConfigureAwait(false);
            return LeaderState.Standby;
        }

        public ValueTask DisposeAsync() => new(StepDownAsync());

        private async Task<bool> TryLockAsync(DbConnection connection, CancellationToken cancellationToken)
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = $"SELECT pg_try_advisory_lock({key})";
                return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
            }
        }

        /// <summary>Waits for signals on the lock connection; its failure ends this term of leadership at once.</summary>
        private async Task ListenAsync(DbConnection connection, CancellationTokenSource term)
        {
            try
            {
                await PostgresInstanceSignal.ListenAsync(connection, channel, context.Signal.Wake, term.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // Lost connection, or the term ended: either way this instance no longer leads.
            }

            context.Signal.Leads = false;
            await term.CancelAsync().ConfigureAwait(false);
            context.Signal.Wake(); // the loop learns of it now rather than at its next poll
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
    }
}
