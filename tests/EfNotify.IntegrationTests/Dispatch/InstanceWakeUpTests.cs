using System.Diagnostics;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Issue 12: a commit on an instance that does not lead wakes the leader at once, instead of waiting for its poll.
/// Every instance here polls once a minute, so a notification that arrives within seconds was woken by the signal.
/// </summary>
public sealed class InstanceWakeUpTests
{
    private const int LeadingEventId = 21;
    private static readonly TimeSpan PollOnceAMinute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan WellUnderThePoll = TimeSpan.FromSeconds(10);

    [SoketiFact]
    public async Task A_commit_on_an_instance_that_does_not_lead_reaches_subscribers_without_waiting_for_the_leaders_poll_on_a_sqlite_file()
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        await WakeAsync(databasePath, database: null);
    }

    [PostgresFact]
    public Task A_commit_on_an_instance_that_does_not_lead_reaches_subscribers_without_waiting_for_the_leaders_poll_on_postgresql()
        => PostgresServer.WithDatabaseAndSoketiAsync(connectionString => WakeAsync(null, (_, o) => o.UseNpgsql(connectionString)));

    private static async Task WakeAsync(string? databasePath, Action<IServiceProvider, DbContextOptionsBuilder>? database)
    {
        await using var server = await SoketiServer.StartAsync();
        await using var leader = await NotifyHost.StartAsync(server.Options, databasePath, o => o.PollingInterval = PollOnceAMinute, database: database);
        await leader.ExplainAsync(Eventually.UntilAsync(() => leader.Logs.Entries.Any(e => e.Id.Id == LeadingEventId), WellUnderThePoll, "the first instance to lead"));

        // One instance stands by with a dispatcher of its own, one only writes: both must wake the leader.
        await using var standby = await NotifyHost.StartAsync(server.Options, leader.DatabasePath, o => o.PollingInterval = PollOnceAMinute, database: database);
        await using var writer = await NotifyHost.StartAsync(
            server.Options, leader.DatabasePath, o => { o.PollingInterval = PollOnceAMinute; o.DispatcherEnabled = false; }, database: database);
        var card = await leader.AddAsync(new Card { Title = "shared" });
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Card.{card.Id}");

        var standbyMonitor = standby.Services.GetRequiredService<OutboxMonitor>();
        await leader.ExplainAsync(Eventually.UntilAsync(() => standbyMonitor.LastIteration is not null, WellUnderThePoll, "the standby's first pass"));
        var standbyPass = standbyMonitor.LastIteration;
        foreach (var (instance, name) in new[] { (standby, "standby"), (writer, "writer"), (standby, "standby again"), (writer, "writer again") })
        {
            var clock = Stopwatch.StartNew();
            await instance.WithContextAsync(async db =>
            {
                (await db.Cards.SingleAsync(c => c.Id == card.Id)).Notes = name;
                await db.SaveChangesAsync();
            });
            await leader.ExplainAsync(subscriber.WaitForEventAsync(e => e.Data.Contains($"\"{name}\"", StringComparison.Ordinal), WellUnderThePoll));
            Assert.True(clock.Elapsed < WellUnderThePoll, $"the commit on the {name} took {clock.Elapsed} to arrive");
        }

        Assert.DoesNotContain(standby.Logs.Entries, e => e.Id.Id == LeadingEventId);

        // The standby's own commits woke the leader only: a pass of its own would find nothing to publish (issue 12).
        Assert.Equal(standbyPass, standbyMonitor.LastIteration);
    }
}
