using System.Globalization;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Commits, rollbacks, failed saves and exceptions, mixed at random in one host: exactly the committed changes arrive.
/// </summary>
public sealed class RandomizedUnitOfWorkTests
{
    private const int Cards = 10;
    private const int Units = 200;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromMilliseconds(300);

    private enum Unit
    {
        Commit,
        CommitInTransaction,
        Rollback,
        FailedSaveThenCommit,
        ExceptionBeforeCommit,
    }

    [SoketiFact]
    public async Task Only_committed_units_of_work_are_delivered_in_a_random_mix_of_commits_rollbacks_and_failures()
    {
        const int seed = 20_250_611;
        var random = new Random(seed);
        await using var server = await SoketiServer.StartAsync();
        await using var host = await NotifyHost.StartAsync(server.Options);
        var cards = Enumerable.Range(0, Cards).Select(i => new Card { Title = $"card {i}" }).ToList();
        var board = new Board { Name = "comments" };
        await host.WithContextAsync(async db =>
        {
            db.AddRange(cards);
            db.Add(board);
            await db.SaveChangesAsync();
        });
        await host.AllDeliveredAsync(Deadline);
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        foreach (var card in cards)
        {
            await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        }

        // Every unit stamps its sequence in a card's notes; a failed save stamps "<sequence>x", which must never arrive.
        var committed = new HashSet<string>(StringComparer.Ordinal);
        var units = new List<Unit>();
        for (var sequence = 0; sequence < Units; sequence++)
        {
            var unit = (Unit)random.Next(Enum.GetValues<Unit>().Length);
            units.Add(unit);
            var cardId = cards[random.Next(Cards)].Id;
            var otherId = cards[random.Next(Cards)].Id;
            var stamp = sequence.ToString(CultureInfo.InvariantCulture);
            await host.WithContextAsync(async db =>
            {
                var card = await db.Cards.SingleAsync(c => c.Id == cardId);
                card.Notes = stamp;
                switch (unit)
                {
                    case Unit.Commit:
                        await db.SaveChangesAsync();
                        committed.Add(stamp);
                        break;
                    case Unit.CommitInTransaction:
                    {
                        await using var transaction = await db.Database.BeginTransactionAsync();
                        await db.SaveChangesAsync();
                        await transaction.CommitAsync();
                        committed.Add(stamp);
                        break;
                    }

                    case Unit.Rollback:
                    {
                        await using var transaction = await db.Database.BeginTransactionAsync();
                        await db.SaveChangesAsync();
                        await transaction.RollbackAsync();
                        break;
                    }

                    case Unit.FailedSaveThenCommit:
                    {
                        await using var transaction = await db.Database.BeginTransactionAsync();
                        await db.SaveChangesAsync();
                        var other = await db.Cards.SingleAsync(c => c.Id == otherId);
                        other.Notes = stamp + "x";
                        db.Add(new Comment { BoardId = int.MaxValue, Text = "no such board" });
                        await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
                        db.ChangeTracker.Clear(); // give up the failed changes; the transaction goes on
                        db.Add(new Comment { BoardId = board.Id, Text = stamp });
                        await db.SaveChangesAsync();
                        await transaction.CommitAsync();
                        committed.Add(stamp);
                        break;
                    }

                    case Unit.ExceptionBeforeCommit:
                    {
                        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
                        {
                            await using var transaction = await db.Database.BeginTransactionAsync();
                            await db.SaveChangesAsync();
                            throw new InvalidOperationException("the unit of work failed after saving, before its commit");
                        });
                        break;
                    }
                }
            });
        }

        await host.WithContextAsync(async db =>
        {
            foreach (var card in await db.Cards.ToListAsync())
            {
                card.Notes = "sentinel";
            }

            await db.SaveChangesAsync();
        });
        await host.ExplainAsync(subscriber.WaitForEventsAsync(Cards, e => TestWorker.Read(e).Notes == "sentinel", Deadline));
        await subscriber.AssertNoEventDuringQuietPeriodAsync(_ => subscriber.Events.Count > committed.Count + Cards, QuietPeriod);

        var received = subscriber.Events.Select(TestWorker.Read).Select(r => r.Notes).Where(n => n != "sentinel").ToList();
        var mix = string.Join(", ", units.GroupBy(u => u).Select(g => $"{g.Key}: {g.Count()}"));
        Assert.True(
            committed.SetEquals(received) && received.Count == committed.Count,
            $"seed {seed} ({mix}): missing {string.Join(',', committed.Except(received))}; not committed {string.Join(',', received.Except(committed))}; {received.Count} received");
        Assert.All(Enum.GetValues<Unit>(), u => Assert.Contains(u, units));
    }
}
