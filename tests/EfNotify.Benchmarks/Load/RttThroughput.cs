using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using EfNotify.Benchmarks.Network;
using EfNotify.Pusher;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// <c>e2e --pusher-rtt-ms R[,R...] [--quick] [--rate N] [--seconds N]</c>: EfNotify and the raw client behind a
/// <see cref="LatencyProxy"/> adding R ms per round trip between this machine's apps and soketi (the dispatcher's HTTP
/// requests and the subscriber's WebSocket each through a proxy of their own). At each R: writers commit at the
/// offered rate (open loop, one object per commit) for the phase, then the raw client sends batches of 10 as fast as it
/// can at 1, 4, 8 and 16 requests in flight. Prints <c>rtt{R}_throughput_ratio=</c> (EfNotify's sustained events/s
/// ÷ raw at EfNotify's requests in flight), <c>rtt{R}_p99_ms=</c> and the raw figures beside them. See README.md.
/// </summary>
internal static class RttThroughput
{
    /// <summary>Publish requests the dispatcher has in flight: its default (<see cref="EfNotifyOptions.MaxRequestsInFlight"/>).</summary>
    public static readonly int DispatcherRequestsInFlight = new EfNotifyOptions().MaxRequestsInFlight;

    /// <summary>The raw client's requests in flight, the dispatcher's among them.</summary>
    private static readonly int[] RawInFlight = [.. new[] { 1, 4, 8, 16, DispatcherRequestsInFlight }.Distinct().Order()];

    public static async Task<Dictionary<string, string>> RunAsync(double[] rtts, bool quick, int rate, int seconds)
    {
        var results = new Dictionary<string, string>();
        var points = new List<RttChart.Point>();
        await using var soketi = await SoketiProcess.StartAsync();
        foreach (var rtt in rtts)
        {
            var tag = "rtt" + rtt.ToString("0.###", CultureInfo.InvariantCulture).Replace(".", "", StringComparison.Ordinal);
            var (figures, point) = await AtRoundTripAsync(soketi, rtt, quick, rate, seconds);
            points.Add(point);
            foreach (var (key, value) in figures)
            {
                results[$"{tag}_{key}"] = value;
            }
        }

        Console.WriteLine($"e2e: wrote {RttChart.Write(points, rate)}");
        return results;
    }

    private static async Task<(Dictionary<string, string> Figures, RttChart.Point Point)> AtRoundTripAsync(SoketiProcess soketi, double rtt, bool quick, int rate, int seconds)
    {
        var lifetime = TimeSpan.FromSeconds(seconds + 120);
        await using var http = LatencyProxy.Start(soketi.Options.Port!.Value, LatencyProxyOptions.ForRoundTrip(rtt) with { Lifetime = lifetime, MaxConnections = 128 });
        await using var socket = LatencyProxy.Start(soketi.Options.Port!.Value, LatencyProxyOptions.ForRoundTrip(rtt) with { Lifetime = lifetime, MaxConnections = 4 });
        await using var host = await LoadHost.CreateAsync(Through(soketi.Options, http.Port), _ => { });
        await using var subscriber = await LoadSubscriber.ConnectAsync(Through(soketi.Options, socket.Port), LoadHost.Channels);
        var total = rate * seconds;
        var received = new long[total + 1 + rate * 5];
        subscriber.RecordFirstArrivals(received);
        await host.StartAsync();

        // Warm-up, not recorded (sequence numbers past `received`): until the JIT has settled, as e2e's, at a tenth of the
        // rate, which the dispatcher keeps up with at any R (a backlog would spill into the phase). After one second of it
        // the phase ran on code still being compiled, on the same two cores as the writers (see README.md).
        var warmup = await E2eCommand.WarmUpAsync(host, subscriber, Math.Max(1, rate / 10), firstSeq: received.Length);
        Console.WriteLine(F($"e2e behind {rtt} ms: warm-up {warmup}; offering {rate} commits/s for {seconds} s"));

        // The phase: open loop at the offered rate; what arrives within a bounded grace after it counts.
        var committed = new long[received.Length];
        var start = Stopwatch.GetTimestamp();
        await OfferAsync(host, rate, 1, total, committed);
        var windowEnd = Stopwatch.GetTimestamp();
        var grace = TimeSpan.FromMilliseconds(2000 + 4 * rtt);
        var graceClock = Stopwatch.StartNew();
        while (graceClock.Elapsed < grace && received.AsSpan(1, total).Contains(0L))
        {
            await Task.Delay(20);
        }

        var end = Stopwatch.GetTimestamp();
        var arrived = received.AsSpan(1, total).ToArray().Where(r => r != 0).ToArray();
        var lastArrival = arrived.Length == 0 ? end : arrived.Max();
        var sustained = arrived.Length / Measure.Milliseconds(start, lastArrival) * 1000;

        // Commit → receive over every commit of the phase; one not received counts as received at the end: a lower bound.
        var latencies = Enumerable.Range(1, total).Where(s => committed[s] != 0)
            .Select(s => Measure.Milliseconds(committed[s], received[s] != 0 ? received[s] : end)).Order().ToArray();
        var p50 = Measure.Percentile(latencies, 50);
        var p99 = Measure.Percentile(latencies, 99);
        var dispatcherTurns = http.Turns;

        // The dispatcher stops first: what it still had to deliver would otherwise arrive during the raw phases and count there.
        await host.StopAsync();
        await subscriber.WaitForAsync(long.MaxValue, TimeSpan.FromMilliseconds(500 + 2 * rtt));
        subscriber.OnEvent = null;
        var raw = new List<(int Requests, double EventsPerSecond)>();
        foreach (var inFlight in RawInFlight)
        {
            raw.Add((inFlight, (await RawCeiling.MeasureAsync(host.CreatePusherClient(), subscriber, inFlight, TimeSpan.FromSeconds(quick ? 3 : 8), soketi.ProcessId)).EventsPerSecond));
        }

        var rawLatency = await RawLatencyAsync(host.CreatePusherClient(), subscriber, received, firstSeq: total + rate + 1, count: 20);
        var rawSame = raw.First(r => r.Requests == DispatcherRequestsInFlight).EventsPerSecond;
        var rawBest = raw.Max(r => r.EventsPerSecond);
        var offered = total / Measure.Milliseconds(start, windowEnd) * 1000;
        Args.PrintTable(F($"e2e behind {rtt} ms round trips to soketi"), new List<(string, string)>
        {
            ("database", LoadHost.StorageName),
            ("proxy, dispatcher and raw client → soketi", http.Describe()),
            ("proxy, soketi → subscriber", socket.Describe()),
            ("offered", F($"{rate} commits/s (one object each) for {seconds} s; achieved {offered:0} commits/s")),
            ("writers", offered < 0.95 * rate
                ? F($"FELL BEHIND: {offered / rate:P0} of the offered rate; EfNotify can only send what was committed, so the ratios below measure the writers unless received < committed")
                : "kept the offered rate"),
            ("received within the phase and a grace of " + F($"{grace.TotalSeconds:0.0} s"), F($"{arrived.Length} of {total}")),
            ("EfNotify sustained events/s (first commit → last event)", F($"{sustained:0} ({DispatcherRequestsInFlight} requests in flight; {dispatcherTurns} requests during the phase and warm-up)")),
            ("commit → receive (not received: counted at the end, a lower bound)", F($"p50 {p50:0.0} ms, p99 {p99:0.0} ms")),
            ("raw client, batches of 10", string.Join(", ", raw.Select(r => F($"{r.Requests} in flight {r.EventsPerSecond:0} events/s")))),
            ("raw client, one event at a time: trigger → receive", F($"p50 {rawLatency.P50:0.0} ms, p99 {rawLatency.P99:0.0} ms (20 events)")),
            ("EfNotify ÷ raw at the same requests in flight", F($"{sustained / rawSame:0.00}")),
            ("EfNotify ÷ min(offered, best raw)", F($"{sustained / Math.Min(offered, rawBest):0.00}")),
            ("load average (1, 5, 15 min) at the end", Measure.LoadAverage()),
        });

        return (new Dictionary<string, string>
        {
            ["throughput_ratio"] = Args.Format(sustained / rawSame),
            ["achieved_commits_per_s"] = Args.Format(offered, "0"),
            ["sustained_events_per_s"] = Args.Format(sustained, "0"),
            ["achieved_commits_per_s"] = Args.Format(offered, "0"),
            ["p50_ms"] = Args.Format(p50),
            ["p99_ms"] = Args.Format(p99),
            ["received"] = F($"{arrived.Length}/{total}"),
            ["raw_events_per_s"] = Args.Format(rawSame, "0"),
            ["raw_best_events_per_s"] = Args.Format(rawBest, "0"),
            ["throughput_ratio_best"] = Args.Format(sustained / Math.Min(offered, rawBest)),
            ["raw_p50_ms"] = Args.Format(rawLatency.P50),
            ["raw_p99_ms"] = Args.Format(rawLatency.P99),
        }, new RttChart.Point(rtt, p50, p99, rawLatency.P50, rawLatency.P99));
    }

    /// <summary>One event at a time through the raw client: trigger sent → received at the subscriber.</summary>
    private static async Task<(double P50, double P99)> RawLatencyAsync(PusherClient client, LoadSubscriber subscriber, long[] received, long firstSeq, int count)
    {
        var sent = new long[count];
        subscriber.RecordFirstArrivals(received);
        var before = subscriber.Received;
        for (var i = 0; i < count; i++)
        {
            var seq = firstSeq + i;
            sent[i] = Stopwatch.GetTimestamp();
            await client.TriggerAsync([LoadHost.Channel((int)(seq % LoadHost.Objects) + 1)], "changed", F($"{{\"values\":{{\"Seq\":{seq}}}}}"));
        }

        await subscriber.WaitForAsync(before + count, TimeSpan.FromSeconds(5));
        subscriber.OnEvent = null;
        var latencies = Enumerable.Range(0, count).Where(i => received[firstSeq + i] != 0)
            .Select(i => Measure.Milliseconds(sent[i], received[firstSeq + i])).Order().ToArray();
        return (Measure.Percentile(latencies, 50), Measure.Percentile(latencies, 99));
    }

    /// <summary>The same app and key, reached through a proxy's port.</summary>
    private static PusherOptions Through(PusherOptions options, int port) => new()
    {
        AppId = options.AppId,
        Key = options.Key,
        Secret = options.Secret,
        Host = options.Host,
        Port = port,
        UseTls = options.UseTls,
        MaxEventDataBytes = options.MaxEventDataBytes,
    };

    /// <summary>Commits seq first..last on an open-loop schedule at <paramref name="rate"/> per second (two writers); returns how many.</summary>
    private static async Task<long> OfferAsync(LoadHost host, int rate, long first, long last, long[] committed)
    {
        var queue = Channel.CreateUnbounded<long>();
        var writers = E2eCommand.Writers(host, 2, queue.Reader, committed);
        var start = Stopwatch.GetTimestamp();
        var period = Stopwatch.Frequency / (double)rate;
        for (var next = first; next <= last;)
        {
            var due = Math.Min(last, first + (long)((Stopwatch.GetTimestamp() - start) / period));
            for (; next <= due; next++)
            {
                queue.Writer.TryWrite(next);
            }

            await Task.Delay(1);
        }

        queue.Writer.Complete();
        await writers;
        return last - first + 1;
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
