using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Issue 12: when the connection that holds the leader's lock is killed while it publishes, another instance may lead
/// at once; the old leader must not start another publish request from then on.
/// </summary>
public sealed class FencingTests : PostgresDatabaseTest
{
    private const int Cards = 20, Commits = 1_200, ClaimBatchSize = 20;
    private static readonly int[] KillAfter = [300, 600, 900];
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [PostgresFact]
    public async Task Killing_the_leaders_lock_connection_while_it_publishes_never_lets_two_instances_publish_at_once_and_loses_nothing()
    {
        await using var server = await SoketiServer.StartAsync();
        Action<IServiceProvider, DbContextOptionsBuilder> database = (_, o) => o.UseNpgsql(ConnectionString);
        await using var writer = await NotifyHost.StartAsync(server.Options, options: o => o.DispatcherEnabled = false, database: database);
        var cards = Enumerable.Range(0, Cards).Select(i => new Card { Title = $"card {i}" }).ToList();
        await writer.WithContextAsync(async db =>
        {
            db.AddRange(cards);
            await db.SaveChangesAsync();
            await db.Set<OutboxMessage>().ExecuteDeleteAsync();
        });

        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        foreach (var card in cards)
        {
            await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        }

        // Standbys try the lock every 50 ms, so one leads again well within the second the old leader used to go on for.
        var requests = new ConcurrentQueue<TimedTransport.Request>();
        var clock = Stopwatch.StartNew();
        var dispatchers = new List<NotifyHost>();
        for (var i = 0; i < 3; i++)
        {
            var name = $"instance {i}";
            var named = $"{ConnectionString};Application Name=efnotify-fencing-{i}"; // tells the lock holders apart
            dispatchers.Add(await NotifyHost.StartAsync(
                server.Options,
                options: o => { o.ClaimBatchSize = ClaimBatchSize; o.PollingInterval = TimeSpan.FromMilliseconds(50); },
                database: (_, o) => o.UseNpgsql(named),
                services: s => TimedTransport.Decorate(s, name, clock, requests)));
        }

        var kills = new List<TimeSpan>();
        for (var sequence = 0; sequence < Commits; sequence++)
        {
            var card = cards[sequence % Cards];
            var notes = sequence.ToString(CultureInfo.InvariantCulture);
            await writer.WithContextAsync(async db =>
            {
                (await db.Cards.SingleAsync(c => c.Id == card.Id)).Notes = notes;
                await db.SaveChangesAsync();
            });

            if (KillAfter.Contains(sequence))
            {
                await Eventually.UntilAsync(async () => await LockHoldersAsync() == 1, Deadline, "an instance to lead");
                await Eventually.UntilAsync(() => !requests.IsEmpty, Deadline, "the leader to publish");
                // The instance that lost its lock may take it again first: kill until another one leads (bounded).
                var before = await LockHolderAsync();
                for (var attempt = 0; attempt < 10; attempt++)
                {
                    kills.Add(clock.Elapsed);
                    var killed = await TerminateLockHolderAsync();
                    Assert.True(killed is not null, "the leader's lock connection was terminated");
                    // A terminated backend is listed as holding the lock until it has exited: wait for a new connection.
                    await Eventually.UntilAsync(async () => await LockHolderPidsAsync() is [var holder] && holder != killed, Deadline, "an instance to lead again");
                    if (await LockHolderAsync() != before)
                    {
                        break;
                    }
                }
            }
        }

        await writer.ExplainAsync(subscriber.WaitForEventsAsync(Commits, e => e.Name == "changed", Deadline));
        await writer.AllDeliveredAsync(Deadline);

        // No request of one instance overlaps a request of another, except one already in flight when a lock was killed.
        var all = requests.OrderBy(r => r.Start).ToList();
        var overlaps = all.SelectMany(a => all.Where(b => b.Instance != a.Instance && b.Start >= a.Start && b.Start < a.End)
                .Where(_ => !kills.Any(k => a.Start <= k && k <= a.End))
                .Select(b => $"{a.Instance} {a.Start.TotalMilliseconds:0.0}-{a.End.TotalMilliseconds:0.0} ms and {b.Instance} from {b.Start.TotalMilliseconds:0.0} ms"))
            .ToList();
        Assert.True(overlaps.Count == 0, $"two instances published at once: {string.Join("; ", overlaps)}");
        Assert.True(all.Select(r => r.Instance).Distinct().Count() >= 2, "another instance took over after a kill");

        var received = subscriber.Events.Where(e => e.Name == "changed")
            .Select(e => JsonDocument.Parse(e.Data).RootElement)
            .Select(d => (Id: d.GetProperty("id").GetString()!, Key: d.GetProperty("key").GetInt32(), Sequence: int.Parse(d.GetProperty("values").GetProperty("Notes").GetString()!, CultureInfo.InvariantCulture)))
            .ToList();
        var firsts = received.DistinctBy(r => r.Id).ToList();
        Assert.Equal(Enumerable.Range(0, Commits), firsts.Select(r => r.Sequence).Order());
        foreach (var channel in firsts.GroupBy(r => r.Key))
        {
            Assert.Equal(channel.Select(r => r.Sequence).Order(), channel.Select(r => r.Sequence));
        }

        // Published again only what a killed leader had sent but not yet recorded: at most one claim per kill.
        Assert.InRange(received.Count - firsts.Count, 0, kills.Count * ClaimBatchSize);

        foreach (var dispatcher in dispatchers)
        {
            await dispatcher.DisposeAsync();
        }
    }

    private const string LockHolders = "FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

    private async Task<long> LockHoldersAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) {LockHolders}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<string?> LockHolderAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT a.application_name FROM pg_stat_activity a WHERE a.pid IN (SELECT pid {LockHolders}) LIMIT 1", connection);
        return await command.ExecuteScalarAsync() as string;
    }

    private async Task<List<int>> LockHolderPidsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT pid {LockHolders}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var pids = new List<int>();
        while (await reader.ReadAsync())
        {
            pids.Add(reader.GetInt32(0));
        }

        return pids;
    }

    /// <summary>Terminates the backend holding the lock; returns its process id, or null when none held it.</summary>
    private async Task<int?> TerminateLockHolderAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"WITH holder AS MATERIALIZED (SELECT pid {LockHolders}) SELECT pid FROM holder WHERE pg_terminate_backend(pid)", connection);
        return await command.ExecuteScalarAsync() as int?;
    }
}

/// <summary>The real transport, with the time each request of an instance started and ended.</summary>
internal sealed class TimedTransport(INotificationTransport inner, string instance, Stopwatch clock, ConcurrentQueue<TimedTransport.Request> requests)
    : INotificationTransport
{
    public sealed record Request(string Instance, TimeSpan Start, TimeSpan End, int Events);

    public int MaxBatchSize => inner.MaxBatchSize;

    public int MaxEventDataBytes => inner.MaxEventDataBytes;

    public static void Decorate(IServiceCollection services, string instance, Stopwatch clock, ConcurrentQueue<Request> requests)
    {
        var registered = services.Single(d => d.ServiceType == typeof(INotificationTransport));
        services.Remove(registered);
        services.AddSingleton<INotificationTransport>(sp => new TimedTransport(
            (INotificationTransport)ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!), instance, clock, requests));
    }

    public async Task PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        var start = clock.Elapsed;
        try
        {
            await inner.PublishAsync(events, cancellationToken);
        }
        finally
        {
            requests.Enqueue(new Request(instance, start, clock.Elapsed, events.Count));
        }
    }
}
