using System.Data.Common;
using System.Globalization;
using System.Text;
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
    private readonly ISqlGenerationHelper _helper;
    private readonly string _into;
    private readonly string _sql;
    private readonly RelationalTypeMapping _createdAt;
    private readonly RelationalTypeMapping _payload;
    private readonly RelationalTypeMapping _count;
    private readonly string? _tracedInto;
    private readonly string? _tracedSql;
    private readonly RelationalTypeMapping? _traceParent;
    private readonly RelationalTypeMapping? _traceState;

    private OutboxWriter(OutboxTable table)
    {
        _helper = table.Sql;
        _createdAt = table.Mapping(nameof(OutboxMessage.CreatedAt));
        _payload = table.Mapping(nameof(OutboxMessage.Payload));
        _count = table.Mapping(nameof(OutboxMessage.Count));
        _into = $"INSERT INTO {table.Name} "
                + $"({table.Column(nameof(OutboxMessage.CreatedAt))}, {table.Column(nameof(OutboxMessage.NextAttemptAt))}, {table.Column(nameof(OutboxMessage.Payload))}, "
                + $"{table.Column(nameof(OutboxMessage.Count))}, {table.Column(nameof(OutboxMessage.Status))}, {table.Column(nameof(OutboxMessage.Attempts))}";
        _sql = Statement("", traced: false);

        if (table.IsTraced)
        {
            _traceParent = table.Mapping(nameof(OutboxMessage.TraceParent));
            _traceState = table.Mapping(nameof(OutboxMessage.TraceState));
            _tracedInto = _into + $", {table.Column(nameof(OutboxMessage.TraceParent))}, {table.Column(nameof(OutboxMessage.TraceState))}";
            _tracedSql = Statement("", traced: true);
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

    /// <summary>
    /// Appends the INSERT of each row to a command about to run (the first command of a save's batch), so that the rows
    /// travel in its round trip; returns how many notifications they hold.
    /// </summary>
    /// <param name="command">The command; its statements and the rows commit or fail together (one transaction).</param>
    /// <param name="createdAt">The rows' creation time.</param>
    /// <param name="rows">The rows.</param>
    /// <param name="condition">
    /// A boolean SQL expression (its parameters already on the command): the rows are inserted only where it holds when
    /// the INSERT runs, for example only if the statement before it changed its row. Null: inserted unconditionally.
    /// </param>
    public int AppendTo(DbCommand command, DateTime createdAt, List<(string Payload, int Count)> rows, string? condition = null)
    {
        var text = new StringBuilder(command.CommandText.TrimEnd());
        var terminator = _helper.StatementTerminator;
        if (text.Length > 0 && !command.CommandText.TrimEnd().EndsWith(terminator, StringComparison.Ordinal))
        {
            text.Append(terminator);
        }

        var written = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var suffix = "_b" + i.ToString(CultureInfo.InvariantCulture);
            var traced = AddParameters(command, suffix, createdAt, rows[i].Payload, rows[i].Count);
            text.Append('\n').Append(Statement(suffix, traced, condition)).Append(terminator);
            written += rows[i].Count;
        }

        command.CommandText = text.ToString();
        return written;
    }

    private string Statement(string suffix, bool traced, string? condition = null)
    {
        var at = _helper.GenerateParameterNamePlaceholder("efn_at" + suffix);
        var values = $"{at}, {at}, {_helper.GenerateParameterNamePlaceholder("efn_payload" + suffix)}, "
                     + $"{_helper.GenerateParameterNamePlaceholder("efn_count" + suffix)}, 0, 0";
        if (traced)
        {
            values += $", {_helper.GenerateParameterNamePlaceholder("efn_tp" + suffix)}, {_helper.GenerateParameterNamePlaceholder("efn_ts" + suffix)}";
        }

        var into = traced ? _tracedInto : _into;
        return condition is null ? $"{into}) VALUES ({values})" : $"{into}) SELECT {values} WHERE {condition}";
    }

    private DbCommand CreateCommand(DbConnection connection, DbTransaction? transaction, DateTime createdAt, string payload, int count)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = AddParameters(command, "", createdAt, payload, count) ? _tracedSql : _sql;
        return command;
    }

    /// <returns>Whether the row carries its trace context (and so needs the traced statement).</returns>
    private bool AddParameters(DbCommand command, string suffix, DateTime createdAt, string payload, int count)
    {
        command.Parameters.Add(_createdAt.CreateParameter(command, "efn_at" + suffix, createdAt, nullable: false));
        command.Parameters.Add(_payload.CreateParameter(command, "efn_payload" + suffix, payload, nullable: false));
        command.Parameters.Add(_count.CreateParameter(command, "efn_count" + suffix, count, nullable: false));
        if (_traceParent is null || !OutboxTrace.TryCapture(out var traceParent, out var traceState))
        {
            return false;
        }

        command.Parameters.Add(_traceParent.CreateParameter(command, "efn_tp" + suffix, traceParent, nullable: true));
        command.Parameters.Add(_traceState!.CreateParameter(command, "efn_ts" + suffix, traceState, nullable: true));
        return true;
    }
}
