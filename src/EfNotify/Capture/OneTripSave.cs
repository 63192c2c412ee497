using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Update;

namespace EfNotify.Capture;

/// <summary>
/// A save of one row on PostgreSQL that EF Core sends as a single command without a transaction: the outbox INSERT is
/// appended to that command instead of making the save transactional, so it costs one round trip as without EfNotify.
/// </summary>
/// <remarks>
/// Npgsql sends the statements of one command, then a single Sync, and PostgreSQL runs the statements before a Sync as
/// one implicit transaction: they commit together, and an error in any rolls back all. What that does not cover is an
/// UPDATE that matches no row (a concurrency conflict, a row deleted meanwhile), which is no error: EF Core throws only
/// after the batch committed. So the INSERT of an update's notifications is conditional, in the same batch, on the row
/// having been written by this transaction (its <c>xmin</c> is the transaction's id). An INSERT of a row either inserts
/// it or fails, so its notifications need no condition. A DELETE leaves nothing a later statement of the transaction can
/// see, so deletes keep the transactional save.
/// </remarks>
internal static class OneTripSave
{
    /// <summary>
    /// Whether the save's only changed entry can go in one command with its notifications: an insert whose keys are known
    /// before it, an update of an entity mapped to one table by its primary key, or any insert or update of an entity
    /// without notifications; never a delete nor an entity saved through stored procedures.
    /// </summary>
    public static bool Fits(IUpdateEntry entry, NotifyModel model, DbContext context)
    {
        var entityType = entry.EntityType;
        if (entry.EntityState is not (EntityState.Added or EntityState.Modified)
            || entityType.GetInsertStoredProcedure() is not null || entityType.GetUpdateStoredProcedure() is not null)
        {
            return false;
        }

        if (model.Find(entityType) is null)
        {
            return true;
        }

        return entry.EntityState == EntityState.Added
            ? !ChangeCapture.HasTemporaryKey(entry, model)
            : RowWritten.Get(entityType, context) is not null;
    }

    /// <summary>
    /// The condition under which the notifications of <paramref name="entry"/> are inserted, its parameters added to
    /// <paramref name="command"/>: none for an insert, the row written by this transaction for an update.
    /// </summary>
    public static string? Condition(DbCommand command, IUpdateEntry entry, DbContext context)
        => entry.EntityState == EntityState.Added ? null : RowWritten.Get(entry.EntityType, context)!.Bind(command, entry);

    /// <summary>
    /// <c>EXISTS</c> of the entity's row, by its primary key, with <c>xmin</c> equal to this transaction's id: true after
    /// this transaction's UPDATE changed the row, false when the UPDATE matched none. Built once per entity type; null where
    /// the entity is not mapped to one table by its primary key columns (table-per-type, entity splitting, JSON).
    /// </summary>
    private sealed class RowWritten
    {
        private const string Annotation = NotifyAnnotationNames.Prefix + "OneTripRow";
        private readonly IProperty[] _key;
        private readonly string _sql;

        private RowWritten(IProperty[] key, string sql)
        {
            _key = key;
            _sql = sql;
        }

        public static RowWritten? Get(IEntityType entityType, DbContext context)
            => entityType.GetOrAddRuntimeAnnotationValue(
                Annotation, static a => new Holder(Build(a.EntityType, a.Sql)), (EntityType: entityType, Sql: context.GetService<ISqlGenerationHelper>()))!.Value;

        public string Bind(DbCommand command, IUpdateEntry entry)
        {
            for (var i = 0; i < _key.Length; i++)
            {
                var property = _key[i];
                command.Parameters.Add(property.GetRelationalTypeMapping().CreateParameter(
                    command, "efn_key" + i.ToString(CultureInfo.InvariantCulture), entry.GetCurrentValue(property), nullable: false));
            }

            return _sql;
        }

        private static RowWritten? Build(IEntityType entityType, ISqlGenerationHelper sql)
        {
            if (entityType.IsMappedToJson() || entityType.GetTableMappings().Count() != 1 || entityType.GetTableName() is not { } name)
            {
                return null;
            }

            var table = StoreObjectIdentifier.Table(name, entityType.GetSchema());
            var key = entityType.FindPrimaryKey()!.Properties.ToArray();
            var text = new StringBuilder("EXISTS (SELECT 1 FROM ").Append(sql.DelimitIdentifier(table.Name, table.Schema)).Append(" WHERE ");
            for (var i = 0; i < key.Length; i++)
            {
                if (key[i].GetColumnName(table) is not { } column)
                {
                    return null;
                }

                text.Append(sql.DelimitIdentifier(column)).Append(" = ")
                    .Append(sql.GenerateParameterNamePlaceholder("efn_key" + i.ToString(CultureInfo.InvariantCulture))).Append(" AND ");
            }

            // Only an xid assigned to this transaction can match: one that wrote nothing yet compares to NULL, never true.
            return new RowWritten(key, text.Append("xmin = pg_current_xact_id_if_assigned()::xid)").ToString());
        }

        /// <summary>A runtime annotation's value, so that "not possible" is remembered too.</summary>
        private sealed record Holder(RowWritten? Value);
    }
}
