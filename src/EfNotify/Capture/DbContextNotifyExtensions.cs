using EfNotify.Capture;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Microsoft.EntityFrameworkCore;

/// <summary>The explicit "notify action": queue a notification in the context's unit of work.</summary>
public static class DbContextNotifyExtensions
{
    /// <summary>
    /// Queues a notification of <paramref name="action"/> on <paramref name="entity"/>'s channel. It is written to the
    /// outbox with the next commit of this context (the next <c>SaveChanges</c>, or the commit of the current
    /// transaction) and delivered after it, like the automatic ones; nothing is sent if that transaction rolls back.
    /// The entity type need not be marked [Notify].
    /// </summary>
    /// <param name="context">The context.</param>
    /// <param name="entity">An entity of the context's model, tracked or not.</param>
    /// <param name="action">The action (Pusher event name), 1 to 200 characters, not starting with <c>pusher:</c> or <c>pusher_internal:</c>.</param>
    /// <exception cref="ArgumentException">The entity is not of the model, or the action name is invalid.</exception>
    /// <exception cref="InvalidOperationException">EfNotify is not enabled on this context (<c>UseEfNotify</c>).</exception>
    public static void Notify(this DbContext context, object entity, string action)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var entityType = context.Model.FindEntityType(entity.GetType())
            ?? throw new ArgumentException($"EfNotify: '{entity.GetType().Name}' is not an entity type of {context.GetType().Name}.", nameof(entity));
        Queue(context, entity, entityType, action);
    }

    /// <summary>
    /// Queues a notification of <paramref name="action"/> on the list channel of <typeparamref name="TEntity"/>
    /// (<c>private-{Entity}</c>), delivered after the next commit of this context.
    /// </summary>
    /// <typeparam name="TEntity">An entity type of the context's model.</typeparam>
    /// <param name="context">The context.</param>
    /// <param name="action">The action (Pusher event name), 1 to 200 characters, not starting with <c>pusher:</c> or <c>pusher_internal:</c>.</param>
    /// <exception cref="ArgumentException">The type is not of the model, or the action name is invalid.</exception>
    public static void NotifyList<TEntity>(this DbContext context, string action)
        where TEntity : class
    {
        var entityType = context.Model.FindEntityType(typeof(TEntity))
            ?? throw new ArgumentException($"EfNotify: '{typeof(TEntity).Name}' is not an entity type of {context.GetType().Name}.", nameof(TEntity));
        Queue(context, null, entityType, action);
    }

    private static void Queue(DbContext context, object? entity, IEntityType entityType, string action)
    {
        if (NotifyConvention.ActionProblem(action) is { } problem)
        {
            // The same rules as the model's [Notify] actions: a name Pusher refuses would be dead-lettered after the commit.
            throw new ArgumentException($"EfNotify: db.Notify was given {problem}.", nameof(action));
        }

        NotifyUnitOfWork unitOfWork;
        try
        {
            unitOfWork = EfNotifyInterceptor.UnitOfWork(context);
        }
        catch (InvalidOperationException exception)
        {
            throw new InvalidOperationException(
                $"EfNotify is not enabled on {context.GetType().Name}: call optionsBuilder.UseEfNotify(serviceProvider) where the context is configured.", exception);
        }

        unitOfWork.Queue(entity, entityType, action, context.Database.CurrentTransaction?.GetDbTransaction());
    }
}
