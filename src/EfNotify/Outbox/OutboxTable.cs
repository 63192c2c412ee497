using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace EfNotify.Outbox;

/// <summary>
/// The outbox table as the application mapped it (table, schema, column names, type mappings), read once per model:
/// what every statement EfNotify writes by hand against the table is built from.
/// </summary>
internal sealed class OutboxTable
{
    private readonly IEntityType _entityType;
    private readonly StoreObjectIdentifier _table;

    private OutboxTable(IEntityType entityType, ISqlGenerationHelper sql)
    {
        _entityType = entityType;
        _table = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
        Sql = sql;
        Name = sql.DelimitIdentifier(_table.Name, _table.Schema);
        IsTraced = OutboxTrace.IsMapped(entityType);
    }

    /// <summary>The provider's quoting and parameter placeholders.</summary>
    public ISqlGenerationHelper Sql { get; }

    /// <summary>The table's delimited name, with its schema.</summary>
    public string Name { get; }

    /// <summary>Whether the application maps the trace columns (a database made before them may leave them out).</summary>
    public bool IsTraced { get; }

    /// <summary>The outbox table of the context's model.</summary>
    /// <exception cref="InvalidOperationException">The model does not map the outbox.</exception>
    public static OutboxTable Get(DbContext context)
        => context.Model.GetOrAddRuntimeAnnotationValue(
            ModelAnnotations.Prefix + nameof(OutboxTable),
            static c => new OutboxTable(
                c!.Model.FindEntityType(typeof(OutboxMessage))
                ?? throw new InvalidOperationException("EfNotify: the outbox table is not mapped; call modelBuilder.AddEfNotifyOutbox() in OnModelCreating."),
                c.GetService<ISqlGenerationHelper>()),
            context)!;

    /// <summary>The delimited column of a property of <see cref="OutboxMessage"/>, for example <c>nameof(OutboxMessage.Status)</c>.</summary>
    public string Column(string property) => Sql.DelimitIdentifier(_entityType.FindProperty(property)!.GetColumnName(_table)!);

    /// <summary>The provider's type mapping of a property of <see cref="OutboxMessage"/>, for parameters and literals.</summary>
    public RelationalTypeMapping Mapping(string property) => _entityType.FindProperty(property)!.GetRelationalTypeMapping();
}
