using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using EfNotify.Dispatch;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// <c>e2e --instances N [--quick] [--rate R] [--seconds S] [--postgres CONN]</c>: N application processes on one
/// database, each writing R/N commits/s on an open-loop schedule and each running the dispatcher (one leads), against
/// one soketi and one subscriber here. Prints commit → receive percentiles over every commit of every instance (one
/// monotonic clock on one machine), then kills the leader (SIGKILL) and prints how long until a commit made after the
/// kill is received (the failover). See README.md.
/// </summary>
internal static class InstancesCommand
{
    private const string Usage = "e2e --instances N [--quick] [--rate N] [--seconds N] [--postgres CONN]";

    public static int Run(string[] args)
    {
        if (!Args.TakePostgres(ref args, Usage))
        {
            return 2;
        }

        var child = Take(ref args, "--child");
        if (child is not null)
        {
            return RunChildAsync(args, child).GetAwaiter().GetResult();
        }

        if (!int.TryParse(Take(ref args, "--instances"), CultureInfo.InvariantCulture, out var instances) || instances < 1
            || !Args.TryParse(args, Usage, out var quick, out var options, "--rate", "--seconds"))
        {
            Console.Error.WriteLine($"usage: {Usage}");
            return 2;
        }

        var results = RunAsync(instances, options.GetValueOrDefault("--rate", 1000), options.GetValueOrDefault("--seconds", quick ? 10 : 30)).GetAwaiter().GetResult();
        Args.Print(results);
        return 0;
    }

    public static async Task<Dictionary<string, string>> RunAsync(int instances, int rate, int seconds)
    {
        await using var soketi = await SoketiProcess.StartAsync();
        await using var owner = await LoadHost.CreateAsync(soketi.Options, o => o.DispatcherEnabled = false);
        await using var subscriber = await LoadSubscriber.ConnectAsync(soketi.Options, LoadHost.Channels);
        var total = rate * seconds;
        var failoverFirst = total + instances + 1;
        var received = new long[failoverFirst + rate * 120];
        subscriber.OnEvent = (data, at) =>
        {
            var seq = E2eCommand.SeqOf(data);
            if (seq > 0 && seq < received.Length && received[seq] == 0)
            {
                received[seq] = at;
            }
        };

        // Each instance warms up until a common start, a few seconds ahead (one clock: Stopwatch is monotonic machine-wide).
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency * (10 + 2 * instances);
        Console.WriteLine($"e2e --instances {instances}: {LoadHost.StorageName}, {rate} commits/s in total for {seconds} s, {rate / (double)instances:0} per instance");
        var children = Enumerable.Range(0, instances)
            .Select(i => new LoadInstance(i, soketi, owner.DatabaseArgument, instances, rate, seconds, start, failoverFirst)).ToList();
        try
        {
            await Task.WhenAll(children.Select(c => c.MeasuredAsync(TimeSpan.FromSeconds(240 + seconds + 2 * instances))));
            await subscriber.WaitForAsync(subscriber.Received + 1, TimeSpan.FromSeconds(3));
            var latencies = children.SelectMany(c => c.Commits)
                .Select(c => received[c.Seq] == 0 ? double.NaN : Measure.Milliseconds(c.At, received[c.Seq])).ToList();
            var lost = latencies.Count(double.IsNaN);
            var sorted = latencies.Where(l => !double.IsNaN(l)).Order().ToArray();

            // Failover: kill the leader while the others go on committing; publishing is back when a commit made after the kill arrives.
            var leader = children.First(c => c.Leads);
            var killedAt = Stopwatch.GetTimestamp();
            leader.Kill();
            var deadline = Stopwatch.StartNew();
            double failover = double.NaN;
            while (deadline.Elapsed < TimeSpan.FromSeconds(30) && double.IsNaN(failover))
            {
                var after = children.Where(c => c != leader).SelectMany(c => c.FailoverCommits).Where(c => c.At > killedAt && received[c.Seq] != 0).ToList();
                if (after.Count > 0)
                {
                    failover = Measure.Milliseconds(killedAt, after.Min(c => received[c.Seq]));
                }

                await Task.Delay(5);
            }

            var table = new List<(string, string)>
            {
                ("database", LoadHost.StorageName),
                ("instances", $"{instances} processes, each writing and running the dispatcher; instance {leader.Index} led"),
                ("offered", $"{rate} commits/s in total for {seconds} s"),
                ("received", $"{sorted.Length} of {latencies.Count}{(lost > 0 ? $" ({lost} not received)" : "")}"),
                ("commit → receive, every instance", $"p50 {Measure.Percentile(sorted, 50):0.00} ms, p95 {Measure.Percentile(sorted, 95):0.00} ms, p99 {Measure.Percentile(sorted, 99):0.00} ms, max {sorted.LastOrDefault():0.0} ms"),
                ("failover (leader killed → a later commit received)", $"{failover:0} ms"),
                ("load average (1, 5, 15 min) at the end", Measure.LoadAverage()),
            };
            Args.PrintTable("e2e --instances", table);
            return new Dictionary<string, string>
            {
                ["instances_p50_ms"] = Args.Format(Measure.Percentile(sorted, 50)),
                ["instances_p99_ms"] = Args.Format(Measure.Percentile(sorted, 99)),
                ["instances_lost"] = lost.ToString(CultureInfo.InvariantCulture),
                ["failover_ms"] = Args.Format(failover, "0"),
            };
        }
        finally
        {
            foreach (var child in children)
            {
                await child.DisposeAsync();
            }
        }
    }

    /// <summary>One instance: this program again, with <c>--child</c>; it reports when it leads and what it committed when.</summary>
    private static async Task<int> RunChildAsync(string[] args, string index)
    {
        var settings = new Dictionary<string, long>();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            settings[args[i]] = long.Parse(args[i + 1], CultureInfo.InvariantCulture);
        }

        int n = (int)settings["--instances"], i0 = int.Parse(index, CultureInfo.InvariantCulture), seconds = (int)settings["--seconds"];
        var rate = settings["--rate"] / (double)n;
        LoadHost.SharedDatabase = Environment.GetEnvironmentVariable("EFNOTIFY_LOAD_DATABASE");
        var pusher = new Pusher.PusherOptions
        {
            AppId = Environment.GetEnvironmentVariable("EFNOTIFY_LOAD_APP")!, Key = Environment.GetEnvironmentVariable("EFNOTIFY_LOAD_KEY")!,
            Secret = Environment.GetEnvironmentVariable("EFNOTIFY_LOAD_SECRET")!, Host = "127.0.0.1",
            Port = int.Parse(Environment.GetEnvironmentVariable("EFNOTIFY_LOAD_PORT")!, CultureInfo.InvariantCulture), UseTls = false,
        };
        await using var host = await LoadHost.CreateAsync(pusher);
        await host.StartAsync();
        var signal = host.Services.GetRequiredService<OutboxSignal>();
        var output = new object();
        void Print(string line)
        {
            lock (output)
            {
                Console.Out.WriteLine(line);
                Console.Out.Flush();
            }
        }

        _ = Task.Run(async () =>
        {
            while (!signal.Leads)
            {
                await Task.Delay(5);
            }

            Print("leads");
        });

        var measured = (int)Math.Ceiling(rate * seconds);
        var committed = new long[settings["--failover-first"] + (long)(rate * 200) * n];
        // Warm-up to the common start, then the measured schedule, then more commits until the parent closes stdin.
        await ScheduleAsync(host, rate, k => settings["--failover-first"] + (long)(rate * 110) * n + i0 + n * k, committed, until: settings["--start"], count: long.MaxValue, report: null);
        await ScheduleAsync(host, rate, k => 1 + i0 + n * k, committed, until: long.MaxValue, count: measured, report: null);
        Print(string.Join('\n', Enumerable.Range(0, measured).Select(k => 1 + i0 + n * k).Where(s => committed[s] != 0).Select(s => $"c {s} {committed[s]}")));
        Print("measured");
        var stop = Task.Run(() => Console.In.ReadToEnd());
        await ScheduleAsync(host, rate, k => settings["--failover-first"] + i0 + n * k, committed, until: long.MaxValue, count: (long)(rate * 100), report: (s, at) => Print($"f {s} {at}"), stop);
        return 0;
    }

    /// <summary>Commits on an open-loop schedule at <paramref name="rate"/> per second (two writers), the k-th with sequence seq(k).</summary>
    private static async Task ScheduleAsync(
        LoadHost host, double rate, Func<long, long> seq, long[] committed, long until, long count, Action<long, long>? report, Task? stop = null)
    {
        var queue = Channel.CreateUnbounded<long>();
        var writers = E2eCommand.Writers(host, 2, queue.Reader, committed);
        var start = Stopwatch.GetTimestamp();
        var period = Stopwatch.Frequency / rate;
        var reported = 0L;
        for (long k = 0; k < count && Stopwatch.GetTimestamp() < until && stop?.IsCompleted != true;)
        {
            var due = Math.Min(count, (long)((Stopwatch.GetTimestamp() - start) / period) + 1);
            for (; k < due; k++)
            {
                queue.Writer.TryWrite(seq(k));
            }

            for (; report is not null && reported < k && committed[seq(reported)] != 0; reported++)
            {
                report(seq(reported), committed[seq(reported)]);
            }

            await Task.Delay(1);
        }

        queue.Writer.Complete();
        await writers;
    }

    private static string? Take(ref string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        if (index < 0 || index + 1 >= args.Length)
        {
            return null;
        }

        var value = args[index + 1];
        args = [.. args[..index], .. args[(index + 2)..]];
        return value;
    }
}
