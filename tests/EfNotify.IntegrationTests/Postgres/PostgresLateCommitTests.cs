using EfNotify.Capture;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Postgres;

/// <summary>
/// On PostgreSQL a row's id comes from a sequence when it is inserted, not when it commits, so a transaction can commit a
/// row whose id is below rows already published. While a backlog drains the leader continues each claim after the last
/// id of the one before; it must still come back for such a row, and not only once the backlog is gone.
/// </summary>
public sealed class PostgresLateCommitTests
{
    private const int Backlog = 40_000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [PostgresFact]
    public Task A_row_committed_after_rows_with_higher_ids_is_published_before_the_backlog_behind_it_has_drained()
        => PostgresServer.WithDatabaseAndSoketiAsync(async connectionString =>
        {
            await using var server = await SoketiServer.StartAsync();
            void Database(IServiceProvider _, DbContextOptionsBuilder o) => o.UseNpgsql(connectionString);
            await using var writer = await NotifyHost.StartAsync(server.Options, options: o => o.DispatcherEnabled = false, database: Database);
            await writer.WithContextAsync(db => db.Set<OutboxMessage>().ExecuteDeleteAsync());
            const string lateChannel = "private-Card.1", backlogChannel = "private-Card.2";

            // The late row takes its id first and commits last.
            await using var scope = writer.Services.CreateAsyncScope();
            var late = scope.ServiceProvider.GetRequiredService<BoardContext>();
            await using var transaction = await late.Database.BeginTransactionAsync();
            await WriteAsync(late, transaction, lateChannel, 1);
            await writer.WithContextAsync(async db =>
            {
                for (var start = 0; start < Backlog; start += 10_000)
                {
                    await using var fill = await db.Database.BeginTransactionAsync();
                    await WriteAsync(db, fill, backlogChannel, 10_000);
                    await fill.CommitAsync();
                }
            });

            await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
            await subscriber.SubscribeAsync(lateChannel);
            await subscriber.SubscribeAsync(backlogChannel);
            await using var dispatcher = await NotifyHost.StartAsync(server.Options, database: Database);
            await dispatcher.ExplainAsync(subscriber.WaitForEventsAsync(100, e => e.Channel == backlogChannel, Deadline));
            await transaction.CommitAsync();

            var published = await dispatcher.ExplainAsync(subscriber.WaitForEventAsync(e => e.Channel == lateChannel, Deadline));
            var backlog = await dispatcher.ExplainAsync(subscriber.WaitForEventsAsync(Backlog, e => e.Channel == backlogChannel, Deadline));
            Assert.True(
                published.Sequence < backlog[^1].Sequence,
                $"the late row arrived after all {Backlog} rows with higher ids (it arrived {published.Sequence - backlog[0].Sequence} events after the first of them)");
            await dispatcher.AllDeliveredAsync(Deadline);
        });

    /// <summary>Rows of one notification each, as the interceptor writes them.</summary>
    private static async Task WriteAsync(DbContext db, IDbContextTransaction transaction, string channel, int rows)
    {
        var writer = OutboxWriter.Get(db);
        var time = TimeProvider.System;
        for (var i = 0; i < rows; i++)
        {
            var notification = new PendingNotification
            {
                Channel = channel,
                Action = "changed",
                EntityName = nameof(Card),
                Key = [int.Parse(channel[(channel.LastIndexOf('.') + 1)..], System.Globalization.CultureInfo.InvariantCulture)],
                Change = ChangeKind.Modified,
                At = time.GetUtcNow(),
            };
            var (payload, count) = NotificationSerializer.Serialize([notification], time)[0];
            await writer.WriteAsync(
                db.Database.GetDbConnection(), transaction.GetDbTransaction(), time.GetUtcNow().UtcDateTime, payload, count, CancellationToken.None);
        }
    }
}
