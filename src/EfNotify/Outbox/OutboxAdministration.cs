using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Outbox;

/// <summary>The <see cref="IOutboxAdministration"/> of <typeparamref name="TContext"/>'s outbox.</summary>
internal sealed class OutboxAdministration<TContext>(IServiceProvider services, IOutboxSignal signal, TimeProvider time) : IOutboxAdministration
    where TContext : DbContext
{
    public Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(int take = 50, long? afterId = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(take, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(take, 1000);
        return WithContextAsync<IReadOnlyList<DeadLetter>>(async db =>
        {
            var rows = await OutboxQueries.DeadLettersAsync(db, take, afterId, cancellationToken).ConfigureAwait(false);
            return rows.Select(r => new DeadLetter(
                r.Id, DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc), r.Attempts, r.LastError, r.Count, Summarize(r.Payload))).ToList();
        });
    }

    public async Task<int> ReplayAsync(IEnumerable<long> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var distinct = ids.Distinct().ToList();
        if (distinct.Count == 0)
        {
            return 0;
        }

        var replayed = await WithContextAsync(db => OutboxQueries.ReplayAsync(db, distinct, Now(), cancellationToken)).ConfigureAwait(false);
        Wake(replayed);
        return replayed;
    }

    public async Task<int> ReplayAllAsync(CancellationToken cancellationToken = default)
    {
        var replayed = await WithContextAsync(db => OutboxQueries.ReplayAllAsync(db, Now(), cancellationToken)).ConfigureAwait(false);
        Wake(replayed);
        return replayed;
    }

    public Task<OutboxBacklog> GetBacklogAsync(CancellationToken cancellationToken = default)
        => WithContextAsync(db => OutboxQueries.GetBacklogAsync(db, Now(), cancellationToken));

    internal static IReadOnlyList<DeadLetterEvent> Summarize(string payload)
    {
        var events = new List<DeadLetterEvent>();
        try
        {
            var seen = new HashSet<(string, string)>();
            foreach (var (channel, name) in OutboxPayload.Targets(payload))
            {
                if (seen.Add((channel, name)))
                {
                    events.Add(new DeadLetterEvent(channel, name));
                    if (events.Count == DeadLetter.MaxEventsListed)
                    {
                        break;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // A payload that is not JSON was dead-lettered for that very reason; the listing still shows the row.
        }

        return events;
    }

    private DateTime Now() => time.GetUtcNow().UtcDateTime;

    private void Wake(int replayed)
    {
        if (replayed > 0)
        {
            signal.Notify();
        }
    }

    private async Task<T> WithContextAsync<T>(Func<DbContext, Task<T>> action)
    {
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var scoped = scope.ServiceProvider.GetService<TContext>();
            var db = scoped
                ?? scope.ServiceProvider.GetService<IDbContextFactory<TContext>>()?.CreateDbContext()
                ?? throw new InvalidOperationException(
                    $"EfNotify: {typeof(TContext).Name} is not registered. Register it with AddDbContext, AddDbContextPool or AddDbContextFactory.");
            try
            {
                return await action(db).ConfigureAwait(false);
            }
            finally
            {
                if (scoped is null)
                {
                    await db.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }
}
