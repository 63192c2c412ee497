using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>A dispatcher stopped gracefully in the middle of a claim leaves nothing undelivered and nothing to publish twice.</summary>
public sealed class ShutdownTests
{
    private const int Cards = 10;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <param name="claimBatchSize">
    /// Issue 13 item 3: with claims of 20 rows (60 notifications, 6 requests), the leader has two claims on the wire
    /// when it stops, the second on the lanes the first has finished.
    /// </param>
    [SoketiTheory]
    [InlineData(100)]
    [InlineData(20)]
    public async Task Dispatchers_stopped_while_publishing_deliver_every_notification_once(int claimBatchSize)
    {
        await using var server = await SoketiServer.StartAsync();
        var databasePath = Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        await using var writer = await NotifyHost.StartAsync(server.Options, databasePath, o => o.DispatcherEnabled = false);
        var cards = Enumerable.Range(0, Cards).Select(i => new Card { Title = $"card {i}" }).ToList();
        await writer.WithContextAsync(async db =>
        {
            db.AddRange(cards);
            await db.SaveChangesAsync();
            await db.Set<OutboxMessage>().ExecuteDeleteAsync();
        });

        // Three notifications per row, ten events per request: most requests end in the middle of a row, so a stop
        // between two requests usually falls inside a row whose first notifications are already out.
        const int transactions = 1000, perTransaction = 3;
        for (var t = 0; t < transactions; t++)
        {
            var sequence = t;
            await writer.WithContextAsync(async db =>
            {
                var ids = Enumerable.Range(0, perTransaction).Select(k => cards[(sequence * perTransaction + k) % Cards].Id).ToList();
                foreach (var card in await db.Cards.Where(c => ids.Contains(c.Id)).ToListAsync())
                {
                    card.Notes = $"{sequence}";
                }

                await db.SaveChangesAsync();
            });
        }

        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        foreach (var card in cards)
        {
            await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        }

        const int expected = transactions * perTransaction;
        var stopped = new List<NotifyHost>();
        for (var stop = 0; stop < 3; stop++)
        {
            var before = subscriber.Events.Count;
            var dispatcher = await NotifyHost.StartAsync(server.Options, databasePath, o => o.ClaimBatchSize = claimBatchSize);
            stopped.Add(dispatcher);
            await dispatcher.ExplainAsync(Eventually.UntilAsync(() => subscriber.Events.Count >= before + 40, Deadline, "publishing under way"));
            await dispatcher.StopAsync();
            Assert.True(subscriber.Events.Count < expected, "the dispatcher was stopped before it delivered everything");
        }

        await using var last = await NotifyHost.StartAsync(server.Options, databasePath);
        await last.AllDeliveredAsync(Deadline);
        await last.WithContextAsync(async db =>
        {
            (await db.Cards.FirstAsync()).Notes = "sentinel";
            await db.SaveChangesAsync();
        });
        await last.ExplainAsync(subscriber.WaitForEventAsync(e => TestWorker.Read(e).Notes == "sentinel", Deadline));

        var received = subscriber.Events.Select(TestWorker.Read).Where(r => r.Notes != "sentinel").ToList();
        var twice = received.GroupBy(r => r.Id).Where(g => g.Count() > 1).Select(g => g.First().Notes).ToList();
        Assert.True(twice.Count == 0, $"published twice: notifications of transactions {string.Join(',', twice)}");
        Assert.Equal(expected, received.Count);
        Assert.Equal(Enumerable.Range(0, transactions).Select(t => $"{t}"), received.Select(r => r.Notes).Distinct().OrderBy(n => int.Parse(n, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(await last.RowsAsync(), r => Assert.Equal(0, r.Attempts)); // a stop is not a failed attempt
        foreach (var dispatcher in stopped)
        {
            await dispatcher.DisposeAsync();
        }
    }
}
