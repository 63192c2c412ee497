using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Rows committed by an earlier version, before the compact payload format, are still published after an upgrade; a row
/// this version cannot read (damaged, or of a later format) is dead-lettered and holds up nothing.
/// </summary>
[Collection(SoketiCollection.Name)]
public sealed class UpgradeTests(SoketiServer server)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [SoketiFact]
    public async Task A_pending_row_of_the_first_payload_format_reaches_subscribers_with_its_messages_unchanged()
    {
        await using var host = await NotifyHost.StartAsync(server.Options);
        var key = Random.Shared.Next(1_000_000, int.MaxValue); // the server is shared: a channel no other test uses
        var modified = $$$"""{"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd0","entity":"Card","key":{{{key}}},"action":"changed","change":"modified","at":"2026-11-28T12:00:00Z","by":"alice","values":{"Notes":"caf\u00E9"}}""";
        var added = $$$"""{"id":"01a21fec-2c16-7856-9e24-c11d0dda5bd1","entity":"Board","key":{{{key}}},"action":"newComment","change":"added","at":"2026-11-28T12:00:00.5Z","source":{"entity":"Comment","key":7}}""";
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Card.{key}");
        await subscriber.SubscribeAsync($"private-Board.{key}");

        // As EfNotify wrote it before the compact format (NotificationSerializer up to b833fd4).
        await host.WithContextAsync(async db =>
        {
            db.Add(new OutboxMessage
            {
                CreatedAt = DateTime.UtcNow,
                NextAttemptAt = DateTime.UtcNow,
                Payload = $$$"""[{"channel":"private-Card.{{{key}}}","event":"changed","data":{{{modified}}}},{"channel":"private-Board.{{{key}}}","event":"newComment","data":{{{added}}}}]""",
                Count = 2,
            });
            await db.SaveChangesAsync();
        });

        var received = await host.ExplainAsync(subscriber.WaitForEventsAsync(2, e => e.Data.Contains($"\"key\":{key}", StringComparison.Ordinal), Deadline));
        // Order is kept per channel; two channels' events go on lanes of their own and may arrive in either order.
        Assert.Equal(
            [($"private-Board.{key}", "newComment", added), ($"private-Card.{key}", "changed", modified)],
            received.Select(e => (e.Channel, e.Name, e.Data)).OrderBy(e => e.Channel, StringComparer.Ordinal));
        await host.AllDeliveredAsync(Deadline);
    }

    [SoketiFact]
    public async Task A_row_that_cannot_be_read_is_dead_lettered_with_the_reason_and_the_rows_after_it_are_delivered()
    {
        await using var host = await NotifyHost.StartAsync(server.Options, options: o => o.DispatcherEnabled = false);
        await host.WithContextAsync(async db =>
        {
            db.Add(new OutboxMessage { CreatedAt = DateTime.UtcNow, NextAttemptAt = DateTime.UtcNow, Payload = """{"v":3,"items":[]}""", Count = 1 });
            await db.SaveChangesAsync();
        });
        var card = await host.AddAsync(new Card { Title = "after the unreadable row" });
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Card.{card.Id}");

        await using var dispatcher = await NotifyHost.StartAsync(server.Options, host.DatabasePath);
        await dispatcher.ExplainAsync(subscriber.WaitForEventAsync(e => e.Channel == $"private-Card.{card.Id}", Deadline));

        await Eventually.UntilAsync(async () => (await host.RowsAsync())[0].Status == OutboxStatus.DeadLettered, Deadline, "the unreadable row dead-lettered");
        var dead = (await host.RowsAsync())[0];
        Assert.Equal("""{"v":3,"items":[]}""", dead.Payload); // kept as it was, for an operator or a later version
        Assert.Contains("cannot be read", dead.LastError, StringComparison.Ordinal);
        Assert.Contains("format version 3", dead.LastError, StringComparison.Ordinal);
    }
}
