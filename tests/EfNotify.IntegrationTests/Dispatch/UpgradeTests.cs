using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>Rows committed by an earlier version, before the compact payload format, are still published after an upgrade.</summary>
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
        Assert.Equal(
            [($"private-Card.{key}", "changed", modified), ($"private-Board.{key}", "newComment", added)],
            received.Select(e => (e.Channel, e.Name, e.Data)));
        await host.AllDeliveredAsync(Deadline);
    }
}
