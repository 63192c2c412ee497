using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>Faults a real server shows: refusals of single events in a batch, rate limiting, and a server that goes away.</summary>
public sealed class FaultTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [SoketiFact]
    public async Task An_event_the_server_refuses_is_dead_lettered_while_the_rest_of_its_batch_is_delivered()
    {
        // soketi refuses data over 10 KB with 413; the transport is told it may send more, so the refusal comes from the server.
        await using var server = await SoketiServer.StartAsync(new SoketiSettings { EventMaxSizeInKb = 10 });
        await using var host = await NotifyHost.StartAsync(server.Options, pusherChange: o => o.MaxEventDataBytes = 1_000_000);
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        var cards = Enumerable.Range(0, 5).Select(i => new Card { Title = $"c{i}", Notes = i == 2 ? new string('x', 20_000) : "small" }).ToList();
        await host.WithContextAsync(async db =>
        {
            db.AddRange(cards);
            await db.SaveChangesAsync();
        });
        foreach (var card in cards)
        {
            await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        }

        await host.WithContextAsync(async db =>
        {
            foreach (var card in await db.Cards.ToListAsync())
            {
                card.Status = "again";
            }

            await db.SaveChangesAsync();
        });

        var received = await subscriber.WaitForEventsAsync(4, e => e.Name == "changed", Deadline);
        Assert.DoesNotContain(received, e => e.Channel == $"private-Card.{cards[2].Id}");
        await Eventually.UntilAsync(
            async () => (await host.RowsAsync()) is var rows
                        && rows.Count(r => r.Status == OutboxStatus.DeadLettered) == 2
                        && rows.All(r => r.Status != OutboxStatus.Pending),
            Deadline,
            "two dead letters (one per transaction) and every other row delivered");
        var dead = (await host.RowsAsync()).Where(r => r.Status == OutboxStatus.DeadLettered).ToList();
        Assert.All(dead, r => Assert.Contains("413", r.LastError, StringComparison.Ordinal));
        Assert.All(dead, r => Assert.Equal(1, r.Count));
        Assert.All(dead, r => Assert.Equal($"private-Card.{cards[2].Id}", Assert.Single(EfNotify.Outbox.OutboxPayload.Read(r.Payload)).Channel));
        Assert.All((await host.RowsAsync()).Where(r => r.Status != OutboxStatus.DeadLettered), r => Assert.Equal(OutboxStatus.Delivered, r.Status));
    }

    [SoketiFact]
    public async Task A_rate_limited_server_slows_a_backlog_down_but_every_notification_arrives_once_in_per_channel_order()
    {
        // soketi answers 429 once the app has sent more than its events per second; claims of 20 rows are full, so the
        // leader reads the next claim while one is on the wire, and must drop it when a row has to wait for a retry.
        await using var server = await SoketiServer.StartAsync(new SoketiSettings
        {
            Environment = new Dictionary<string, string> { ["SOKETI_DEFAULT_APP_MAX_BACKEND_EVENTS_PER_SEC"] = "100" },
        });
        var databasePath = Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        await using var writer = await NotifyHost.StartAsync(server.Options, databasePath, o => o.DispatcherEnabled = false);
        var cards = Enumerable.Range(0, 5).Select(i => new Card { Title = $"card {i}" }).ToList();
        await writer.WithContextAsync(async db =>
        {
            db.AddRange(cards);
            await db.SaveChangesAsync();
            await db.Set<OutboxMessage>().ExecuteDeleteAsync();
        });
        const int transactions = 300;
        for (var t = 0; t < transactions; t++)
        {
            await writer.WithContextAsync(async db =>
            {
                var card = await db.Cards.SingleAsync(c => c.Id == cards[t % cards.Count].Id);
                card.Notes = $"{t}";
                await db.SaveChangesAsync();
            });
        }

        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        foreach (var card in cards)
        {
            await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        }

        await using var dispatcher = await NotifyHost.StartAsync(server.Options, databasePath, o =>
        {
            o.ClaimBatchSize = 20;
            o.MaxRetryAttempts = 0; // every 429 postpones its row, which the rows after it must wait for
        });
        var received = await dispatcher.ExplainAsync(subscriber.WaitForEventsAsync(transactions, e => e.Name == "changed", TimeSpan.FromSeconds(60)));

        Assert.Contains(dispatcher.Logs.Entries, e => e.Id.Id == 3 && e.Message.Contains("429", StringComparison.Ordinal));
        var notes = received.Select(TestWorker.Read).ToList();
        Assert.Equal(transactions, notes.Select(n => n.Id).Distinct().Count());
        foreach (var channel in received.Zip(notes).GroupBy(r => r.First.Channel))
        {
            var sequences = channel.Select(r => int.Parse(r.Second.Notes, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(sequences.Order(), sequences);
        }
    }

    [SoketiFact]
    public async Task Notifications_committed_while_the_server_is_down_arrive_after_it_returns()
    {
        await using var server = await SoketiServer.StartAsync();
        await using var host = await NotifyHost.StartAsync(server.Options);
        var card = await host.AddAsync(new Card { Title = "patient" });
        await Eventually.UntilAsync(async () => (await host.RowsAsync()).All(r => r.Status == OutboxStatus.Delivered), Deadline, "first row delivered");

        await server.StopAsync();
        for (var i = 0; i < 5; i++)
        {
            await host.WithContextAsync(async db =>
            {
                (await db.Cards.SingleAsync()).Status = $"s{i}";
                await db.SaveChangesAsync();
            });
        }

        await Eventually.UntilAsync(async () => (await host.RowsAsync()).Any(r => r.Attempts > 0), Deadline, "a failed attempt recorded");
        var pending = (await host.RowsAsync()).Where(r => r.Status == OutboxStatus.Pending).ToList();
        Assert.Equal(5, pending.Count);
        Assert.Contains(pending, r => r.LastError is not null && r.NextAttemptAt > r.CreatedAt);

        await server.RestartAsync();
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        await Eventually.UntilAsync(async () => (await host.RowsAsync()).All(r => r.Status == OutboxStatus.Delivered), Deadline, "backlog delivered");
        Assert.Contains(host.Logs.Entries, e => e.Id.Id == 3); // the backoff was logged
    }

    [SoketiFact]
    public async Task Delivered_rows_past_their_retention_are_deleted()
    {
        await using var server = await SoketiServer.StartAsync();
        var databasePath = Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        await using var writer = await NotifyHost.StartAsync(server.Options, databasePath, o => o.DispatcherEnabled = false);
        var card = await writer.AddAsync(new Card { Title = "short-lived" });
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Card.{card.Id}");

        // Cleanup never deletes a pending row: an empty outbox after the event arrived means delivered, then deleted.
        await using var dispatcher = await NotifyHost.StartAsync(server.Options, databasePath, o => o.DeliveredRetention = TimeSpan.Zero);
        await subscriber.WaitForEventAsync(e => e.Name == "changed", Deadline);
        await Eventually.UntilAsync(async () => (await dispatcher.RowsAsync()).Count == 0, Deadline, "delivered rows deleted");
    }
}
