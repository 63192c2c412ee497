using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>Runs alone, after the parallel tests, so that the managed heap it samples is this test's own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryCollection
{
    public const string Name = "memory (runs alone)";
}

/// <summary>A backlog that grows while the server is down stays in the database, not in the dispatcher's memory.</summary>
[Collection(MemoryCollection.Name)]
public sealed class BacklogMemoryTests
{
    private const int Cards = 10;
    private const int Transactions = 2_000; // ten notifications each: 20,000 in all
    private const int SampleEvery = 200;
    private const int ClaimBatchSize = 100; // rows of ten notifications: the backlog must outweigh several claims
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(180);

    [SoketiFact]
    public async Task The_heap_does_not_grow_with_a_backlog_of_twenty_thousand_notifications_while_the_server_is_down()
    {
        await using var server = await SoketiServer.StartAsync();
        await using var host = await NotifyHost.StartAsync(server.Options, options: o => { o.MaxAttempts = 10_000; o.ClaimBatchSize = ClaimBatchSize; });
        await host.WithContextAsync(async db =>
        {
            db.AddRange(Enumerable.Range(0, Cards).Select(i => new Card { Title = $"card {i}" }));
            await db.SaveChangesAsync();
        });
        await host.AllDeliveredAsync(Deadline);
        await server.StopAsync();

        var samples = new List<long>();
        for (var t = 0; t < Transactions; t++)
        {
            var sequence = t;
            await host.WithContextAsync(async db =>
            {
                foreach (var card in await db.Cards.ToListAsync())
                {
                    card.Notes = $"transaction {sequence}, a note of a realistic length for a card";
                }

                await db.SaveChangesAsync();
            });
            if ((t + 1) % SampleEvery == 0)
            {
                host.Logs.Clear(); // the test's collected log grows by an entry or so a transaction; it is not the dispatcher's
                samples.Add(GC.GetTotalMemory(forceFullCollection: true));
            }
        }

        var rows = await host.RowsAsync();
        Assert.True(rows.Count(r => r.Status == OutboxStatus.Pending) == Transactions, "the backlog is in the outbox");
        Assert.Contains(rows, r => r.Attempts > 0); // the dispatcher kept trying meanwhile

        // The dispatcher holds at most one claim (ClaimBatchSize rows) and, with the server down, stops at the
        // first row in backoff. The backlog takes far more than the bound: were it held, the check fails. Sizes are of
        // what the dispatcher holds of a row (its payload, and each notification's message, as
        // UTF-16 text) rather than of the payload alone, which is a fraction of it since payloads are compact.
        // A sample is taken whether or not the dispatcher holds its claim at that moment (it claims, fails, and waits
        // for the row's next attempt), and a claim as it is held (planned events, lanes and row states beside the
        // text) measured about 1.5 MB against this estimate's 0.7 MB: samples 5.26, 5.28, 5.28, 6.80, 6.92, 5.52,
        // 5.57, 7.09, 7.04, 7.07 MB. The two ends may differ by that claim, so the bound is three estimates.
        var claim = Held(rows.Take(ClaimBatchSize));
        var bound = Math.Max(3 * claim, 1_000_000); // one claim as the dispatcher holds it, with room, or 1 MB
        Assert.True(Held(rows.Skip(3 * SampleEvery)) > 4 * bound, "the backlog outweighs the bound");
        // The median of the last three samples against that of the first three: a single sample swings by up to 1.5 MB
        // either way (seen in both directions, flat around it), where a held backlog grows by about 1.4 MB a sample.
        var growth = Median(samples.TakeLast(3)) - Median(samples.Take(3));
        Assert.True(
            growth < bound,
            $"the heap grew by {growth:N0} bytes (bound {bound:N0}, a claim {claim:N0}) while the {Transactions - 3 * SampleEvery:N0} transactions between them queued; samples: {string.Join(", ", samples.Select(s => s.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))}");

        await server.RestartAsync();
        await host.AllDeliveredAsync(Deadline);
    }

    private static long Median(IEnumerable<long> three) => three.Order().ElementAt(1);

    private static long Held(IEnumerable<OutboxMessage> rows)
        => rows.Sum(r => 2L * (r.Payload.Length + EfNotify.Outbox.OutboxPayload.Read(r.Payload).Sum(e => (long)e.Data.Length)));
}
