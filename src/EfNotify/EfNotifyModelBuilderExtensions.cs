using EfNotify;
using EfNotify.Capture;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Model configuration for EfNotify: the outbox table and fluent notifications.</summary>
public static class EfNotifyModelBuilderExtensions
{
    /// <summary>
    /// Maps the outbox table (<see cref="OutboxMessage"/>) so that it is part of the application's model and migrations.
    /// </summary>
    /// <param name="modelBuilder">The model builder.</param>
    /// <param name="tableName">The table name. Default: <c>EfNotifyOutbox</c>.</param>
    /// <param name="schema">The schema; <see langword="null"/> for the default.</param>
    /// <returns>The model builder.</returns>
    /// <remarks>
    /// The nullable columns <see cref="OutboxMessage.TraceParent"/> and <see cref="OutboxMessage.TraceState"/> came with
    /// trace context through the outbox: a database made before them needs them added (a migration, or the
    /// <c>ALTER TABLE</c> in the README), or keeps without them after this call:
    /// <c>modelBuilder.Entity&lt;OutboxMessage&gt;().Ignore(m =&gt; m.TraceParent).Ignore(m =&gt; m.TraceState)</c>.
    /// </remarks>
    public static ModelBuilder AddEfNotifyOutbox(this ModelBuilder modelBuilder, string tableName = "EfNotifyOutbox", string? schema = null)
    {
        modelBuilder.Entity<OutboxMessage>(outbox =>
        {
            outbox.ToTable(tableName, schema);
            outbox.HasKey(m => m.Id);
            outbox.Property(m => m.Id).ValueGeneratedOnAdd();
            outbox.Property(m => m.Payload).IsRequired();
            outbox.Property(m => m.LockedBy).HasMaxLength(200);
            outbox.Property(m => m.LastError).HasMaxLength(2000);
            outbox.Property(m => m.TraceParent).HasMaxLength(EfNotify.Outbox.OutboxTrace.MaxTraceParentLength);
            outbox.Property(m => m.TraceState).HasMaxLength(EfNotify.Outbox.OutboxTrace.MaxTraceStateLength);
            // The claim filters on Status and takes the lowest ids: (Status, Id) serves it without a sort, and serves the
            // cleanup too (delivered rows in id order). One index only: every insert and status change writes it.
            outbox.HasIndex(m => new { m.Status, m.Id }).HasDatabaseName($"IX_{tableName}_Status");
        });
        return modelBuilder;
    }

    /// <summary>
    /// Publishes committed changes of the entity on <paramref name="action"/>; the fluent equivalent of
    /// <see cref="NotifyAttribute"/>, which it replaces for the same action.
    /// </summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <param name="builder">The entity type builder.</param>
    /// <param name="action">The action (Pusher event name), 1 to 200 characters.</param>
    /// <param name="configure">Further configuration: change kinds, properties, target, values.</param>
    /// <returns>The entity type builder.</returns>
    public static EntityTypeBuilder<TEntity> Notify<TEntity>(
        this EntityTypeBuilder<TEntity> builder, string action, Action<NotifyBuilder<TEntity>>? configure = null)
        where TEntity : class
    {
        var notify = new NotifyBuilder<TEntity>(action);
        configure?.Invoke(notify);
        var definition = notify.Build();
        // Removed from the model and kept as a runtime annotation when the model is finalized (NotifyConvention, issue 10).
        var existing = builder.Metadata.FindAnnotation(NotifyAnnotationNames.Fluent)?.Value as IReadOnlyList<NotificationDefinition> ?? [];
        builder.HasAnnotation(
            NotifyAnnotationNames.Fluent,
            existing.Where(d => d.Action != definition.Action || d.Via != definition.Via || d.ToList != definition.ToList)
                .Append(definition)
                .ToArray());
        return builder;
    }

    /// <summary>
    /// Names the entity in channels and messages (default: the CLR type name). Letters, digits and '_' only.
    /// </summary>
    /// <typeparam name="TEntity">The entity type.</typeparam>
    /// <param name="builder">The entity type builder.</param>
    /// <param name="name">The name used in <c>private-{name}.{key}</c>.</param>
    /// <returns>The entity type builder.</returns>
    public static EntityTypeBuilder<TEntity> HasNotifyName<TEntity>(this EntityTypeBuilder<TEntity> builder, string name)
        where TEntity : class
    {
        builder.HasAnnotation(NotifyAnnotationNames.ChannelName, name);
        return builder;
    }
}
