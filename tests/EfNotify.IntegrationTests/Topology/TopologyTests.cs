using System.Globalization;
using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EfNotify.IntegrationTests.Topology;

/// <summary>
/// Issue 12: the production topology with real parts. Three application processes (test workers, each writing and each
/// able to lead) on one PostgreSQL, publishing to a soketi cluster of two nodes that share a Redis, with pusher-js
/// subscribers in Node connected to different nodes.
/// </summary>
public sealed class TopologyTests : PostgresDatabaseTest
{
    private const int Cards = 10, PerWorker = 400, IntervalMs = 15;
    private const string Presence = "presence-room";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [TopologyFact]
    public async Task Killing_the_leading_application_and_then_a_soketi_node_loses_no_committed_notification_for_subscribers_of_the_surviving_node()
    {
        await using var redis = await RedisServer.StartAsync();
        var cluster = new SoketiSettings
        {
            Environment = new Dictionary<string, string>
            {
                ["SOKETI_ADAPTER_DRIVER"] = "redis",
                ["SOKETI_DB_REDIS_HOST"] = "127.0.0.1",
                ["SOKETI_DB_REDIS_PORT"] = redis.Port.ToString(CultureInfo.InvariantCulture),
            },
        };
        await using var nodeA = await SoketiServer.StartAsync(cluster);
        await using var nodeB = await SoketiServer.StartAsync(cluster);

        // The applications publish through node A's HTTP API; the subscribers listen on both nodes.
        await using var writer = await NotifyHost.StartAsync(nodeA.Options, options: o => o.DispatcherEnabled = false, database: (_, o) => o.UseNpgsql(ConnectionString));
        var cards = Enumerable.Range(0, Cards).Select(i => new Card { Title = $"card {i}" }).ToList();
        await writer.WithContextAsync(async db =>
        {
            db.AddRange(cards);
            await db.SaveChangesAsync();
        });
        var channels = cards.Select(c => $"private-Card.{c.Id}").ToList();
        await using var onA = await NodeSubscriber.StartAsync(nodeA, "alice", Presence, channels, Deadline);
        await using var onB = await NodeSubscriber.StartAsync(nodeB, "bob", Presence, channels, Deadline);
        await onA.UntilAsync(() => onA.Members.SequenceEqual(["alice", "bob"]), Deadline, "alice to see bob, connected to the other node, in the room");
        await onB.UntilAsync(() => onB.Members.SequenceEqual(["alice", "bob"]), Deadline, "bob to see alice in the room");

        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                workers.Add(TestWorker.Start(
                    $"{ConnectionString};Application Name=efnotify-worker-{i}", nodeA.Options, i * PerWorker, (i + 1) * PerWorker, dispatcher: true, IntervalMs));
            }

            await Explained(workers, onA.UntilAsync(() => onA.Events.Count >= 100, Deadline, "the first 100 notifications"));
            var leader = workers[await LeadingWorkerAsync()];
            leader.Kill();
            var atKill = onA.Events.Count;
            await Explained(workers, onA.UntilAsync(() => onA.Events.Count >= atKill + 100, Deadline, "publishing to resume after the leading application was killed"));

            // X-Socket-ID: a change made by bob's connection (on node B) reaches alice but is not echoed to bob.
            var card = cards[0];
            writer.Notifier.SocketId = onB.SocketId;
            await SetNotesAsync(writer, card.Id, "made by bob");
            writer.Notifier.SocketId = null;
            await SetNotesAsync(writer, card.Id, "after bob's change");
            await onA.UntilAsync(() => onA.Events.Any(e => e.Data.Contains("\"made by bob\"", StringComparison.Ordinal)), Deadline, "alice to receive bob's change");
            await onB.UntilAsync(() => onB.Events.Any(e => e.Data.Contains("\"after bob's change\"", StringComparison.Ordinal)), Deadline, "bob to receive the next change");
            Assert.DoesNotContain(onB.Events, e => e.Data.Contains("\"made by bob\"", StringComparison.Ordinal));

            // A node dies (SIGKILL) with bob's connection. soketi tells no one of the members it held then (no node is left to
            // say they left), but one who enters the room afterwards is told only of members of nodes still alive.
            await nodeB.StopAsync();
            await using (var carol = await NodeSubscriber.StartAsync(nodeA, "carol", Presence, [], Deadline))
            {
                await carol.UntilAsync(() => carol.Members.SequenceEqual(["alice", "carol"]), Deadline, "carol to find alice and herself in the room, not bob");
            }

            foreach (var worker in workers.Where(w => !w.Killed))
            {
                await worker.WaitForExitAsync(Deadline);
                Assert.True(worker.ExitCode == 0, worker.Errors);
            }

            // The workers stopped their dispatchers as they exited, maybe before their last rows went out: an instance started
            // now (as a redeployed application would be) publishes what is left.
            await using var successor = await NotifyHost.StartAsync(nodeA.Options, database: (_, o) => o.UseNpgsql(ConnectionString));

            // Every committed sequence (the database says which: a Board per commit) reaches alice, in order per channel and worker.
            var committed = await writer.WithContextAsync(db => db.Boards.Where(b => b.Name.StartsWith("commit ")).Select(b => b.Name).ToListAsync());
            var expected = committed.Select(n => int.Parse(n["commit ".Length..], CultureInfo.InvariantCulture)).Order().ToList();
            Assert.True(expected.Count > 2 * PerWorker, $"{expected.Count} commits");
            try
            {
                await onA.UntilAsync(() => Sequences(onA).Select(s => s.Sequence).Distinct().Count() >= expected.Count, Deadline, $"alice to receive {expected.Count} notifications");
            }
            catch (TimeoutException exception)
            {
                var rows = await writer.RowsAsync();
                var missing = expected.Except(Sequences(onA).Select(s => s.Sequence)).Take(20);
                throw new TimeoutException(
                    $"{exception.Message}\nmissing: {string.Join(", ", missing)}\noutbox: "
                    + string.Join(", ", rows.GroupBy(r => (r.Status, r.LastError)).Select(g => $"{g.Count()} {g.Key.Status} {g.Key.LastError}")),
                    exception);
            }

            var received = Sequences(onA);
            Assert.Equal(expected, received.Select(r => r.Sequence).Distinct().Order());
            foreach (var stream in received.DistinctBy(r => r.Sequence).GroupBy(r => (r.Channel, Worker: r.Sequence / PerWorker)))
            {
                Assert.Equal(stream.Select(r => r.Sequence).Order(), stream.Select(r => r.Sequence));
            }
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
        }
    }

    /// <summary>A timeout while the workers run says how far each got and what it printed on stderr.</summary>
    private static async Task Explained(List<WorkerProcess> workers, Task wait)
    {
        try
        {
            await wait;
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException(
                exception.Message + string.Concat(workers.Select((w, i) => $"\nworker {i}: {w.Committed.Count} commits, exited {w.HasExited}, killed {w.Killed}; stderr: {w.Errors}")),
                exception);
        }
    }

    private static List<(string Channel, int Sequence)> Sequences(NodeSubscriber subscriber)
        => subscriber.Events.Select(e => (e.Channel, Notes: JsonDocument.Parse(e.Data).RootElement.GetProperty("values").GetProperty("Notes").GetString()))
            .Where(e => int.TryParse(e.Notes, CultureInfo.InvariantCulture, out _))
            .Select(e => (e.Channel, int.Parse(e.Notes!, CultureInfo.InvariantCulture)))
            .ToList();

    private static Task SetNotesAsync(NotifyHost host, int id, string notes)
        => host.WithContextAsync(async db =>
        {
            (await db.Cards.SingleAsync(c => c.Id == id)).Notes = notes;
            await db.SaveChangesAsync();
        });

    /// <summary>The worker whose connection holds the advisory lock, found by the application name of its connection.</summary>
    private async Task<int> LeadingWorkerAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        string? name = null;
        await Eventually.UntilAsync(
            async () =>
            {
                await using var command = new NpgsqlCommand(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    + "WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    connection);
                name = await command.ExecuteScalarAsync() as string;
                return name is not null;
            },
            Deadline,
            "an application to lead");
        return int.Parse(name!["efnotify-worker-".Length..], CultureInfo.InvariantCulture);
    }
}
