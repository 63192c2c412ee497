using System.Data.Common;
using System.Reflection;
using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>
/// On PostgreSQL, a commit on an instance that does not lead is signalled with <c>NOTIFY</c> on a connection of
/// EfNotify's own, after the application's transaction committed: a <c>NOTIFY</c> inside that transaction would take
/// the server's notification lock at its commit and serialize every committing transaction of the database. The leader
/// <c>LISTEN</c>s on the connection that holds its lock, and waiting there also shows at once when that connection
/// is lost (and the lock with it).
/// </summary>
internal sealed class PostgresInstanceSignal(Func<DbConnection> connect, string channel, ILogger logger) : InstanceSignal(logger)
{
    private DbConnection? _connection;

    /// <summary>The notification channel of an outbox: one per lock key, so applications on one server do not wake each other.</summary>
    public static string Channel(long lockKey) => $"efnotify_{unchecked((ulong)lockKey):x16}";

    /// <summary>
    /// Listens on <paramref name="connection"/> (Npgsql's, reached by reflection so EfNotify needs no reference to the
    /// provider) and calls <paramref name="notified"/> for each notification until <paramref name="cancellationToken"/>
    /// is cancelled. The task fails when the connection does, for example when its backend is terminated.
    /// </summary>
    public static async Task ListenAsync(DbConnection connection, string channel, Action notified, CancellationToken cancellationToken)
    {
        var type = connection.GetType();
        var wait = type.GetMethod("WaitAsync", [typeof(CancellationToken)])
                   ?? throw new NotSupportedException($"{type.FullName} has no WaitAsync(CancellationToken) to receive notifications.");
        var notification = type.GetEvent("Notification")
                           ?? throw new NotSupportedException($"{type.FullName} has no Notification event.");
        var handler = Delegate.CreateDelegate(notification.EventHandlerType!, new Receiver(notified), Receiver.Method);
        notification.AddEventHandler(connection, handler);

        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = $"LISTEN {channel}";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            try
            {
                await ((Task)wait.Invoke(connection, [cancellationToken])!).ConfigureAwait(false);
            }
            catch (TargetInvocationException exception) when (exception.InnerException is { } inner)
            {
                throw inner;
            }
        }
    }

    protected override async Task SendAsync()
    {
        if (_connection is null)
        {
            var connection = connect();
            try
            {
                await connection.OpenAsync().ConfigureAwait(false);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            _connection = connection;
        }

        var command = _connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = $"NOTIFY {channel}";
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
    }

    protected override async ValueTask ResetAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class Receiver(Action notified)
    {
        public static readonly MethodInfo Method = typeof(Receiver).GetMethod(nameof(On))!;

        public void On(object? sender, EventArgs e) => notified();
    }
}
