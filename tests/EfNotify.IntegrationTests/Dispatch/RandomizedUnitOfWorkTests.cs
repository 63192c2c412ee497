using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Tests.TestModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Issue 10, model-based: seeded random sequences of begin, saves, savepoints, rollbacks to them, releases, concurrency
/// conflicts, cancelled and refused saves, commits, rollbacks and disposals, each on one context. After every sequence its
/// outbox rows and its cards are compared with the <see cref="UnitOfWorkModel"/>; at the end, what the dispatcher handed
/// a recording transport is compared with everything the model says committed. A failure names its seed.
/// </summary>
public sealed class RandomizedUnitOfWorkTests : PostgresDatabaseTest
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly string[] Operations =
        ["begin", "save(", "m#", "d#", "notify", "conflict", "cancel", "refused", "savepoint", "rollback to", "release", "commit", "rollback,", "dispose"];

    [Fact]
    public Task Only_what_committed_is_published_in_500_random_units_of_work_on_sqlite()
    {
        var path = Path.Combine(Path.GetTempPath(), $"efnotify-model-{Guid.NewGuid():N}.db");
        return RunAsync(o => o.UseSqlite($"Data Source={path}"), firstSeed: 10_000, sequences: 500, cleanup: () =>
        {
            foreach (var suffix in new[] { "", "-wal", "-shm", ".efnotify-lock" })
            {
                File.Delete(path + suffix);
            }
        });
    }

    [PostgresFact]
    public Task Only_what_committed_is_published_in_100_random_units_of_work_on_postgresql()
        => RunAsync(o => o.UseNpgsql(ConnectionString), firstSeed: 20_000, sequences: 100, cleanup: () => { });

    private static async Task RunAsync(Action<DbContextOptionsBuilder> database, int firstSeed, int sequences, Action cleanup)
    {
        var transport = new RecordingTransport();
        var refusing = new RefusingInterceptor();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddEfNotify<BoardContext>(o => o.PollingInterval = TimeSpan.FromMilliseconds(200));
        builder.Services.AddSingleton<INotificationTransport>(transport);
        builder.Services.AddDbContext<BoardContext>((sp, o) =>
        {
            database(o);
            o.UseEfNotify(sp).AddInterceptors(refusing);
        });
        using var host = builder.Build();
        try
        {
            await using (var scope = host.Services.CreateAsyncScope())
            {
                await scope.ServiceProvider.GetRequiredService<BoardContext>().Database.EnsureCreatedAsync();
            }

            await host.StartAsync();
            var expected = new List<Note>();
            var logs = new List<string>();
            var seeds = new Dictionary<string, List<int>>(); // a channel's sequences (SQLite may give a rolled-back id again)
            for (var seed = firstSeed; seed < firstSeed + sequences; seed++)
            {
                var run = await RunSequenceAsync(host.Services, seed, refusing);
                expected.AddRange(run.Model.Published);
                logs.Add(run.Log);
                foreach (var id in run.Seen)
                {
                    (seeds.TryGetValue($"private-Card.{id}", out var list) ? list : seeds[$"private-Card.{id}"] = []).Add(seed);
                }
            }

            var all = string.Join(", ", logs);
            Assert.All(Operations, o => Assert.Contains(o, all, StringComparison.Ordinal)); // every kind was tried
            await Eventually.UntilAsync(() => transport.Events.Count >= expected.Count, Deadline, $"{expected.Count} events published");
            AssertSame(expected, transport.Events.Select(Read).ToList(), "published to the transport", note => seeds.GetValueOrDefault(note.Channel) ?? []);
            await host.StopAsync();
        }
        finally
        {
            cleanup();
        }
    }

    /// <summary>Runs one sequence; checks its outbox rows and its cards against the model.</summary>
    private static async Task<UnitOfWorkRun> RunSequenceAsync(IServiceProvider services, int seed, RefusingInterceptor refusing)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        var lastRow = await db.Set<OutboxMessage>().MaxAsync(m => (long?)m.Id) ?? 0;
        var run = new UnitOfWorkRun(db, seed, refusing);
        try
        {
            await run.RunAsync();
        }
        catch (Exception exception) when (exception is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"seed {seed} failed after: {run.Log}", exception);
        }

        db.ChangeTracker.Clear();
        var written = (await db.Set<OutboxMessage>().AsNoTracking().Where(m => m.Id > lastRow).OrderBy(m => m.Id).ToListAsync())
            .SelectMany(r => EfNotify.Outbox.OutboxPayload.Read(r.Payload)).Select(Read).ToList();
        AssertSame(run.Model.Published, written, $"written to the outbox after {run.Log}", _ => [seed]);

        var seen = run.Seen.ToList();
        var cards = await db.Cards.AsNoTracking().Where(c => seen.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Notes);
        var model = run.Model.Committed.Where(c => run.Seen.Contains(c.Key)).ToDictionary();
        Assert.True(
            cards.Count == model.Count && cards.All(c => model.TryGetValue(c.Key, out var notes) && notes == c.Value),
            $"seed {seed}: the database holds [{Describe(cards)}], the model [{Describe(model)}] after {run.Log}");
        return run;
    }

    /// <summary>The same notifications, as multisets; a failure names the seeds of those that differ.</summary>
    private static void AssertSame(List<Note> expected, List<Note> actual, string what, Func<Note, List<int>> seedsOf)
    {
        var missing = actual.Aggregate(expected.ToList(), (left, note) => { left.Remove(note); return left; });
        var extra = expected.Aggregate(actual.ToList(), (left, note) => { left.Remove(note); return left; });
        if (missing.Count == 0 && extra.Count == 0)
        {
            return;
        }

        var seeds = missing.Concat(extra).SelectMany(seedsOf).Distinct().Order();
        Assert.Fail($"seed {string.Join(", seed ", seeds)}: {what}: missing [{string.Join("; ", missing)}], not committed [{string.Join("; ", extra)}]");
    }

    private static Note Read(OutgoingEvent e)
    {
        using var data = JsonDocument.Parse(e.Data);
        return new(e.Channel, e.Name, data.RootElement.GetProperty("change").GetString()!);
    }

    private static string Describe(Dictionary<int, string?> cards) => string.Join(", ", cards.OrderBy(c => c.Key).Select(c => $"#{c.Key}={c.Value}"));
}
