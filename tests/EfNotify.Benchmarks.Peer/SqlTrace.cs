using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using SQLitePCL;

namespace EfNotify.Benchmarks.Peer;

/// <summary>
/// Records every statement SQLite runs on the EF Core context's connections, whoever issued it (EF Core, EfNotify
/// or the peer's outbox writing through the context's connection and transaction). Diagnostics only: the
/// measured runs never install it.
/// </summary>
public sealed class SqlTrace : DbConnectionInterceptor
{
    private readonly ConcurrentQueue<string> _statements = new();
    private readonly delegate_trace _callback;

    public SqlTrace() => _callback = (_, sql) => { if (Recording) { _statements.Enqueue(sql.utf8_to_string()); } };

    public bool Recording { get; set; }

    public IReadOnlyList<string> Drain()
    {
        var list = new List<string>();
        while (_statements.TryDequeue(out var sql))
        {
            list.Add(sql);
        }

        return list;
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Install(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Install(connection);
        return Task.CompletedTask;
    }

    public void Attach(DbConnection connection) => Install(connection);

    private void Install(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            raw.sqlite3_trace(handle, _callback, null);
        }
    }
}

/// <summary>
/// Hands Wolverine's message store SQLite connections that report their statements to a <see cref="SqlTrace"/>, so
/// that <c>--trace</c> can show the store's own traffic beside the save's. Diagnostics only.
/// </summary>
public sealed class TracingSqliteDataSource(string connectionString, SqlTrace trace) : DbDataSource
{
    public override string ConnectionString => connectionString;

    protected override DbConnection CreateDbConnection()
    {
        var connection = new SqliteConnection(connectionString);
        connection.StateChange += (_, e) =>
        {
            if (e.CurrentState == System.Data.ConnectionState.Open)
            {
                trace.Attach(connection);
            }
        };
        return connection;
    }
}
