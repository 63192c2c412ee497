using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
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

    private OutboxWriter(IEntityType outbox, ISqlGenerationHelper sql)
    {
        var table = StoreObjectIdentifier.Table(outbox.GetTableName()!, outbox.GetSchema());
        string Column(string property) => sql.DelimitIdentifier(outbox.FindProperty(property)!.GetColumnName(table)!);
        RelationalTypeMapping Mapping(string property) => outbox.FindProperty(property)!.GetRelationalTypeMapping();

        _createdAt = Mapping(nameof(OutboxMessage.CreatedAt));
        _payload = Mapping(nameof(OutboxMessage.Payload));
        _count = Mapping(nameof(OutboxMessage.Count));
        var p0 = sql.GenerateParameterNamePlaceholder("efn_at");
        var into = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} "
                   + $"({Column(nameof(OutboxMessage.CreatedAt))}, {Column(nameof(OutboxMessage.NextAttemptAt))}, {Column(nameof(OutboxMessage.Payload))}, "
                   + $"{Column(nameof(OutboxMessage.Count))}, {Column(nameof(OutboxMessage.Status))}, {Column(nameof(OutboxMessage.Attempts))}";
        var values = $"VALUES ({p0}, {p0}, {sql.GenerateParameterNamePlaceholder("efn_payload")}, {sql.GenerateParameterNamePlaceholder("efn_count")}, 0, 0";
        _sql = $"{into}) {values})";

        if (OutboxTrace.IsMapped(outbox))
        {
            _traceParent = Mapping(nameof(OutboxMessage.TraceParent));
            _traceState = Mapping(nameof(OutboxMessage.TraceState));
            into += $", {Column(nameof(OutboxMessage.TraceParent))}, {Column(nameof(OutboxMessage.TraceState))}";
            values += $", {sql.GenerateParameterNamePlaceholder("efn_tp")}, {sql.GenerateParameterNamePlaceholder("efn_ts")}";
            _tracedSql = $"{into}) {values})";
        }
    }

    public static OutboxWriter Get(DbContext context)
        => (OutboxWriter)context.Model.GetOrAddRuntimeAnnotationValue(
            ModelAnnotations.Prefix + "OutboxWriter",
            static c => new OutboxWriter(
                c!.Model.FindEntityType(typeof(OutboxMessage))
                ?? throw new InvalidOperationException("EfNotify: the outbox table is not mapped; call modelBuilder.AddEfNotifyOutbox() in OnModelCreating."),
                c.GetService<ISqlGenerationHelper>()),
            context)!;

    public void Write(DbConnection connection, DbTransaction? transaction, DateTime createdAt, string payload, int count)
    {
        using var command = CreateCommand(connection, transaction, createdAt, payload, count);
        command.ExecuteNonQuery();
    }

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
