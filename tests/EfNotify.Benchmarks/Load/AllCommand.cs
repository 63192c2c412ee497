using System.Diagnostics;
using EfNotify.Benchmarks.Overhead;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// <c>all [--quick] [--postgres "&lt;connection string&gt;"]</c>: overhead, the peer comparison, e2e, backlog, auth,
/// e2e --instances 3, the overhead behind 0.5 ms to PostgreSQL and e2e behind 25 and 100 ms to soketi one after the
/// other, then the headline figures together. The overhead on PostgreSQL is included when a server is given
/// (the option or EFNOTIFY_TEST_POSTGRES). The peer comparison is a project of its own (its Wolverine packages stay out of
/// this one), run as a child process.
/// </summary>
internal static class AllCommand
{
    private const string Usage = "all [--quick] [--postgres \"<connection string>\"]";

    public static int Run(string[] args)
    {
        var postgres = BenchStorage.PostgresServer;
        var index = Array.IndexOf(args, "--postgres");
        if (index >= 0 && index + 1 < args.Length)
        {
            postgres = args[index + 1];
            args = [.. args[..index], .. args[(index + 2)..]];
        }

        if (!Args.TryParse(args, Usage, out var quick, out _))
        {
            return 2;
        }

        var clock = Stopwatch.StartNew();
        OverheadCommand.TryParse(quick ? ["--quick"] : [], out var overheadSettings);
        var overhead = OverheadCommand.Measure(overheadSettings with { Postgres = postgres });
        var peer = RunPeer(quick);
        var e2e = E2eCommand.RunAsync(quick, rate: 1000, seconds: quick ? 10 : 30).GetAwaiter().GetResult();
        var backlog = BacklogCommand.RunAsync(quick ? 100_000 : 1_000_000).GetAwaiter().GetResult();
        var auth = AuthCommand.RunAsync(quick).GetAwaiter().GetResult();
        var instances = InstancesCommand.RunAsync(3, rate: 1000, seconds: quick ? 10 : 30).GetAwaiter().GetResult();
        Dictionary<string, string>? instancesOnPostgres = null;
        OrderedDictionary<string, string>? rttOverhead = null;
        if (postgres is not null)
        {
            LoadHost.UsePostgres = true;
            instancesOnPostgres = InstancesCommand.RunAsync(3, rate: 1000, seconds: quick ? 10 : 30).GetAwaiter().GetResult();
            LoadHost.UsePostgres = false;
            rttOverhead = OverheadCommand.Measure(overheadSettings with { Postgres = postgres, DbRttMs = 0.5, Ns = [1, 10, 100], NsGiven = true });
            Args.Print(rttOverhead);
        }

        var rtt = RttThroughput.RunAsync([25, 100], quick, rate: 1000, seconds: quick ? 5 : 15).GetAwaiter().GetResult();
        Args.Print(rtt);
        var wake = new Dictionary<string, string>();
        WakeCommand.SqliteAsync(wake).GetAwaiter().GetResult(); // the wake file watcher alone, beside a standby's whole process
        Args.Print(wake);

        Console.WriteLine($"all: {clock.Elapsed.TotalMinutes:0.0} minutes");
        var headline = new OrderedDictionary<string, string>
        {
            ["overhead_ratio_n100"] = overhead.GetValueOrDefault("overhead_ratio_n100", "not-measured"),
            ["peer_overhead_ratio_n100"] = peer,
            ["e2e_p50_ms"] = e2e["e2e_p50_ms"],
            ["e2e_p99_ms"] = e2e["e2e_p99_ms"],
            ["throughput_ratio"] = e2e["throughput_ratio"],
            ["backlog_peak_rss_mb"] = backlog["backlog_peak_rss_mb"],
            ["auth_requests_per_s"] = auth["auth_requests_per_s"],
            ["auth_p99_ms"] = auth["auth_p99_ms"],
            ["instances_p50_ms"] = instances["instances_p50_ms"],
            ["instances_p99_ms"] = instances["instances_p99_ms"],
            ["failover_ms"] = instances["failover_ms"],
            ["standby_idle_cpu_percent"] = instances["standby_idle_cpu_percent"],
            ["wake_sqlite_wake_file_idle_cpu_percent"] = wake["wake_sqlite_wake_file_idle_cpu_percent"],
            ["naive_throughput_ratio"] = e2e["naive_throughput_ratio"],
            ["drain_ratio_best"] = backlog["drain_ratio_best"],
            ["rtt25_throughput_ratio"] = rtt["rtt25_throughput_ratio"],
            ["rtt25_p99_ms"] = rtt["rtt25_p99_ms"],
            ["rtt100_throughput_ratio"] = rtt["rtt100_throughput_ratio"],
        };
        foreach (var key in (string[])["overhead_pg_rtt05_n1", "overhead_pg_rtt05_n100", "roundtrips_plain_n100", "roundtrips_efnotify_n100"])
        {
            headline[key] = rttOverhead?.GetValueOrDefault(key, "not-measured") ?? "not-measured";
        }

        foreach (var (name, value) in instancesOnPostgres ?? [])
        {
            if (name != "instances_lost")
            {
                headline[name + "_postgres"] = value;
            }
        }
        if (overhead.TryGetValue("overhead_ratio_n100_postgres", out var onPostgres))
        {
            headline.Insert(1, "overhead_ratio_n100_postgres", onPostgres);
        }

        Args.Print(headline);
        return 0;
    }

    /// <summary>Runs tests/EfNotify.Benchmarks.Peer, echoing its output, and returns its <c>peer_overhead_ratio_n100</c>.</summary>
    private static string RunPeer(bool quick)
    {
        const string key = "peer_overhead_ratio_n100=";
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repository.Root(),
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["run", "-c", "Release", "--project", "tests/EfNotify.Benchmarks.Peer", "--", .. quick ? ["--quick"] : Array.Empty<string>()])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started");
        string? ratio = null;
        while (process.StandardOutput.ReadLine() is { } line)
        {
            Console.WriteLine(line);
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                ratio = line[key.Length..];
            }
        }

        process.WaitForExit();
        if (process.ExitCode != 0 || ratio is null)
        {
            Console.Error.WriteLine($"all: the peer benchmark exited with {process.ExitCode} and no {key} line");
            return "not-measured";
        }

        return ratio;
    }
}
