using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// While a backlog drains the dispatcher keeps its contexts from one claim to the next; once it is idle it holds none,
/// so no scope of the application's (and nothing scoped in it) stays alive between bursts.
/// </summary>
[Collection(SoketiCollection.Name)]
public sealed class IdleDispatcherTests(SoketiServer server)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [SoketiFact]
    public async Task A_drained_dispatcher_used_fewer_contexts_than_claims_and_holds_none_when_idle()
    {
        const int rows = 60, claim = 10;
        await using var writer = await NotifyHost.StartAsync(server.Options, options: o => o.DispatcherEnabled = false);
        var card = await writer.AddAsync(new Card { Title = "drained" });
        for (var i = 1; i < rows; i++)
        {
            await writer.WithContextAsync(async db =>
            {
                (await db.Cards.SingleAsync(c => c.Id == card.Id)).Notes = $"{i}";
                await db.SaveChangesAsync();
            });
        }

        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        var probe = new ScopeProbe();
        await using var dispatcher = await NotifyHost.StartAsync(
            server.Options, writer.DatabasePath, o => o.ClaimBatchSize = claim, services: s =>
            {
                s.AddSingleton(probe);
                s.AddScoped<ScopeProbe.Scope>();
                // The application's context, built in a scope the probe counts.
                s.AddScoped(sp =>
                {
                    sp.GetRequiredService<ScopeProbe.Scope>();
                    return new BoardContext(sp.GetRequiredService<DbContextOptions<BoardContext>>());
                });
            });

        await dispatcher.ExplainAsync(subscriber.WaitForEventsAsync(rows, e => e.Channel == $"private-Card.{card.Id}", Deadline));
        await dispatcher.AllDeliveredAsync(Deadline);
        await Eventually.UntilAsync(() => Task.FromResult(probe.Live == 0), Deadline, "every scope of the dispatcher disposed");

        // Without reuse: a loop context and a prefetch context per claim, and one per delivery record.
        Assert.InRange(probe.Created, 1, rows / claim);
    }

    private sealed class ScopeProbe
    {
        private int _live;
        private int _created;

        public int Live => Volatile.Read(ref _live);

        public int Created => Volatile.Read(ref _created);

        public sealed class Scope : IDisposable
        {
            private readonly ScopeProbe _probe;

            public Scope(ScopeProbe probe)
            {
                _probe = probe;
                Interlocked.Increment(ref probe._live);
                Interlocked.Increment(ref probe._created);
            }

            public void Dispose() => Interlocked.Decrement(ref _probe._live);
        }
    }
}
