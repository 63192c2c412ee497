using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Committed changes reach a subscriber of the object's private channel through the real dispatcher and a real
/// Pusher-protocol server; nothing arrives before the commit or for a rolled-back change.
/// </summary>
[Collection(SoketiCollection.Name)]
public sealed class EndToEndTests(SoketiServer server)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    // Short: every absence check starts after a later event (a sentinel) has already arrived.
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromMilliseconds(300);

    [SoketiFact]
    public async Task A_committed_change_reaches_the_objects_channel_after_the_commit()
    {
        await using var host = await NotifyHost.StartAsync(server.Options);
        var card = new Card { Title = "first" };
        await host.AddAsync(new Card { Title = "make the id differ from 1" });

        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await host.WithContextAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.Add(card);
            await db.SaveChangesAsync();
            await subscriber.SubscribeAsync($"private-Card.{card.Id}");

            await subscriber.AssertNoEventDuringQuietPeriodAsync(_ => true, QuietPeriod);
            await transaction.CommitAsync();
        });

        var received = await subscriber.WaitForEventAsync(e => e.Name == "changed", Deadline);
        using var data = JsonDocument.Parse(received.Data);
        Assert.Equal("Card", data.RootElement.GetProperty("entity").GetString());
        Assert.Equal(card.Id, data.RootElement.GetProperty("key").GetInt32());
        Assert.Equal("added", data.RootElement.GetProperty("change").GetString());
        Assert.True(Guid.TryParse(data.RootElement.GetProperty("id").GetString(), out _));
        await Eventually.UntilAsync(
            async () => (await host.RowsAsync()).All(r => r.Status == OutboxStatus.Delivered), Deadline, "rows marked delivered");
    }

    [SoketiFact]
    public async Task A_rolled_back_change_never_arrives()
    {
        await using var host = await NotifyHost.StartAsync(server.Options);
        var card = await host.AddAsync(new Card { Title = "shared" });
        await host.AllDeliveredAsync(Deadline);
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Card.{card.Id}");

        await host.WithContextAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var tracked = await db.Cards.SingleAsync(c => c.Id == card.Id);
            tracked.Status = "rolled back";
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        });
        await host.WithContextAsync(async db =>
        {
            var tracked = await db.Cards.SingleAsync(c => c.Id == card.Id);
            tracked.Status = "sentinel";
            await db.SaveChangesAsync();
        });

        // The sentinel was committed after the rollback; once it arrived, the rolled-back change would have too.
        await host.ExplainAsync(subscriber.WaitForEventAsync(e => e.Name == "changed", Deadline));
        await subscriber.AssertNoEventDuringQuietPeriodAsync(_ => subscriber.Events.Count > 1, QuietPeriod);
        Assert.Equal(["modified"], subscriber.Events.Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("change").GetString()));
        Assert.Equal(2, (await host.RowsAsync()).Count); // the creation and the sentinel; nothing for the rolled-back change
    }

    [SoketiFact]
    public async Task Changes_arrive_in_commit_order()
    {
        await using var host = await NotifyHost.StartAsync(server.Options);
        var board = new Board { Name = "ordered" };
        await host.WithContextAsync(async db =>
        {
            db.Add(board);
            await db.SaveChangesAsync();
        });
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Board.{board.Id}");

        var commentIds = new List<int>();
        for (var i = 0; i < 30; i++)
        {
            await host.WithContextAsync(async db =>
            {
                var comment = new Comment { BoardId = board.Id, Text = $"c{i}" };
                db.Add(comment);
                await db.SaveChangesAsync();
                commentIds.Add(comment.Id);
            });
        }

        var events = await subscriber.WaitForEventsAsync(30, e => e.Name == "newComment", Deadline);
        Assert.Equal(
            commentIds,
            events.Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("source").GetProperty("key").GetInt32()));
    }

    [SoketiFact]
    public async Task The_connection_that_made_the_change_is_not_echoed()
    {
        await using var host = await NotifyHost.StartAsync(server.Options);
        var card = await host.AddAsync(new Card { Title = "echo" });
        await host.AllDeliveredAsync(Deadline);
        await using var author = await PusherTestSubscriber.ConnectAsync(server);
        await using var other = await PusherTestSubscriber.ConnectAsync(server);
        await author.SubscribeAsync($"private-Card.{card.Id}");
        await other.SubscribeAsync($"private-Card.{card.Id}");

        host.Notifier.SocketId = author.SocketId;
        await host.WithContextAsync(async db =>
        {
            (await db.Cards.SingleAsync(c => c.Id == card.Id)).Status = "done";
            await db.SaveChangesAsync();
        });

        // The creation may still be on its way to both; only the status change must skip its author.
        static bool IsModified(ReceivedEvent e) => e.Data.Contains("\"change\":\"modified\"", StringComparison.Ordinal);
        await other.WaitForEventAsync(IsModified, Deadline);
        await author.AssertNoEventDuringQuietPeriodAsync(IsModified, QuietPeriod);
    }

    [SoketiFact]
    public async Task Rows_committed_while_no_dispatcher_ran_are_delivered_when_one_starts()
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        await using var writer = await NotifyHost.StartAsync(server.Options, databasePath, o => o.DispatcherEnabled = false);
        var card = await writer.AddAsync(new Card { Title = "left behind" });
        Assert.Equal(OutboxStatus.Pending, Assert.Single(await writer.RowsAsync()).Status);

        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        await using var dispatcher = await NotifyHost.StartAsync(server.Options, databasePath);

        await subscriber.WaitForEventAsync(e => e.Name == "changed", Deadline);
    }

    [SoketiFact]
    public async Task Oversized_data_is_sent_in_its_minimal_form()
    {
        await using var host = await NotifyHost.StartAsync(server.Options);
        var card = await host.AddAsync(new Card { Title = "big", Notes = new string('n', 20_000) });
        await host.AllDeliveredAsync(Deadline);
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        await host.WithContextAsync(async db =>
        {
            (await db.Cards.SingleAsync()).Status = "touched";
            await db.SaveChangesAsync();
        });

        var received = await subscriber.WaitForEventAsync(e => e.Name == "changed", Deadline);
        using var data = JsonDocument.Parse(received.Data);
        Assert.True(data.RootElement.GetProperty("truncated").GetBoolean());
        Assert.False(data.RootElement.TryGetProperty("values", out _));
        Assert.True(received.Data.Length < 10_240);
    }
}
