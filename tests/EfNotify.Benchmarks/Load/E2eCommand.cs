using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// <c>e2e [--quick]</c>: commit → browser latency at a steady offered rate, then sustained throughput with writers going
/// as fast as they can, then the raw ceiling of the transport in the same run. See README.md.
/// </summary>
internal static class E2eCommand
{
    private const int LatencyWriters = 2;
    private const int ThroughputWriters = 4;

    public static int Run(string[] args)
    {
        if (!Args.TryParse(args, "e2e [--quick] [--rate N] [--seconds N] [--requests N] [--busy-timeout-ms N|0]", out var quick, out var options, "--rate", "--seconds", "--requests", "--busy-timeout-ms"))
        {
            return 2;
        }

        LoadHost.BusyTimeoutMs = options.GetValueOrDefault("--busy-timeout-ms", LoadHost.BusyTimeoutMs);

        var rate = options.GetValueOrDefault("--rate", 1000);
        var seconds = options.GetValueOrDefault("--seconds", quick ? 10 : 30);
        var requests = options.TryGetValue("--requests", out var r) ? r : (int?)null;
        var results = RunAsync(quick, rate, seconds, requests).GetAwaiter().GetResult();
        Args.Print(results);
        return 0;
    }

    public static async Task<Dictionary<string, string>> RunAsync(bool quick, int rate, int seconds, int? requestsInFlight = null)
    {
        await using var soketi = await SoketiProcess.StartAsync();
        await using var host = await LoadHost.CreateAsync(soketi.Options, _ => { });
        var requests = requestsInFlight ?? 1; // the dispatcher sends one request at a time; the raw ceiling uses the same
        await using var subscriber = await LoadSubscriber.ConnectAsync(soketi.Options, LoadHost.Channels);
        var total = rate * seconds;
        var throughputSeconds = quick ? 5 : 15;
        var received = new long[total + 1 + 2_000_000];
        long duplicates = 0;
        subscriber.OnEvent = (data, at) =>
        {
            var seq = SeqOf(data);
            if (seq <= 0 || seq >= received.Length)
            {
                return;
            }

            if (received[seq] == 0)
            {
                received[seq] = at;
            }
            else
            {
                duplicates++;
            }
        };
        await host.StartAsync();

        // Warm-up: JIT, connection pools, the dispatcher's first claim.
        var warmup = await CommitAsync(host, Enumerable.Range(total + 1, 200).Select(i => (long)i), LatencyWriters);
        await subscriber.WaitForAsync(200, TimeSpan.FromSeconds(10));

        // Phase 1: open-loop schedule, one commit every 1/rate s whatever the previous ones do.
        Console.WriteLine($"e2e: offering {rate} commits/s for {seconds} s ({total} commits, {LatencyWriters} writers, dispatcher requests in flight: {requests})");
        var committed = new long[total + 1];
        var scheduled = new long[total + 1];
        var before = subscriber.Received;
        var queue = Channel.CreateUnbounded<long>();
        var writers = Writers(host, LatencyWriters, queue.Reader, committed);
        var start = Stopwatch.GetTimestamp();
        var period = Stopwatch.Frequency / (double)rate;
        long nextSeq = 1;
        while (nextSeq <= total)
        {
            var due = Math.Min(total, (long)((Stopwatch.GetTimestamp() - start) / period) + 1);
            for (; nextSeq <= due; nextSeq++)
            {
                scheduled[nextSeq] = start + (long)((nextSeq - 1) * period);
                queue.Writer.TryWrite(nextSeq);
            }

            await Task.Delay(1);
        }

        queue.Writer.Complete();
        await writers;
        var offeredSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var complete = await subscriber.WaitForAsync(before + total, TimeSpan.FromSeconds(10));
        var lastReceive = received.Skip(1).Take(total).Max();
        var latencies = new List<double>(total);
        var commitDelays = new List<double>(total);
        for (var seq = 1; seq <= total; seq++)
        {
            commitDelays.Add(Measure.Milliseconds(scheduled[seq], committed[seq]));
            if (received[seq] != 0)
            {
                latencies.Add(Measure.Milliseconds(committed[seq], received[seq]));
            }
        }

        var sortedLatency = latencies.Order().ToArray();
        var sortedCommit = commitDelays.Order().ToArray();
        var e2eRate = latencies.Count / Measure.Milliseconds(start, lastReceive) * 1000;

        // Phase 2: writers as fast as they can.
        var throughputStart = Stopwatch.GetTimestamp();
        var throughputBefore = subscriber.Received;
        var firstSeq = total + 1 + warmup;
        var seqs = new SeqSource(firstSeq);
        var throughputCommits = await CommitForAsync(host, seqs, ThroughputWriters, TimeSpan.FromSeconds(throughputSeconds));
        var writeSeconds = Stopwatch.GetElapsedTime(throughputStart).TotalSeconds;
        var throughputComplete = await subscriber.WaitForAsync(throughputBefore + throughputCommits, TimeSpan.FromSeconds(10));
        var throughputEvents = subscriber.Received - throughputBefore;
        var lastThroughputReceive = received.Skip((int)firstSeq).Take((int)throughputCommits).Max();
        var sustained = throughputEvents / Measure.Milliseconds(throughputStart, lastThroughputReceive) * 1000;

        // Phase 3: the transport alone, same client class and configuration, same requests in flight.
        subscriber.OnEvent = null;
        var raw = await RawCeiling.MeasureAsync(host.CreatePusherClient(), subscriber, requests, TimeSpan.FromSeconds(quick ? 3 : 10));
        var raw16 = quick ? double.NaN : await RawCeiling.MeasureAsync(host.CreatePusherClient(), subscriber, 16, TimeSpan.FromSeconds(5));

        var table = new List<(string, string)>
        {
            ("offered", $"{rate} commits/s for {seconds} s; achieved {total / offeredSeconds:0} commits/s"),
            ("commit delay (scheduled → SaveChanges returned)", $"p50 {Measure.Percentile(sortedCommit, 50):0.00} ms, p99 {Measure.Percentile(sortedCommit, 99):0.00} ms"),
            ("received", $"{latencies.Count} of {total}{(complete ? "" : " (incomplete)")}, {duplicates} duplicates"),
            ("commit → receive", $"p50 {Measure.Percentile(sortedLatency, 50):0.00} ms, p95 {Measure.Percentile(sortedLatency, 95):0.00} ms, "
                                 + $"p99 {Measure.Percentile(sortedLatency, 99):0.00} ms, max {sortedLatency.LastOrDefault():0.0} ms"),
            ("events/s received at the offered rate", $"{e2eRate:0}"),
            ("throughput: commits", $"{throughputCommits} by {ThroughputWriters} writers in {writeSeconds:0.0} s = {throughputCommits / writeSeconds:0} commits/s"),
            ("throughput: events/s received (to the last event)", $"{sustained:0}{(throughputComplete ? "" : " (incomplete)")}"),
            ($"raw ceiling, batches of 10, {requests} in flight", $"{raw:0} events/s"),
            ("raw, batches of 10, 16 in flight", double.IsNaN(raw16) ? "not measured in quick mode" : $"{raw16:0} events/s"),
            ("process peak RSS", $"{Measure.StatusMegabytes("VmHWM"):0} MB; soketi RSS {Measure.StatusMegabytes("VmRSS", soketi.ProcessId):0} MB"),
        };
        Args.PrintTable("e2e", table);

        return new Dictionary<string, string>
        {
            ["e2e_p50_ms"] = Args.Format(Measure.Percentile(sortedLatency, 50)),
            ["e2e_p95_ms"] = Args.Format(Measure.Percentile(sortedLatency, 95)),
            ["e2e_p99_ms"] = Args.Format(Measure.Percentile(sortedLatency, 99)),
            ["e2e_events_per_s"] = Args.Format(e2eRate, "0"),
            ["e2e_sustained_events_per_s"] = Args.Format(sustained, "0"),
            ["raw_events_per_s"] = Args.Format(raw, "0"),
            ["throughput_ratio"] = Args.Format(sustained / raw),
        };
    }

    internal static long SeqOf(string data)
    {
        using var document = JsonDocument.Parse(data);
        return document.RootElement.TryGetProperty("values", out var values) && values.TryGetProperty(nameof(LoadItem.Seq), out var seq)
            ? seq.GetInt64()
            : -1;
    }

    /// <summary>Writers that commit the sequence numbers they are given, recording when each SaveChanges returned.</summary>
    private static Task Writers(LoadHost host, int count, ChannelReader<long> reader, long[] committed)
        => Task.WhenAll(Enumerable.Range(0, count).Select(_ => Task.Run(async () =>
        {
            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LoadContext>();
            await foreach (var seq in reader.ReadAllAsync())
            {
                await ModifyOneAsync(db, seq);
                committed[seq] = Stopwatch.GetTimestamp();
            }
        })));

    private static async Task<int> CommitAsync(LoadHost host, IEnumerable<long> seqs, int writers)
    {
        var queue = Channel.CreateUnbounded<long>();
        var count = 0;
        foreach (var seq in seqs)
        {
            queue.Writer.TryWrite(seq);
            count++;
        }

        queue.Writer.Complete();
        var ignored = new long[seqs.Max() + 1];
        await Writers(host, writers, queue.Reader, ignored);
        return count;
    }

    private static async Task<long> CommitForAsync(LoadHost host, SeqSource seqs, int writers, TimeSpan duration)
    {
        long commits = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LoadContext>();
            while (clock.Elapsed < duration)
            {
                await ModifyOneAsync(db, seqs.Next());
                Interlocked.Increment(ref commits);
            }
        })));
        return commits;
    }

    /// <summary>One commit: one [Notify] object modified (the objects in turn), one SaveChanges, one outbox row.</summary>
    private static async Task ModifyOneAsync(LoadContext db, long seq)
    {
        var item = new LoadItem { Id = (int)(seq % LoadHost.Objects) + 1 };
        db.Attach(item);
        item.Seq = seq;
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();
    }

    private sealed class SeqSource(long first)
    {
        private long _next = first - 1;

        public long Next() => Interlocked.Increment(ref _next);
    }
}

/// <summary>Argument parsing and the output format shared by the load commands.</summary>
internal static class Args
{
    public static bool TryParse(string[] args, string usage, out bool quick, out Dictionary<string, int> values, params string[] valueNames)
    {
        quick = false;
        values = [];
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--quick")
            {
                quick = true;
            }
            else if (valueNames.Contains(args[i]) && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var value) && value >= 0)
            {
                values[args[i]] = value;
                i++;
            }
            else
            {
                Console.Error.WriteLine($"usage: {usage}");
                return false;
            }
        }

        return true;
    }

    public static string Format(double value, string format = "0.00")
        => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "NaN";

    public static void PrintTable(string title, IReadOnlyList<(string Name, string Value)> rows)
    {
        var width = rows.Max(r => r.Name.Length);
        Console.WriteLine();
        Console.WriteLine($"| {title.PadRight(width)} | |");
        Console.WriteLine($"|{new string('-', width + 2)}|---|");
        foreach (var (name, value) in rows)
        {
            Console.WriteLine($"| {name.PadRight(width)} | {value} |");
        }

        Console.WriteLine();
    }

    public static void Print(IEnumerable<KeyValuePair<string, string>> results)
    {
        foreach (var (key, value) in results)
        {
            Console.WriteLine($"{key}={value}");
        }
    }
}
