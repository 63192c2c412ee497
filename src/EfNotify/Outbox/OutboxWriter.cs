using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace EfNotify.Outbox;

/// <summary>
/// Inserts one outbox row on the transaction's own connection, with SQL built once per model from the mapping the
/// application configured (table, schema, column names) and parameters from the provider's own type mappings.
/// </summary>
/// <remarks>
/// Inside an activity the row keeps its trace context (<see cref="OutboxTrace"/>); without one, or where the application
/// left the trace columns out of its mapping (a database made before them), the INSERT names no trace column.
/// </remarks>
internal sealed class OutboxWriter
{
    private readonly string _sql;
    private readonly RelationalTypeMapping _createdAt;
    private readonly RelationalTypeMapping _payload;
    private readonly RelationalTypeMapping _count;
    private readonly string? _tracedSql;
    private readonly RelationalTypeMapping? _traceParent;
    private readonly RelationalTypeMapping? _traceState;

    private OutboxWriter(OutboxTable table)
    {
        var sql = table.Sql;
        _createdAt = table.Mapping(nameof(OutboxMessage.CreatedAt));
        _payload = table.Mapping(nameof(OutboxMessage.Payload));
        _count = table.Mapping(nameof(OutboxMessage.Count));
        var p0 = sql.GenerateParameterNamePlaceholder("efn_at");
        var into = $"INSERT INTO {table.Name} "
                   + $"({table.Column(nameof(OutboxMessage.CreatedAt))}, {table.Column(nameof(OutboxMessage.NextAttemptAt))}, {table.Column(nameof(OutboxMessage.Payload))}, "
                   + $"{table.Column(nameof(OutboxMessage.Count))}, {table.Column(nameof(OutboxMessage.Status))}, {table.Column(nameof(OutboxMessage.Attempts))}";
        var values = $"VALUES ({p0}, {p0}, {sql.GenerateParameterNamePlaceholder("efn_payload")}, {sql.GenerateParameterNamePlaceholder("efn_count")}, 0, 0";
        _sql = $"{into}) {values})";

        if (table.IsTraced)
        {
            _traceParent = table.Mapping(nameof(OutboxMessage.TraceParent));
            _traceState = table.Mapping(nameof(OutboxMessage.TraceState));
            into += $", {table.Column(nameof(OutboxMessage.TraceParent))}, {table.Column(nameof(OutboxMessage.TraceState))}";
            values += $", {sql.GenerateParameterNamePlaceholder("efn_tp")}, {sql.GenerateParameterNamePlaceholder("efn_ts")}";
            _tracedSql = $"{into}) {values})";
        }
    }

    /// <summary>The writer of the context's model, built once from its <see cref="OutboxTable"/>.</summary>
    /// <exception cref="InvalidOperationException">The model does not map the outbox.</exception>
    public static OutboxWriter Get(DbContext context)
        => (OutboxWriter)context.Model.GetOrAddRuntimeAnnotationValue(
            ModelAnnotations.Prefix + nameof(OutboxWriter), static c => new OutboxWriter(OutboxTable.Get(c!)), context)!;

    /// <summary>Inserts the rows on the connection, in the transaction when given; returns how many notifications they hold.</summary>
    public int WriteAll(DbConnection connection, DbTransaction? transaction, DateTime createdAt, IEnumerable<(string Payload, int Count)> rows)
    {
        var written = 0;
        foreach (var (payload, count) in rows)
        {
            Write(connection, transaction, createdAt, payload, count);
            written += count;
        }

        return written;
    }

    /// <inheritdoc cref="WriteAll"/>
    public async Task<int> WriteAllAsync(
        DbConnection connection, DbTransaction? transaction, DateTime createdAt, IEnumerable<(string Payload, int Count)> rows, CancellationToken cancellationToken)
    {
        var written = 0;
        foreach (var (payload, count) in rows)
        {
            await WriteAsync(connection, transaction, createdAt, payload, count, cancellationToken).ConfigureAwait(false);
            written += count;
        }

        return written;
    }

    /// <summary>Inserts one row.</summary>
    public void Write(DbConnection connection, DbTransaction? transaction, DateTime createdAt, string payload, int count)
    {
        using var command = CreateCommand(connection, transaction, createdAt, payload, count);
        command.ExecuteNonQuery();
    }

    /// <inheritdoc cref="Write"/>
    public async Task WriteAsync(DbConnection connection, DbTransaction? transaction, DateTime createdAt, string payload, int count, CancellationToken cancellationToken)
    {
        var command = CreateCommand(connection, transaction, createdAt, payload, count);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private DbCommand CreateCommand(DbConnection connection, DbTransaction? transaction, DateTime createdAt, string payload, int count)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = _sql;
        command.Parameters.Add(_createdAt.CreateParameter(command, "efn_at", createdAt, nullable: false));
        command.Parameters.Add(_payload.CreateParameter(command, "efn_payload", payload, nullable: false));
        command.Parameters.Add(_count.CreateParameter(command, "efn_count", count, nullable: false));
        if (_traceParent is not null && OutboxTrace.TryCapture(out var traceParent, out var traceState))
        {
            command.CommandText = _tracedSql;
            command.Parameters.Add(_traceParent.CreateParameter(command, "efn_tp", traceParent, nullable: true));
            command.Parameters.Add(_traceState!.CreateParameter(command, "efn_ts", traceState, nullable: true));
        }

        return command;
    }
}
