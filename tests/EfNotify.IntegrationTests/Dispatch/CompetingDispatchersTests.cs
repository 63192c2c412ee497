using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Several application instances share one outbox: one leads (an advisory lock on PostgreSQL, a lock file beside a
/// SQLite database) and publishes; when it stops, another takes over.
/// </summary>
public sealed class CompetingDispatchersTests
{
    private const int ClaimedEventId = 8;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [SoketiFact]
    public async Task Three_dispatchers_on_one_sqlite_file_deliver_ten_thousand_notifications_exactly_once_in_per_channel_order_while_the_leader_stops()
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        await CompeteAsync(databasePath, database: null);
    }

    [PostgresFact]
    public Task Three_dispatchers_on_postgresql_deliver_ten_thousand_notifications_exactly_once_in_per_channel_order_while_the_leader_stops()
        => PostgresServer.WithDatabaseAndSoketiAsync(connectionString => CompeteAsync(null, (_, o) => o.UseNpgsql(connectionString)));

    private static async Task CompeteAsync(string? databasePath, Action<IServiceProvider, DbContextOptionsBuilder>? database)
    {
        await using var server = await SoketiServer.StartAsync();
        await using var writer = await NotifyHost.StartAsync(server.Options, databasePath, o => o.DispatcherEnabled = false, database: database);

        const int objects = 100, transactions = 1_000, perTransaction = 10;
        var cards = Enumerable.Range(0, objects).Select(i => new Card { Title = $"card {i}" }).ToList();
        await writer.WithContextAsync(async db =>
        {
            db.AddRange(cards);
            await db.SaveChangesAsync();
            await db.Set<OutboxMessage>().ExecuteDeleteAsync(); // only the modifications below count
        });

        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        foreach (var card in cards)
        {
            await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        }

        var dispatchers = new List<NotifyHost>();
        for (var i = 0; i < 3; i++)
        {
            dispatchers.Add(await NotifyHost.StartAsync(server.Options, databasePath, o => o.ClaimBatchSize = 50, database: database));
        }

        // Every transaction modifies ten different cards and stamps them with its sequence number.
        for (var t = 0; t < transactions; t++)
        {
            var sequence = t;
            await writer.WithContextAsync(async db =>
            {
                var ids = Enumerable.Range(0, perTransaction).Select(k => cards[(sequence * perTransaction + k) % objects].Id).ToList();
                foreach (var card in await db.Cards.Where(c => ids.Contains(c.Id)).ToListAsync())
                {
                    card.Notes = sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                await db.SaveChangesAsync();
            });

            if (t == transactions / 3)
            {
                // Only the leader (the first started) has claimed anything; stop it, and another must take over.
                Assert.All(dispatchers.Skip(1), d => Assert.DoesNotContain(d.Logs.Entries, e => e.Id.Id == ClaimedEventId));
                await dispatchers[0].StopAsync(); // StopAsync keeps the database file, unlike DisposeAsync

            }
        }

        const int expected = transactions * perTransaction;
        await writer.ExplainAsync(subscriber.WaitForEventsAsync(expected, e => e.Name == "changed", Deadline));
        await writer.AllDeliveredAsync(Deadline);

        var received = subscriber.Events.Where(e => e.Name == "changed")
            .Select(e => JsonDocument.Parse(e.Data).RootElement)
            .Select(d => (Id: d.GetProperty("id").GetString()!, Key: d.GetProperty("key").GetInt32(), Sequence: int.Parse(d.GetProperty("values").GetProperty("Notes").GetString()!, System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        Assert.Equal(expected, received.Count);
        Assert.Equal(expected, received.Select(r => r.Id).Distinct().Count());
        foreach (var channel in received.GroupBy(r => r.Key))
        {
            var sequences = channel.Select(r => r.Sequence).ToList();
            Assert.Equal(sequences.Order(), sequences);
        }

        foreach (var dispatcher in dispatchers)
        {
            await dispatcher.DisposeAsync();
        }
    }
}
