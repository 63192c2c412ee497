using System.Diagnostics;
using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Issue 15 item 2: hot objects do not flood. A notification with a coalescing window sends the first change of a quiet
/// channel at once and then at most one event per window, the latest, with <c>merged</c>; the last state always arrives,
/// also across a stop of the host.
/// </summary>
[Collection(SoketiCollection.Name)]
public sealed class CoalescingTests(SoketiServer server, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [SoketiFact]
    public async Task A_hot_object_committed_100_times_a_second_with_a_250_ms_window_arrives_at_most_5_times_a_second_ending_with_its_last_state()
    {
        await using var host = await NotifyHost.StartAsync(server.Options);
        await HotObjectAsync(host);
    }

    /// <summary>
    /// The same on PostgreSQL, where the leader claims with SQL of its own that skips the held rows by runs of ids, and
    /// rows are committed by another connection than the one that claims.
    /// </summary>
    [PostgresFact]
    public Task On_PostgreSQL_a_hot_object_committed_100_times_a_second_arrives_at_most_5_times_a_second_ending_with_its_last_state()
        => PostgresServer.WithDatabaseAndSoketiAsync(async connectionString =>
        {
            await using var host = await NotifyHost.StartAsync(server.Options, database: (_, o) => o.UseNpgsql(connectionString));
            await HotObjectAsync(host);
        });

    private async Task HotObjectAsync(NotifyHost host)
    {
        var gauge = await host.AddAsync(new Gauge());
        await host.AllDeliveredAsync(Deadline);
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Gauge.{gauge.Id}");

        const int commits = 300; // about 3 s at 100 commits a second
        var clock = Stopwatch.StartNew();
        await host.WithContextAsync(async db =>
        {
            var tracked = await db.Gauges.SingleAsync(g => g.Id == gauge.Id);
            for (var reading = 1; reading <= commits; reading++)
            {
                // Commit i is due at i × 10 ms: a commit that ran late is followed at once, so the rate stays 100 a second
                // as long as the machine keeps up (the output says what it reached).
                if (TimeSpan.FromMilliseconds(10 * reading) - clock.Elapsed is { Ticks: > 0 } ahead)
                {
                    await Task.Delay(ahead);
                }

                tracked.Reading = reading;
                await db.SaveChangesAsync();
            }
        });
        var committing = clock.Elapsed;

        await host.ExplainAsync(subscriber.WaitForEventAsync(e => Reading(e) == commits, Deadline));
        await host.AllDeliveredAsync(Deadline);
        var received = subscriber.Events.Where(e => e.Name == "changed").ToList();
        var perSecond = received.Count / committing.TotalSeconds;
        output.WriteLine($"{commits} commits in {committing.TotalSeconds:0.00} s ({commits / committing.TotalSeconds:0} commits/s): "
            + $"{received.Count} events received ({perSecond:0.0} events/s), merged {string.Join(' ', received.Select(Merged))}");

        Assert.True(perSecond <= 5, $"{received.Count} events in {committing.TotalSeconds:0.00} s is {perSecond:0.0} events/s, over 5");
        Assert.True(received.Count >= 4, $"only {received.Count} events arrived while the object changed for {committing.TotalSeconds:0.00} s");
        Assert.Equal(commits, Reading(received[^1])); // the last event carries the last committed state
        Assert.Equal(commits, received.Sum(Merged)); // every change is accounted for, none lost or counted twice
        Assert.Equal(received.Select(Reading).Order(), received.Select(Reading)); // in commit order
        var seq = received.Select(e => Json(e).GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range((int)seq[0], seq.Count).Select(n => (long)n), seq); // no gap for a browser to see
    }

    [SoketiFact]
    public async Task A_held_change_stays_pending_while_the_host_stops_and_arrives_once_it_runs_again()
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        var id = Random.Shared.Next(1, 1_000_000);
        await using var first = await NotifyHost.StartAsync(server.Options, databasePath);
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-Meter.{id}");

        await first.AddAsync(new Meter { Id = id, Reading = 1 });
        await first.ExplainAsync(subscriber.WaitForEventAsync(e => Reading(e) == 1, Deadline)); // a quiet channel: at once
        foreach (var reading in new[] { 2, 3 })
        {
            await first.WithContextAsync(async db =>
            {
                (await db.Meters.SingleAsync(m => m.Id == id)).Reading = reading;
                await db.SaveChangesAsync();
            });
        }

        // The 10 s window holds 3, which supersedes 2: row 2 is recorded as merged, row 3 stays pending.
        await first.ExplainAsync(Eventually.UntilAsync(
            async () => (await first.RowsAsync()) is [{ Status: OutboxStatus.Delivered }, { Status: OutboxStatus.Delivered }, { Status: OutboxStatus.Pending }],
            Deadline,
            "the second change recorded as merged into the third, which is held"));
        await first.StopAsync();

        Assert.Equal(OutboxStatus.Pending, (await first.RowsAsync())[2].Status);
        Assert.Equal([1], subscriber.Events.Select(Reading));

        await using var second = await NotifyHost.StartAsync(server.Options, databasePath);
        var last = await second.ExplainAsync(subscriber.WaitForEventAsync(e => Reading(e) == 3, Deadline));
        await second.AllDeliveredAsync(Deadline);

        Assert.Equal([1, 3], subscriber.Events.Select(Reading));
        Assert.Equal("modified", Json(last).GetProperty("change").GetString());
    }

    private static JsonElement Json(ReceivedEvent e) => JsonDocument.Parse(e.Data).RootElement;

    private static int Reading(ReceivedEvent e) => Json(e).GetProperty("values").GetProperty("Reading").GetInt32();

    private static int Merged(ReceivedEvent e) => Json(e).TryGetProperty("merged", out var merged) ? merged.GetInt32() : 1;
}
