using EfNotify.Diagnostics;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Issue 12: an instance that stands by costs next to nothing. Its poll is one attempt at the leader lock (a lock file,
/// or an advisory lock on a connection of its own), with none of the application's contexts built for it; it still takes
/// over as soon as the leader is gone.
/// </summary>
public sealed class StandbyTests
{
    private const int LeadingEventId = 21;
    private const int Polls = 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [SoketiFact]
    public Task A_standby_builds_none_of_the_applications_contexts_while_it_polls_on_a_sqlite_file()
        => StandByAsync(database: null);

    [PostgresFact]
    public Task A_standby_builds_none_of_the_applications_contexts_while_it_polls_on_postgresql()
        => PostgresServer.WithDatabaseAndSoketiAsync(connectionString => StandByAsync((_, o) => o.UseNpgsql(connectionString)));

    private static async Task StandByAsync(Action<IServiceProvider, DbContextOptionsBuilder>? database)
    {
        await using var server = await SoketiServer.StartAsync();
        await using var leader = await NotifyHost.StartAsync(server.Options, database: database);
        await leader.ExplainAsync(Eventually.UntilAsync(() => leader.Logs.Entries.Any(e => e.Id.Id == LeadingEventId), Deadline, "the first instance to lead"));

        // Every context of the standby's application is built through this registration, so the count is every one built.
        var built = 0;
        await using var standby = await NotifyHost.StartAsync(
            server.Options,
            leader.DatabasePath,
            o =>
            {
                o.PollingInterval = TimeSpan.FromMilliseconds(50);
                o.BacklogRefreshInterval = TimeSpan.FromHours(1); // counted on its first pass only, so every later context would be a poll's
            },
            database: (sp, o) =>
            {
                Interlocked.Increment(ref built);
                if (database is null)
                {
                    o.UseSqlite($"Data Source={leader.DatabasePath}");
                }
                else
                {
                    database(sp, o);
                }
            });
        var monitor = standby.Services.GetRequiredService<OutboxMonitor>();
        await standby.ExplainAsync(Eventually.UntilAsync(() => monitor.LastIteration is not null, Deadline, "the standby's first pass"));
        var before = Volatile.Read(ref built);

        // Counted by the passes the standby completed (each records its time), not by the clock.
        var passes = new HashSet<DateTime> { monitor.LastIteration!.Value };
        await standby.ExplainAsync(Eventually.UntilAsync(
            () => passes.Add(monitor.LastIteration!.Value) && passes.Count > Polls, Deadline, $"{Polls} more passes of the standby"));

        Assert.DoesNotContain(standby.Logs.Entries, e => e.Id.Id == LeadingEventId);
        Assert.Equal(before, Volatile.Read(ref built));

        // It still takes over: the leader stops, and a commit made then reaches subscribers through the standby.
        var card = await standby.AddAsync(new Card { Title = "after the leader" });
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        await leader.StopAsync(); // releases its lock; the database stays
        await standby.ExplainAsync(Eventually.UntilAsync(() => standby.Logs.Entries.Any(e => e.Id.Id == LeadingEventId), Deadline, "the standby to lead"));
        await standby.WithContextAsync(async db =>
        {
            (await db.Cards.SingleAsync(c => c.Id == card.Id)).Notes = "published by the former standby";
            await db.SaveChangesAsync();
        });
        await standby.ExplainAsync(subscriber.WaitForEventAsync(e => e.Data.Contains("published by the former standby", StringComparison.Ordinal), Deadline));
    }
}
