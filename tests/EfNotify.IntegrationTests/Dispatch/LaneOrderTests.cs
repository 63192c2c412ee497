using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Issue 13: with several publish requests in flight, each channel keeps to one lane, so every channel's events reach
/// a real Pusher-protocol server in commit order, whichever the number in flight; a row whose notifications go to
/// channels of several lanes is recorded once all of them are published.
/// </summary>
[Collection(SoketiCollection.Name)]
public sealed class LaneOrderTests(SoketiServer server)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <param name="requestsInFlight">The dispatcher's <see cref="EfNotifyOptions.MaxRequestsInFlight"/>.</param>
    /// <param name="claimBatchSize">Claims of 10 rows: twelve claims, each started while the one before is on the wire.</param>
    [SoketiTheory]
    [InlineData(1, 100)]
    [InlineData(4, 100)]
    [InlineData(8, 100)]
    [InlineData(4, 10)]
    public async Task Each_channel_receives_its_events_in_commit_order_with_several_requests_in_flight(int requestsInFlight, int claimBatchSize)
    {
        const int boardCount = 8, transactions = 120;
        var databasePath = Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        await using var writer = await NotifyHost.StartAsync(server.Options, databasePath, o => o.DispatcherEnabled = false);
        var boards = Enumerable.Range(0, boardCount).Select(i => new Board { Name = $"board {i}" }).ToList();
        await writer.WithContextAsync(async db =>
        {
            db.AddRange(boards);
            await db.SaveChangesAsync();
        });
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        foreach (var board in boards)
        {
            await subscriber.SubscribeAsync($"private-Board.{board.Id}");
        }

        // The backlog waits for the dispatcher, so its claims are full and every lane has work at once. Each commit
        // comments on two boards: one row, two channels, usually two lanes.
        var expected = boards.ToDictionary(b => $"private-Board.{b.Id}", _ => new List<int>());
        for (var t = 0; t < transactions; t++)
        {
            var comments = new[] { new Comment { BoardId = boards[t % boardCount].Id }, new Comment { BoardId = boards[(t + 3) % boardCount].Id } };
            await writer.WithContextAsync(async db =>
            {
                db.AddRange(comments);
                await db.SaveChangesAsync();
            });
            foreach (var comment in comments)
            {
                expected[$"private-Board.{comment.BoardId}"].Add(comment.Id);
            }
        }

        await using var dispatcher = await NotifyHost.StartAsync(server.Options, databasePath, o => { o.MaxRequestsInFlight = requestsInFlight; o.ClaimBatchSize = claimBatchSize; });
        var events = await dispatcher.ExplainAsync(subscriber.WaitForEventsAsync(2 * transactions, e => e.Name == "newComment", Deadline));
        await dispatcher.AllDeliveredAsync(Deadline);

        foreach (var (channel, commentIds) in expected)
        {
            Assert.Equal(commentIds, events.Where(e => e.Channel == channel).Select(CommentId));
        }
    }

    private static int CommentId(ReceivedEvent received)
        => JsonDocument.Parse(received.Data).RootElement.GetProperty("source").GetProperty("key").GetInt32();
}
