using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace EfNotify.Dispatch;

/// <summary>
/// The leading dispatcher's claim and delivery record as SQL of its own, built once per model from the mapping the
/// application configured (as <see cref="Outbox.OutboxWriter"/> is). These two statements run for every claim, so
/// they name the rows to skip or to mark by runs of ids (<see cref="IdRanges"/>) instead of a parameter per id, and
/// read the claimed columns straight from the data reader: a claim of 100 rows with 200 skipped costs about a quarter
/// of the LINQ query's time, a delivery record about half (SQLite file, 1 Dec 2026).
/// </summary>
/// <remarks>
/// Only for SQLite and PostgreSQL (both <c>LIMIT</c>), and only while the columns read need no value converter; other
/// providers and mappings keep the LINQ queries of <see cref="OutboxStore"/>. The statements run on the context's
/// connection (opened through EF, so connection interceptors apply) and in its current transaction.
/// </remarks>
internal sealed class LeaderCommands
{
    private const string AnnotationName = ModelAnnotations.Prefix + "LeaderCommands";
    private const string DeliveredAtName = "efn_delivered_at";

    private readonly string _claimStart;
    private readonly string _claimEnd;
    private readonly string _markStart;
    private readonly string _id;
    private readonly RelationalTypeMapping _deliveredAt;
    private readonly bool _traced;

    private LeaderCommands(IEntityType outbox, ISqlGenerationHelper sql)
    {
        var table = StoreObjectIdentifier.Table(outbox.GetTableName()!, outbox.GetSchema());
        string Column(string property) => sql.DelimitIdentifier(outbox.FindProperty(property)!.GetColumnName(table)!);
        var status = outbox.FindProperty(nameof(OutboxMessage.Status))!.GetRelationalTypeMapping();
        var name = sql.DelimitIdentifier(table.Name, table.Schema);

        _id = Column(nameof(OutboxMessage.Id));
        _deliveredAt = outbox.FindProperty(nameof(OutboxMessage.DeliveredAt))!.GetRelationalTypeMapping();
        // The trace columns only where the application maps them (a database made before them may leave them out).
        _traced = OutboxTrace.IsMapped(outbox);
        var trace = _traced ? $", {Column(nameof(OutboxMessage.TraceParent))}, {Column(nameof(OutboxMessage.TraceState))}" : "";
        _claimStart = $"SELECT {_id}, {Column(nameof(OutboxMessage.CreatedAt))}, {Column(nameof(OutboxMessage.Payload))}, "
                      + $"{Column(nameof(OutboxMessage.Count))}, {Column(nameof(OutboxMessage.Attempts))}, {Column(nameof(OutboxMessage.NextAttemptAt))}{trace} "
                      + $"FROM {name} WHERE {Column(nameof(OutboxMessage.Status))} = {status.GenerateSqlLiteral(OutboxStatus.Pending)}";
        _claimEnd = $" ORDER BY {_id} LIMIT ";
        _markStart = $"UPDATE {name} SET {Column(nameof(OutboxMessage.Status))} = {status.GenerateSqlLiteral(OutboxStatus.Delivered)}, "
                     + $"{Column(nameof(OutboxMessage.DeliveredAt))} = {sql.GenerateParameterNamePlaceholder(DeliveredAtName)}, "
                     + $"{Column(nameof(OutboxMessage.LockedBy))} = NULL, {Column(nameof(OutboxMessage.LockedUntil))} = NULL WHERE ";
    }

    /// <summary>The commands for the context's model, or <see langword="null"/> when its provider or mapping keeps LINQ.</summary>
    public static LeaderCommands? For(DbContext context)
        => context.Model.GetOrAddRuntimeAnnotationValue(
            AnnotationName,
            static c => Supports(c!) ? new LeaderCommands(c!.Model.FindEntityType(typeof(OutboxMessage))!, c.GetService<ISqlGenerationHelper>()) : null,
            context);

    /// <summary>
    /// The claim's SELECT: the oldest pending rows, skipping <paramref name="excluded"/>, and after the id
    /// <paramref name="after"/> when given (a condition of the index scan, which then starts past the rows already
    /// published, where PostgreSQL still finds their dead entries until vacuum).
    /// </summary>
    public string ClaimSql(int batchSize, IReadOnlyList<(long First, long Last)> excluded, long? after = null)
    {
        var sql = new StringBuilder(_claimStart, _claimStart.Length + _claimEnd.Length + 64);
        if (after is { } last)
        {
            sql.Append(" AND ").Append(_id).Append(" > ").Append(last.ToString(CultureInfo.InvariantCulture));
        }

        if (excluded.Count > 0)
        {
            sql.Append(" AND ");
            IdRanges.AppendCondition(sql, _id, excluded, negate: true);
        }

        return sql.Append(_claimEnd).Append(batchSize.ToString(CultureInfo.InvariantCulture)).ToString();
    }

    /// <summary>Reads the oldest pending rows in id order, skipping <paramref name="excluded"/> and the ids up to <paramref name="after"/>.</summary>
    public async Task<List<OutboxMessage>> ClaimAsync(
        DbContext db, int batchSize, IReadOnlyCollection<long> excluded, long? after, CancellationToken cancellationToken)
    {
        var rows = new List<OutboxMessage>(batchSize);
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var command = CreateCommand(db, ClaimSql(batchSize, IdRanges.From(excluded), after));
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        rows.Add(new OutboxMessage
                        {
                            Id = reader.GetInt64(0),
                            CreatedAt = reader.GetDateTime(1),
                            Payload = reader.GetString(2),
                            Count = reader.GetInt32(3),
                            Attempts = reader.GetInt32(4),
                            NextAttemptAt = reader.GetDateTime(5),
                            TraceParent = _traced && !reader.IsDBNull(6) ? reader.GetString(6) : null,
                            TraceState = _traced && !reader.IsDBNull(7) ? reader.GetString(7) : null,
                        });
                    }
                }
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }

        return rows;
    }

    /// <summary>The delivery record's UPDATE for the given runs of ids.</summary>
    public string MarkDeliveredSql(IReadOnlyList<(long First, long Last)> ids)
    {
        var sql = new StringBuilder(_markStart, _markStart.Length + 64);
        IdRanges.AppendCondition(sql, _id, ids, negate: false);
        return sql.ToString();
    }

    /// <summary>Marks the rows delivered at <paramref name="now"/>, in one statement.</summary>
    public async Task<int> MarkDeliveredAsync(DbContext db, IReadOnlyCollection<long> ids, DateTime now, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var command = CreateCommand(db, MarkDeliveredSql(IdRanges.From(ids)));
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(_deliveredAt.CreateParameter(command, DeliveredAtName, now, nullable: true));
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    private static DbCommand CreateCommand(DbContext db, string sql)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        if (db.Database.GetCommandTimeout() is { } timeout)
        {
            command.CommandTimeout = timeout;
        }

        return command;
    }

    private static bool Supports(DbContext context)
    {
        if (!OutboxDialect.For(context).HasLeaderCommands)
        {
            return false;
        }

        var outbox = context.Model.FindEntityType(typeof(OutboxMessage));
        if (outbox?.GetTableName() is null)
        {
            return false;
        }

        // Read straight from the reader and compared by the database as stored: no converter may stand in between.
        string[] plain = [nameof(OutboxMessage.Id), nameof(OutboxMessage.CreatedAt), nameof(OutboxMessage.Payload), nameof(OutboxMessage.Count),
            nameof(OutboxMessage.Attempts), nameof(OutboxMessage.NextAttemptAt), nameof(OutboxMessage.DeliveredAt)];
        return plain.All(p => outbox.FindProperty(p) is { } property && property.GetTypeMapping().Converter is null && property.GetValueConverter() is null);
    }
}
