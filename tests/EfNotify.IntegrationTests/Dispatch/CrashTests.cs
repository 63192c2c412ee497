using System.Globalization;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Processes killed with SIGKILL after a commit and before (or while) publishing lose nothing: a later dispatcher
/// delivers every committed notification, at least once, and nothing that was not committed.
/// </summary>
public sealed class CrashTests
{
    private const int Cards = 10;
    private const int Rounds = 5;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [SoketiFact]
    public async Task Writers_killed_at_random_points_lose_no_committed_notification_on_sqlite()
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        await KilledWritersAsync(databasePath, null);
    }

    [PostgresFact]
    public Task Writers_killed_at_random_points_lose_no_committed_notification_on_postgresql()
        => PostgresServer.WithDatabaseAndSoketiAsync(connectionString => KilledWritersAsync(connectionString, (_, o) => o.UseNpgsql(connectionString)));

    private static async Task KilledWritersAsync(string database, Action<IServiceProvider, DbContextOptionsBuilder>? npgsql)
    {
        await using var server = await SoketiServer.StartAsync();
        var sqlitePath = npgsql is null ? database : null;
        await using var setup = await NotifyHost.StartAsync(server.Options, sqlitePath, o => o.DispatcherEnabled = false, database: npgsql);
        var cards = Enumerable.Range(0, Cards).Select(i => new Card { Title = $"card {i}" }).ToList();
        await setup.WithContextAsync(async db =>
        {
            db.AddRange(cards);
            await db.SaveChangesAsync();
            await db.Set<OutboxMessage>().ExecuteDeleteAsync(); // only the workers' commits count
        });
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        foreach (var card in cards)
        {
            await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        }

        // Each worker is killed after a random number of reported commits, publishing (dispatcher on) or not; a commit
        // that happened but was not yet reported when the kill came is in doubt: the database says whether it happened.
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var reported = new List<int>();
        var next = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var killAfter = random.Next(1, 40);
            var lines = await TestWorker.RunAsync(database, server.Options, next, next + 10_000, dispatcher: round % 2 == 0, killAfter, Deadline);
            Assert.True(lines.Count >= killAfter, $"round {round}: the worker reported {lines.Count} commits before exiting");
            reported.AddRange(lines);
            next = lines[^1] + 2; // the sequence after the last reported one may have been committed unreported
        }

        var committed = await setup.WithContextAsync(async db => (await db.Boards.Select(b => b.Name).ToListAsync())
            .Select(n => int.Parse(n["commit ".Length..], CultureInfo.InvariantCulture))
            .ToHashSet());
        Assert.Subset(committed, reported.ToHashSet()); // every reported commit happened
        Assert.True(committed.Count - reported.Count <= Rounds, "at most one commit in doubt per kill");

        await using var dispatcher = await NotifyHost.StartAsync(server.Options, sqlitePath, database: npgsql);
        await dispatcher.AllDeliveredAsync(Deadline);
        await dispatcher.WithContextAsync(async db =>
        {
            foreach (var card in await db.Cards.ToListAsync())
            {
                card.Notes = "sentinel";
            }

            await db.SaveChangesAsync();
        });
        await dispatcher.ExplainAsync(subscriber.WaitForEventsAsync(Cards, e => TestWorker.Read(e).Notes == "sentinel", Deadline));

        var received = subscriber.Events.Select(TestWorker.Read).Where(r => r.Notes != "sentinel").ToList();
        var sequences = received.Select(r => int.Parse(r.Notes, CultureInfo.InvariantCulture)).ToHashSet();
        Assert.True(
            committed.SetEquals(sequences),
            $"seed {seed}: missing {string.Join(',', committed.Except(sequences))}; not committed {string.Join(',', sequences.Except(committed))}");

        // At least once: a worker killed between the server's acceptance and its record publishes again; the copies
        // carry the same notification id, so a client can drop them.
        foreach (var copies in received.GroupBy(r => r.Id))
        {
            Assert.Single(copies.Select(c => c.Notes).Distinct());
        }

        Assert.Equal(committed.Count, received.Select(r => r.Id).Distinct().Count());
    }
}
