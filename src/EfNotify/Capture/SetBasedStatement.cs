using System.Data.Common;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace EfNotify.Capture;

/// <summary>
/// An <c>UPDATE</c> or <c>DELETE</c> that EF Core generated for <c>ExecuteUpdate</c>/<c>ExecuteDelete</c> on the table of a
/// [Notify] entity: what to append so the statement returns the columns its notifications need, and which columns it sets.
/// </summary>
internal sealed partial class SetBasedStatement
{
    private SetBasedStatement(SetBasedTarget target, bool delete, string returning, HashSet<IProperty>? setProperties)
    {
        Target = target;
        IsDelete = delete;
        Returning = returning;
        SetProperties = setProperties;
    }

    public const string SqliteProvider = "Microsoft.EntityFrameworkCore.Sqlite";

    public const string PostgresProvider = "Npgsql.EntityFrameworkCore.PostgreSQL";

    public SetBasedTarget Target { get; }

    public bool IsDelete { get; }

    /// <summary>The <c>RETURNING</c> clause, qualified by the statement's alias.</summary>
    public string Returning { get; }

    /// <summary>The properties an UPDATE sets; <see langword="null"/> for a DELETE or when they cannot be told from the SQL.</summary>
    public HashSet<IProperty>? SetProperties { get; }

    public string WithReturning(string commandText) => commandText.TrimEnd().TrimEnd(';') + Environment.NewLine + Returning;

    /// <summary>The statement, when <paramref name="commandText"/> changes the table of a [Notify] entity; otherwise <see langword="null"/>.</summary>
    public static SetBasedStatement? TryParse(DbContext context, string commandText)
    {
        var match = StatementRegex().Match(commandText);
        if (!match.Success || !SetBasedTargets.Get(context).TryGet(match.Groups["table"].Value, out var target))
        {
            return null;
        }

        var delete = match.Groups["verb"].Value.StartsWith("DELETE", StringComparison.OrdinalIgnoreCase);
        // SQLite's RETURNING names the changed table's columns unqualified (it may reference no other table); PostgreSQL's
        // may see the tables of a FROM clause too, so the columns are qualified by the statement's alias there.
        var qualifier = context.Database.ProviderName == SqliteProvider ? ""
            : (match.Groups["alias"].Success ? match.Groups["alias"].Value : match.Groups["table"].Value) + ".";
        var sql = context.GetService<ISqlGenerationHelper>();
        var returning = "RETURNING " + string.Join(", ", target.Columns.Select(c => qualifier + sql.DelimitIdentifier(c)));
        return new SetBasedStatement(target, delete, returning, delete ? null : SetColumns(commandText, match.Index + match.Length, target));
    }

    private static HashSet<IProperty>? SetColumns(string commandText, int start, SetBasedTarget target)
    {
        var set = SetClauseRegex().Match(commandText, start);
        if (!set.Success)
        {
            return null;
        }

        var properties = new HashSet<IProperty>();
        foreach (Match assignment in AssignmentRegex().Matches(set.Groups["assignments"].Value))
        {
            if (!target.ByColumn.TryGetValue(assignment.Groups["column"].Value.Replace("\"\"", "\"", StringComparison.Ordinal), out var property))
            {
                return null; // a column this code does not know: treat every WhenChanged as met
            }

            properties.Add(property);
        }

        return properties.Count > 0 ? properties : null;
    }

    // EF Core's SQL for ExecuteUpdate/ExecuteDelete on SQLite and PostgreSQL, after any tags (-- comments).
    [GeneratedRegex("""\A(?:\s*--[^\n]*\n)*\s*(?<verb>UPDATE|DELETE\s+FROM)\s+(?<table>(?:"(?:[^"]|"")+"\.)?"(?:[^"]|"")+")(?:\s+AS\s+(?<alias>"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*))?""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex StatementRegex();

    [GeneratedRegex("""\G\s*SET\s+(?<assignments>.*?)(?:\n\s*(?:FROM|WHERE)\b|\z)""", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex SetClauseRegex();

    [GeneratedRegex("""(?:\A|,)\s*(?:[A-Za-z_][A-Za-z0-9_$]*\.|"(?:[^"]|"")+"\.)?"(?<column>(?:[^"]|"")+)"\s*=""", RegexOptions.CultureInvariant)]
    private static partial Regex AssignmentRegex();
}

/// <summary>A [Notify] entity's table, the columns its notifications read from changed rows, and how to read them.</summary>
internal sealed class SetBasedTarget
{
    private static readonly MethodInfo MakeReader = typeof(SetBasedTarget).GetMethod(nameof(ReaderOf), BindingFlags.NonPublic | BindingFlags.Static)!;

    public SetBasedTarget(IEntityType entityType, EntityNotifications notifications, StoreObjectIdentifier table)
    {
        EntityType = entityType;
        Notifications = notifications;
        var needed = new List<IProperty>(entityType.FindPrimaryKey()!.Properties);
        foreach (var notification in notifications.Notifications)
        {
            needed.AddRange(notification.KeyProperties);
            needed.AddRange(notification.IncludeValues);
        }

        Properties = [.. needed.Distinct()];
        Columns = [.. Properties.Select(p => p.GetColumnName(table)!)];
        Readers = [.. Properties.Select(Reader)];
        foreach (var property in entityType.GetProperties())
        {
            if (property.GetColumnName(table) is { } column)
            {
                ByColumn[column] = property;
            }
        }
    }

    public IEntityType EntityType { get; }

    public EntityNotifications Notifications { get; }

    /// <summary>The properties returned, in <c>RETURNING</c> order.</summary>
    public IProperty[] Properties { get; }

    public string[] Columns { get; }

    /// <summary>Per returned column: reads its store value (as the provider's CLR type, which keys and channels use).</summary>
    public Func<DbDataReader, int, object?>[] Readers { get; }

    public Dictionary<string, IProperty> ByColumn { get; } = new(StringComparer.Ordinal);

    public int IndexOf(IProperty property) => Array.IndexOf(Properties, property);

    private static Func<DbDataReader, int, object?> Reader(IProperty property)
    {
        var mapping = property.GetRelationalTypeMapping();
        var type = mapping.Converter?.ProviderClrType ?? mapping.ClrType;
        return (Func<DbDataReader, int, object?>)MakeReader.MakeGenericMethod(Nullable.GetUnderlyingType(type) ?? type).Invoke(null, null)!;
    }

    private static Func<DbDataReader, int, object?> ReaderOf<T>()
        => static (reader, ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<T>(ordinal);
}

/// <summary>The tables of a model's [Notify] entities by their name as EF Core writes it in SQL; computed once per model.</summary>
internal sealed class SetBasedTargets
{
    private const string Annotation = NotifyAnnotationNames.Prefix + "SetBased";
    private readonly Dictionary<string, SetBasedTarget> _byTable = new(StringComparer.Ordinal);

    private SetBasedTargets(IModel model, ISqlGenerationHelper sql)
    {
        var notify = NotifyModel.Get(model);
        foreach (var entityType in model.GetEntityTypes())
        {
            // A table shared by a hierarchy is changed as its root type: the root's notifications apply to all its rows.
            if (entityType.BaseType is not null || entityType.GetTableName() is not { } name || notify.Find(entityType) is not { } notifications)
            {
                continue;
            }

            var table = StoreObjectIdentifier.Table(name, entityType.GetSchema());
            _byTable.TryAdd(sql.DelimitIdentifier(table.Name, table.Schema), new SetBasedTarget(entityType, notifications, table));
        }
    }

    public bool IsEmpty => _byTable.Count == 0;

    public static SetBasedTargets Get(DbContext context)
        => (SetBasedTargets)context.Model.GetOrAddRuntimeAnnotationValue(
            Annotation, static c => new SetBasedTargets(c!.Model, c.GetService<ISqlGenerationHelper>()), context)!;

    public bool TryGet(string delimitedTable, out SetBasedTarget target) => _byTable.TryGetValue(delimitedTable, out target!);
}
