using System.Text.Json;
using EfNotify.Dispatch;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EfNotify.IntegrationTests.Outbox;

/// <summary>A row dead-lettered by a real refusal is listed and, once replayed, reaches a subscriber.</summary>
[Collection(SoketiCollection.Name)]
public sealed class ReplayTests(SoketiServer server)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [SoketiFact]
    public async Task A_dead_letter_refused_for_its_size_arrives_after_a_replay_through_a_host_with_the_right_limit()
    {
        // A wrong secret pauses delivery rather than dead-lettering (issue 17): the refusal here is soketi's 413 for data
        // over its 100 KB, which a host told it may send 1 MB meets; the second host knows Pusher's limit and shrinks it.
        var databasePath = Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        var card = new Card { Title = "refused first", Notes = new string('x', 150_000) };
        await using var misconfigured = await NotifyHost.StartAsync(server.Options, databasePath, pusherChange: o => o.MaxEventDataBytes = 1_000_000);
        await misconfigured.WithContextAsync(async db =>
        {
            db.Add(card);
            await db.SaveChangesAsync();
        });
        await misconfigured.ExplainAsync(Eventually.UntilAsync(
            async () => (await misconfigured.RowsAsync()).Any(r => r.Status == OutboxStatus.DeadLettered), Deadline, "the row dead-lettered"));

        // Only its dispatcher stops: disposing the host would delete the database the second host shares.
        await misconfigured.Services.GetServices<IHostedService>().OfType<OutboxDispatcher<BoardContext>>().Single().StopAsync(CancellationToken.None);

        await using var host = await NotifyHost.StartAsync(server.Options, databasePath);
        var administration = host.Services.GetRequiredService<IOutboxAdministration>();
        var dead = Assert.Single(await administration.ListDeadLettersAsync());
        Assert.Equal([new DeadLetterEvent($"private-Card.{card.Id}", "changed")], dead.Events);
        Assert.Equal(1, dead.Count);
        Assert.Contains("413", dead.Reason, StringComparison.Ordinal);
        Assert.Equal(1, (await administration.GetBacklogAsync()).DeadLetterCount);

        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        Assert.Equal(1, await administration.ReplayAsync([dead.Id]));

        var received = await host.ExplainAsync(subscriber.WaitForEventAsync(e => e.Name == "changed", Deadline));
        using var data = JsonDocument.Parse(received.Data);
        Assert.Equal(card.Id, data.RootElement.GetProperty("key").GetInt32());
        Assert.True(data.RootElement.GetProperty("truncated").GetBoolean());
        await host.AllDeliveredAsync(Deadline);
        var row = Assert.Single(await host.RowsAsync());
        Assert.Equal(dead.Id, row.Id);
        var backlog = await administration.GetBacklogAsync();
        Assert.Equal(0, backlog.PendingCount);
        Assert.Equal(0, backlog.DeadLetterCount);
    }
}
