using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

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
        subscriber.RecordFirstArrivals(received);

        Console.WriteLine($"e2e --instances {instances}: {LoadHost.StorageName}, {rate} commits/s in total for {seconds} s, {rate / (double)instances:0} per instance");
        var children = Enumerable.Range(0, instances)
            .Select(i => new LoadInstance(i, soketi, owner.DatabaseArgument, instances, rate, seconds, failoverFirst)).ToList();
        try
        {
            // Every instance commits at its rate until the JIT of all of them has settled at once (as e2e's warm-up:
            // fewer than 50 methods a second, twice in a row), since the leader meets new paths only once the others
            // write; then all start together a second later (one clock: Stopwatch is monotonic machine-wide). Bounded:
            // after WarmUpSeconds they start all the same, and the table says what the JIT was doing.
            var warming = Stopwatch.StartNew();
            while (!children.All(c => c.Settled) && warming.Elapsed < TimeSpan.FromSeconds(WarmUpSeconds))
            {
                await Task.Delay(200);
            }

            var warm = $"{warming.Elapsed.TotalSeconds:0} s; methods JIT-compiled in the last second: {string.Join(", ", children.Select(c => $"instance {c.Index} {c.LastCompiled}"))}";
            var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
            foreach (var child in children)
            {
                child.Start(start);
            }

            // Bounded: each instance stops offering at its own deadline (MeasuredDeadline) whether or not it kept up.
            await Task.WhenAll(children.Select(c => c.MeasuredAsync(TimeSpan.FromSeconds(1 + MeasuredDeadlineSeconds(seconds) + 30))));
            await subscriber.WaitForAsync(subscriber.Received + 1, TimeSpan.FromSeconds(3));

            // Then every instance idles (no commits) for IdleSeconds and reports its own CPU: a standby's cost (issue 12: ≤ 1 % of a core).
            await Task.WhenAll(children.Select(c => c.IdleAsync(TimeSpan.FromSeconds(IdleSeconds + 30))));
            var standbyIdle = children.Where(c => !c.Leads).Select(c => c.IdleCpuPercent).DefaultIfEmpty(double.NaN).Max();
            var leaderIdle = children.Where(c => c.Leads).Select(c => c.IdleCpuPercent).DefaultIfEmpty(double.NaN).Max();
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
                ("warm-up (not recorded)", warm),
                ("offered", $"{rate} commits/s in total for {seconds} s"),
                ("received", $"{sorted.Length} of {latencies.Count}{(lost > 0 ? $" ({lost} not received)" : "")}"),
                ("commit → receive, every instance", $"p50 {Measure.Percentile(sorted, 50):0.00} ms, p95 {Measure.Percentile(sorted, 95):0.00} ms, p99 {Measure.Percentile(sorted, 99):0.00} ms, max {sorted.LastOrDefault():0.0} ms"),
                ("failover (leader killed → a later commit received)", $"{failover:0} ms"),
                ("offered but not committed by an instance's deadline", $"{children.Sum(c => c.Skipped)}"),
                ("CPU while measured, % of one core; methods JIT-compiled meanwhile", string.Join(", ", children.Select(c => $"instance {c.Index} {c.Measured.CpuPercent:0} % ({c.Measured.Compiled})"))),
                ($"CPU while idle for {IdleSeconds} s (no commits), % of one core", $"standby at most {standbyIdle:0.00} % ({string.Join(", ", children.Select(c => $"instance {c.Index} {c.IdleCpuPercent:0.00} % ({c.IdleCompiled} JIT-compiled)"))}); leader {leaderIdle:0.00} %"),
                ("load average (1, 5, 15 min) at the end", Measure.LoadAverage()),
            };
            Args.PrintTable("e2e --instances", table);
            return new Dictionary<string, string>
            {
                ["instances_p50_ms"] = Args.Format(Measure.Percentile(sorted, 50)),
                ["instances_p99_ms"] = Args.Format(Measure.Percentile(sorted, 99)),
                ["instances_lost"] = lost.ToString(CultureInfo.InvariantCulture),
                ["failover_ms"] = Args.Format(failover, "0"),
                ["standby_idle_cpu_percent"] = Args.Format(standbyIdle),
                ["leader_idle_cpu_percent"] = Args.Format(leaderIdle),
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
        await using var host = await LoadHost.CreateAsync(LoadInstance.ChildPusherOptions());
        await host.StartAsync();
        var output = new object();
        void Print(string line)
        {
            lock (output)
            {
                Console.Out.WriteLine(line);
                Console.Out.Flush();
            }
        }

        // Told by the dispatcher's log, not by polling: a poll would be part of the standby's idle CPU measured below
        // (it polled every 100 ms, about 10 wake-ups a second).
        _ = LeadingLoggerProvider.Leading.Task.ContinueWith(_ => Print("leads"), TaskScheduler.Default);

        var measured = (int)Math.Ceiling(rate * seconds);
        var committed = new long[settings["--failover-first"] + (long)(rate * 200) * n];
        // Warm-up until the parent names the common start, then the measured schedule, then more commits until the
        // parent closes stdin.
        var startLine = Task.Run(() => Console.In.ReadLine());
        var settling = ReportCompiledAsync(Print, startLine);
        await ScheduleAsync(host, rate, k => settings["--failover-first"] + (long)(rate * 110) * n + i0 + n * k, committed, until: long.MaxValue, count: (long)(rate * (WarmUpSeconds + 40)), report: null, startLine);
        await settling;
        if (await startLine is not ['s', 't', 'a', 'r', 't', ' ', .. var at])
        {
            return 0; // the parent went away before the start
        }

        var start = long.Parse(at, CultureInfo.InvariantCulture);
        await Task.Delay(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), start) is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
        var deadline = start + Stopwatch.Frequency * MeasuredDeadlineSeconds(seconds);
        var work = ProcessWork.Start();
        _ = await ScheduleAsync(host, rate, k => 1 + i0 + n * k, committed, until: deadline, count: measured, report: null);
        var (busy, compiled) = work.Stop();
        Print(string.Join('\n', Enumerable.Range(0, measured).Select(k => 1 + i0 + n * k).Where(s => committed[s] != 0).Select(s => $"c {s} {committed[s]}")));
        Print(string.Create(CultureInfo.InvariantCulture, $"measured {measured - Enumerable.Range(0, measured).Count(k => committed[1 + i0 + n * k] != 0)} {busy:0.000} {compiled}"));

        // Idle: no commits here; what this process costs while it only watches (a standby) or only dispatches what is left.
        await Task.Delay(TimeSpan.FromSeconds(1));
        work = ProcessWork.Start();
        await Task.Delay(TimeSpan.FromSeconds(IdleSeconds));
        (busy, compiled) = work.Stop();
        Print(string.Create(CultureInfo.InvariantCulture, $"idle {busy:0.000} {compiled}"));

        var stop = Task.Run(() => Console.In.ReadToEnd());
        await ScheduleAsync(host, rate, k => settings["--failover-first"] + i0 + n * k, committed, until: long.MaxValue, count: (long)(rate * 100), report: (s, at) => Print($"f {s} {at}"), stop);
        return 0;
    }

    /// <summary>Prints, each second until the start, how many methods the JIT compiled in it.</summary>
    private static async Task ReportCompiledAsync(Action<string> print, Task start)
    {
        while (!start.IsCompleted)
        {
            var before = System.Runtime.JitInfo.GetCompiledMethodCount();
            await Task.WhenAny(start, Task.Delay(TimeSpan.FromSeconds(1)));
            print(string.Create(CultureInfo.InvariantCulture, $"jit {System.Runtime.JitInfo.GetCompiledMethodCount() - before}"));
        }
    }

    /// <summary>The longest an instance warms up before the common start.</summary>
    private const int WarmUpSeconds = 30;

    /// <summary>Seconds after the common start when an instance stops offering its measured commits, kept up or not.</summary>
    private static int MeasuredDeadlineSeconds(int seconds) => (2 * seconds) + 10;

    /// <summary>Seconds each instance idles after the measured phase, measuring its own CPU.</summary>
    private const int IdleSeconds = 3;

    /// <summary>
    /// Commits on an open-loop schedule at <paramref name="rate"/> per second (two writers), the k-th with sequence seq(k),
    /// until <paramref name="count"/> are offered, <paramref name="until"/> or <paramref name="stop"/>; at
    /// <paramref name="until"/> or <paramref name="stop"/> the commits still queued are dropped, so a machine that cannot
    /// keep up ends the phase on time. Returns how many were dropped.
    /// </summary>
    private static async Task<long> ScheduleAsync(
        LoadHost host, double rate, Func<long, long> seq, long[] committed, long until, long count, Action<long, long>? report, Task? stop = null)
    {
        var queue = Channel.CreateUnbounded<long>();
        using var late = new CancellationTokenSource();
        var writers = E2eCommand.Writers(host, 2, queue.Reader, committed, late.Token);
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

            // Until the next commit is due (at least the timer's 1 ms): a process of this tool wakes no more often than it commits.
            var next = start + (long)(k * period) - Stopwatch.GetTimestamp();
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(next * 1000.0 / Stopwatch.Frequency, 1, 50)));
        }

        queue.Writer.Complete();
        var dropped = 0L;
        if (stop?.IsCompleted == true)
        {
            // Stopped from outside (the start of the measured phase, or the end): what is still queued is not made.
            await late.CancelAsync();
            while (queue.Reader.TryRead(out _))
            {
                dropped++;
            }
        }
        else if (until != long.MaxValue)
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), until);
            if (await Task.WhenAny(writers, Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero)) != writers)
            {
                await late.CancelAsync();
                while (queue.Reader.TryRead(out _))
                {
                    dropped++;
                }
            }
        }

        await writers;
        return dropped;
    }

    /// <summary>The CPU a process used over a phase, in % of one core, and the methods the JIT compiled meanwhile.</summary>
    private readonly record struct ProcessWork(TimeSpan Cpu, long Compiled, long Started)
    {
        public static ProcessWork Start()
            => new(Process.GetCurrentProcess().TotalProcessorTime, System.Runtime.JitInfo.GetCompiledMethodCount(), Stopwatch.GetTimestamp());

        public (double Percent, long Compiled) Stop()
            => ((Process.GetCurrentProcess().TotalProcessorTime - Cpu) / Stopwatch.GetElapsedTime(Started) * 100,
                System.Runtime.JitInfo.GetCompiledMethodCount() - Compiled);
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
