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

    /// <summary>
    /// Objects per commit in the throughput phase, by default: with one, four writers on SQLite offer about a sixth of
    /// what the transport takes, and the ratio measured SQLite's commit rate; with ten they offer more than it takes.
    /// </summary>
    public const int DefaultObjectsPerCommit = 10;

    /// <summary>Sequence numbers the throughput phase may use; the writers stop early (and say so) when they run out.</summary>
    private const int ThroughputCapacity = 2_000_000;

    public static int Run(string[] args)
    {
        if (Array.IndexOf(args, "--instances") >= 0)
        {
            return InstancesCommand.Run(args);
        }

        if (Array.IndexOf(args, "--pusher-rtt-ms") is var rttIndex and >= 0)
        {
            return RunBehindRoundTrips(args, rttIndex);
        }

        var usage = $"e2e [--quick] [--rate N] [--seconds N] [--requests N] [--busy-timeout-ms N|0] [--objects-per-commit K (1-{LoadHost.Objects}, default {DefaultObjectsPerCommit})] [--postgres CONN]";
        if (!Args.TakePostgres(ref args, usage) || !Args.TryParse(args, usage, out var quick, out var options, "--rate", "--seconds", "--requests", "--busy-timeout-ms", "--objects-per-commit"))
        {
            return 2;
        }

        var objectsPerCommit = options.GetValueOrDefault("--objects-per-commit", DefaultObjectsPerCommit);
        if (objectsPerCommit is < 1 or > LoadHost.Objects)
        {
            // Each commit modifies distinct objects, and the subscriber listens on the channels of all of them.
            Console.Error.WriteLine($"usage: {usage}");
            return 2;
        }

        LoadHost.BusyTimeoutMs = options.GetValueOrDefault("--busy-timeout-ms", LoadHost.BusyTimeoutMs);

        var rate = options.GetValueOrDefault("--rate", 1000);
        var seconds = options.GetValueOrDefault("--seconds", quick ? 10 : 30);
        var requests = options.TryGetValue("--requests", out var r) ? r : (int?)null;
        var results = RunAsync(quick, rate, seconds, requests, objectsPerCommit).GetAwaiter().GetResult();
        Args.Print(results);
        return 0;
    }

    /// <summary><c>e2e --pusher-rtt-ms R[,R...] [--quick] [--rate N] [--seconds N] [--postgres CONN]</c>: see <see cref="RttThroughput"/>.</summary>
    private static int RunBehindRoundTrips(string[] args, int index)
    {
        const string usage = "e2e --pusher-rtt-ms R[,R...] [--quick] [--rate N] [--seconds N] [--postgres CONN]";
        var rtts = index + 1 < args.Length
            ? args[index + 1].Split(',').Select(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : double.NaN).ToArray()
            : [];
        args = [.. args[..index], .. args[Math.Min(args.Length, index + 2)..]];
        if (rtts.Length == 0 || rtts.Any(double.IsNaN) || !Args.TakePostgres(ref args, usage) || !Args.TryParse(args, usage, out var quick, out var options, "--rate", "--seconds"))
        {
            Console.Error.WriteLine($"usage: {usage}");
            return 2;
        }

        var results = RttThroughput.RunAsync(rtts, quick, options.GetValueOrDefault("--rate", 1000), options.GetValueOrDefault("--seconds", quick ? 5 : 15)).GetAwaiter().GetResult();
        Args.Print(results);
        return 0;
    }

    public static async Task<Dictionary<string, string>> RunAsync(bool quick, int rate, int seconds, int? requestsInFlight = null, int objectsPerCommit = DefaultObjectsPerCommit)
    {
        await using var soketi = await SoketiProcess.StartAsync();
        var requests = requestsInFlight ?? new EfNotifyOptions().MaxRequestsInFlight; // the dispatcher's, and the raw ceiling's the same
        await using var host = await LoadHost.CreateAsync(soketi.Options, o => o.MaxRequestsInFlight = requests);
        await using var subscriber = await LoadSubscriber.ConnectAsync(soketi.Options, LoadHost.Channels);
        var total = rate * seconds;
        var throughputSeconds = quick ? 5 : 15;
        var received = new long[total + 1 + ThroughputCapacity];
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

        // Warm-up, not recorded (its sequence numbers lie past `received`): connection pools, the dispatcher's first claims,
        // and the JIT, whose tiered compilation goes on for seconds after start-up on the same two cores.
        var warmup = await WarmUpAsync(host, subscriber, rate, firstSeq: received.Length);

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

        // Phase 2: writers as fast as they can, each commit modifying objectsPerCommit objects: as many notifications,
        // to as many channels, in one outbox row. Only the events of this phase count (by their Seq), from the first
        // commit to the last of them received, so the drain of what was committed is in and nothing else is.
        var throughputCost = Cost.Sample(soketi.ProcessId);
        var throughputStart = Stopwatch.GetTimestamp();
        var throughputBefore = subscriber.Received;
        var duplicatesBefore = duplicates;
        var firstSeq = total + 1;
        var seqs = new SeqSource(firstSeq, received.Length);
        var throughputCommits = await CommitForAsync(host, seqs, ThroughputWriters, objectsPerCommit, TimeSpan.FromSeconds(throughputSeconds));
        var writeSeconds = Stopwatch.GetElapsedTime(throughputStart).TotalSeconds;
        var expected = throughputCommits * objectsPerCommit;
        var throughputComplete = await subscriber.WaitForAsync(throughputBefore + expected, TimeSpan.FromSeconds(10));
        var throughputCostPerEvent = Cost.Sample(soketi.ProcessId).Since(throughputCost).PerEvent(subscriber.Received - throughputBefore);
        var phase = received.AsSpan((int)firstSeq, (int)expected);
        var throughputReceived = phase.Length - phase.Count(0L);
        var lastThroughputReceive = throughputReceived == 0 ? throughputStart : Max(phase);
        var sustained = throughputReceived / Measure.Milliseconds(throughputStart, lastThroughputReceive) * 1000;
        var offered = expected / writeSeconds;
        var throughputDuplicates = duplicates - duplicatesBefore;
        if (throughputReceived < expected)
        {
            Console.Error.WriteLine($"e2e: throughput phase lost events: {throughputReceived} of {expected} received");
        }

        if (seqs.Exhausted)
        {
            Console.Error.WriteLine($"e2e: the throughput phase used all {ThroughputCapacity} sequence numbers and stopped early");
        }

        // Phase 2b (issue 13): what most applications write instead, the same writers and changes with a plain SaveChanges
        // and a trigger of their own after each commit (no outbox), counted the same way.
        var naiveFirst = seqs.Next;
        var naiveSeqs = new SeqSource(naiveFirst, received.Length);
        var naiveBefore = subscriber.Received;
        var naiveStart = Stopwatch.GetTimestamp();
        var naiveCommits = await NaiveWriters.CommitForAsync(host, naiveSeqs.TryTake, ThroughputWriters, objectsPerCommit, TimeSpan.FromSeconds(throughputSeconds));
        var naiveSeconds = Stopwatch.GetElapsedTime(naiveStart).TotalSeconds;
        var naiveExpected = naiveCommits * objectsPerCommit;
        await subscriber.WaitForAsync(naiveBefore + naiveExpected, TimeSpan.FromSeconds(10));
        var naivePhase = received.AsSpan((int)naiveFirst, (int)naiveExpected);
        var naiveReceived = naivePhase.Length - naivePhase.Count(0L);
        var naiveSustained = naiveReceived / Measure.Milliseconds(naiveStart, naiveReceived == 0 ? naiveStart : Max(naivePhase)) * 1000;

        // Phase 3: the transport alone, same client class and configuration, same requests in flight.
        subscriber.OnEvent = null;
        var (raw, rawCostPerEvent) = await RawCeiling.MeasureAsync(
            host.CreatePusherClient(), subscriber, requests, TimeSpan.FromSeconds(quick ? 3 : 10), soketi.ProcessId);
        var raw16 = quick ? double.NaN : (await RawCeiling.MeasureAsync(host.CreatePusherClient(), subscriber, 16, TimeSpan.FromSeconds(5), soketi.ProcessId)).EventsPerSecond;

        var table = new List<(string, string)>
        {
            ("database", LoadHost.StorageName),
            ("warm-up (not recorded)", warmup),
            ("offered", $"{rate} commits/s for {seconds} s; achieved {total / offeredSeconds:0} commits/s"),
            ("commit delay (scheduled → SaveChanges returned)", $"p50 {Measure.Percentile(sortedCommit, 50):0.00} ms, p99 {Measure.Percentile(sortedCommit, 99):0.00} ms"),
            ("received", $"{latencies.Count} of {total}{(complete ? "" : " (incomplete)")}, {duplicatesBefore} duplicates"),
            ("commit → receive", $"p50 {Measure.Percentile(sortedLatency, 50):0.00} ms, p95 {Measure.Percentile(sortedLatency, 95):0.00} ms, "
                                 + $"p99 {Measure.Percentile(sortedLatency, 99):0.00} ms, max {sortedLatency.LastOrDefault():0.0} ms"),
            ("events/s received at the offered rate", $"{e2eRate:0}"),
            ("throughput: commits", $"{throughputCommits} by {ThroughputWriters} writers in {writeSeconds:0.0} s = {throughputCommits / writeSeconds:0} commits/s, "
                                    + $"{objectsPerCommit} object{(objectsPerCommit == 1 ? "" : "s")} each"),
            ("throughput: events/s offered (objects × commits/s)", $"{offered:0}"),
            ("throughput: events received of expected", $"{throughputReceived} of {expected}{(throughputComplete ? "" : " (incomplete)")}, {throughputDuplicates} duplicates"),
            ("throughput: events/s received (first commit → last event)", $"{sustained:0}"),
            ("throughput: cost per event (commits and delivery)", throughputCostPerEvent),
            ("naive: plain SaveChanges, then a trigger per commit (no outbox)", $"{naiveCommits} commits by {ThroughputWriters} writers in {naiveSeconds:0.0} s, "
                                    + $"{naiveReceived} of {naiveExpected} events received, {naiveSustained:0} events/s (first commit → last event)"),
            ("EfNotify ÷ naive", $"{sustained / naiveSustained:0.00}"),
            ($"raw ceiling, batches of 10, {requests} in flight", $"{raw:0} events/s"),
            ("raw: cost per event", rawCostPerEvent),
            ("raw, batches of 10, 16 in flight", double.IsNaN(raw16) ? "not measured in quick mode" : $"{raw16:0} events/s"),
            ("load average (1, 5, 15 min) at the end", Measure.LoadAverage()),
            ("process peak RSS", $"{Measure.StatusMegabytes("VmHWM"):0} MB; soketi RSS {Measure.StatusMegabytes("VmRSS", soketi.ProcessId):0} MB"),
        };
        Args.PrintTable("e2e", table);

        return new Dictionary<string, string>
        {
            ["e2e_p50_ms"] = Args.Format(Measure.Percentile(sortedLatency, 50)),
            ["e2e_p95_ms"] = Args.Format(Measure.Percentile(sortedLatency, 95)),
            ["e2e_p99_ms"] = Args.Format(Measure.Percentile(sortedLatency, 99)),
            ["e2e_events_per_s"] = Args.Format(e2eRate, "0"),
            ["e2e_objects_per_commit"] = objectsPerCommit.ToString(CultureInfo.InvariantCulture),
            ["e2e_offered_events_per_s"] = Args.Format(offered, "0"),
            ["e2e_sustained_events_per_s"] = Args.Format(sustained, "0"),
            ["e2e_throughput_events_received"] = throughputReceived.ToString(CultureInfo.InvariantCulture),
            ["e2e_throughput_events_expected"] = expected.ToString(CultureInfo.InvariantCulture),
            ["raw_events_per_s"] = Args.Format(raw, "0"),
            ["throughput_ratio"] = Args.Format(sustained / raw),
            ["naive_sustained_events_per_s"] = Args.Format(naiveSustained, "0"),
            ["naive_throughput_ratio"] = Args.Format(sustained / naiveSustained),
        };
    }

    internal static long SeqOf(string data)
    {
        using var document = JsonDocument.Parse(data);
        return document.RootElement.TryGetProperty("values", out var values) && values.TryGetProperty(nameof(LoadItem.Seq), out var seq)
            ? seq.GetInt64()
            : -1;
    }

    /// <summary>Fewer methods than this JIT-compiled in a second of steady load: the warm-ups of the load tools have settled.</summary>
    internal const int JitSettledPerSecond = 50;

    /// <summary>
    /// Commits in rounds of one second's worth at the offered rate until the JIT has settled: fewer than 50 methods
    /// compiled in a round, after 2 rounds at least and 30 s at most. Returns what it did, for the table.
    /// </summary>
    internal static async Task<string> WarmUpAsync(LoadHost host, LoadSubscriber subscriber, int rate, long firstSeq)
    {
        var clock = Stopwatch.StartNew();
        var before = subscriber.Received;
        var seq = firstSeq;
        var rounds = 0;
        long compiled;
        do
        {
            var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            var roundStart = clock.Elapsed;
            var commits = Enumerable.Range(0, rate).Select(i => seq + i).ToList();
            seq += rate;
            var queue = Channel.CreateUnbounded<long>();
            var writers = Writers(host, LatencyWriters, queue.Reader, committed: null);
            foreach (var commit in commits)
            {
                queue.Writer.TryWrite(commit);
                if (queue.Reader.Count > LatencyWriters * 4)
                {
                    await Task.Delay(1); // about the offered rate, not a burst
                }
            }

            queue.Writer.Complete();
            await writers;
            var left = TimeSpan.FromSeconds(1) - (clock.Elapsed - roundStart);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left);
            }

            compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore;
            rounds++;
        }
        while ((rounds < 2 || compiled >= JitSettledPerSecond) && clock.Elapsed < TimeSpan.FromSeconds(30));

        var sent = seq - firstSeq;
        await subscriber.WaitForAsync(before + sent, TimeSpan.FromSeconds(10));
        return $"{sent} commits in {clock.Elapsed.TotalSeconds:0.0} s; {compiled} methods JIT-compiled in its last second";
    }

    /// <summary>Writers that commit the sequence numbers they are given, recording when each SaveChanges returned.</summary>
    /// <param name="stop">Ends the writers after their current commit, leaving the rest queued.</param>
    internal static Task Writers(LoadHost host, int count, ChannelReader<long> reader, long[]? committed, CancellationToken stop = default)
        => Task.WhenAll(Enumerable.Range(0, count).Select(_ => Task.Run(async () =>
        {
            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LoadContext>();
            while (!stop.IsCancellationRequested)
            {
                if (!reader.TryRead(out var seq))
                {
                    if (!await WaitToReadAsync(reader, stop))
                    {
                        break;
                    }

                    continue;
                }

                await ModifyAsync(db, seq, 1);
                if (committed is not null)
                {
                    committed[seq] = Stopwatch.GetTimestamp();
                }
            }
        })));

    private static async Task<bool> WaitToReadAsync(ChannelReader<long> reader, CancellationToken stop)
    {
        try
        {
            return await reader.WaitToReadAsync(stop);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<long> CommitForAsync(LoadHost host, SeqSource seqs, int writers, int objectsPerCommit, TimeSpan duration)
    {
        long commits = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LoadContext>();
            while (clock.Elapsed < duration && seqs.TryTake(objectsPerCommit, out var first))
            {
                await ModifyAsync(db, first, objectsPerCommit);
                Interlocked.Increment(ref commits);
            }
        })));
        return commits;
    }

    /// <summary>
    /// One commit: <paramref name="count"/> [Notify] objects modified, one per sequence number from <paramref name="firstSeq"/>
    /// (consecutive numbers are consecutive objects, so they are distinct while count ≤ <see cref="LoadHost.Objects"/>), one
    /// SaveChanges, one outbox row holding that many notifications.
    /// </summary>
    private static async Task ModifyAsync(LoadContext db, long firstSeq, int count)
    {
        for (var seq = firstSeq; seq < firstSeq + count; seq++)
        {
            var item = new LoadItem { Id = (int)(seq % LoadHost.Objects) + 1 };
            db.Attach(item);
            item.Seq = seq;
        }

        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();
    }

    private static long Max(ReadOnlySpan<long> values)
    {
        var max = long.MinValue;
        foreach (var value in values)
        {
            max = Math.Max(max, value);
        }

        return max;
    }

    /// <summary>Hands out runs of consecutive sequence numbers to concurrent writers, below <c>end</c>.</summary>
    private sealed class SeqSource(long first, long end)
    {
        private long _next = first;

        public bool Exhausted { get; private set; }

        /// <summary>The first number not handed out yet (past the end once exhausted).</summary>
        public long Next => Math.Min(Interlocked.Read(ref _next), end);

        public bool TryTake(int count, out long firstOfRun)
        {
            firstOfRun = Interlocked.Add(ref _next, count) - count;
            if (firstOfRun + count <= end)
            {
                return true;
            }

            Exhausted = true;
            return false;
        }
    }
}
