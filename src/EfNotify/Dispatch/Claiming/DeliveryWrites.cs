using Microsoft.EntityFrameworkCore;

namespace EfNotify.Dispatch;

/// <summary>The leader's delivery record, written on a context of its own.</summary>
internal sealed class DeliveryWrites<TContext>(IServiceProvider services, TimeProvider time) : IDeliveryWrites
    where TContext : DbContext
{
    private readonly ContextSlot<TContext> _context = new(services);

    public Task MarkDeliveredAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
        => _context.RunAsync((db, token) => OutboxStore.MarkDeliveredAsync(db, owner: null, ids, time.GetUtcNow().UtcDateTime, token), cancellationToken);

    public ValueTask ReleaseAsync() => _context.ReleaseAsync();
}
