using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// What most applications write instead of an outbox (issue 13, item 4): the same writers commit the same changes with
/// a plain SaveChanges (no EfNotify on the context) and then trigger the events themselves, one batch per commit,
/// through the same Pusher client. Nothing is written for a crash between the commit and the trigger: the unsafe way,
/// measured for its speed.
/// </summary>
internal static class NaiveWriters
{
    /// <summary>Commits for <paramref name="duration"/>, each taking <paramref name="objectsPerCommit"/> sequence numbers from <paramref name="take"/>; returns the commits.</summary>
    public static async Task<long> CommitForAsync(LoadHost host, TryTake take, int writers, int objectsPerCommit, TimeSpan duration)
    {
        var options = new DbContextOptionsBuilder<LoadContext>(host.PlainOptions);
        if (!host.IsPostgres && LoadHost.BusyTimeoutMs > 0)
        {
            options.AddInterceptors(new BusyTimeoutInterceptor(LoadHost.BusyTimeoutMs));
        }

        long commits = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            await using var db = new LoadContext(options.Options);
            var client = host.CreatePusherClient();
            while (clock.Elapsed < duration && take(objectsPerCommit, out var first))
            {
                var events = new List<OutgoingEvent>(objectsPerCommit);
                for (var seq = first; seq < first + objectsPerCommit; seq++)
                {
                    var id = (int)(seq % LoadHost.Objects) + 1;
                    var item = new LoadItem { Id = id };
                    db.Attach(item);
                    item.Seq = seq;
                    events.Add(new OutgoingEvent(LoadHost.Channel(id), "changed", Data(id, seq)));
                }

                await db.SaveChangesAsync();
                db.ChangeTracker.Clear();
                foreach (var batch in events.Chunk(10)) // Pusher takes at most 10 events a batch
                {
                    await client.TriggerBatchAsync(batch);
                }

                Interlocked.Increment(ref commits);
            }
        })));
        return commits;
    }

    /// <summary>Hands out <c>count</c> consecutive sequence numbers, or false when none are left.</summary>
    public delegate bool TryTake(int count, out long first);

    /// <summary>An event of the shape and size of EfNotify's, which an application would serialize itself.</summary>
    private static string Data(int id, long seq) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"id\":\"{Guid.CreateVersion7()}\",\"entity\":\"LoadItem\",\"key\":{id},\"action\":\"changed\",\"change\":\"modified\",\"at\":\"{TimeProvider.System.GetUtcNow():O}\",\"values\":{{\"Seq\":{seq}}}}}");
}
