using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using EfNotify.Benchmarks.Load;
using Perfolizer.Horology;

namespace EfNotify.Benchmarks.Overhead;

/// <summary>
/// <c>overhead [--quick] [--n N[,N...]] [--postgres "&lt;connection string&gt;"] [--no-table]</c>: BenchmarkDotNet's table
/// of <see cref="SaveChangesOverheadBenchmarks"/>, then the figures that judge the overhead, from
/// <see cref="InterleavedOverhead"/>: plain and EfNotify saves alternating on two databases prepared side by side. The
/// table runs each case after the other, so a slow minute of the disk lands on one side only; its ratios moved by tens
/// of percent between runs and serve to see the allocations and the shape across N, not to judge a 10 % target.
/// The last line is <c>overhead_ratio_n100=&lt;EfNotify median / plain median, interleaved, SQLite file&gt;</c>.
/// </summary>
internal static class OverheadCommand
{
    private static readonly string ArtifactsPath = Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts");

    private const string Usage = "overhead [--quick] [--n N[,N...]] [--postgres \"<connection string>\"] [--no-table] [--db-rtt-ms R]";

    public static int Run(string[] args)
    {
        if (!TryParse(args, out var settings))
        {
            Console.Error.WriteLine($"usage: {Usage}");
            return 2;
        }

        Args.Print(Measure(settings));
        return 0;
    }

    /// <summary>Runs the table (unless turned off) and the interleaved figures; prints all but the key=value lines, which it returns in order.</summary>
    public static OrderedDictionary<string, string> Measure(OverheadSettings settings)
    {
        if (settings.DbRttMs is { } rtt)
        {
            // Only PostgreSQL has a network to put a delay on: the SQLite storages and the table are left out.
            var rttServer = settings.Postgres ?? throw new InvalidOperationException($"--db-rtt-ms needs a PostgreSQL server: --postgres or {BenchStorage.PostgresVariable}");
            return RttOverhead.Measure(rttServer, rtt, settings.NsGiven ? settings.Ns : [1, 10, 100], settings.Quick);
        }

        if (settings.Postgres is { } server)
        {
            // Through the environment, so that BenchmarkDotNet's benchmark processes (full mode) see it too.
            Environment.SetEnvironmentVariable(BenchStorage.PostgresVariable, server);
        }

        var storages = BenchStorage.Available.ToArray();
        if (settings.Table)
        {
            var summary = BenchmarkRunner.Run<SaveChangesOverheadBenchmarks>(Config(settings));
            var plain = Statistics(summary, nameof(SaveChangesOverheadBenchmarks.Plain), 100, BenchStorage.File);
            var efNotify = Statistics(summary, nameof(SaveChangesOverheadBenchmarks.WithEfNotify), 100, BenchStorage.File);
            if (plain is { Median: > 0 } && efNotify is not null)
            {
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"BenchmarkDotNet, N=100, SQLite file, one case after the other: plain median {plain.Median / 1000:0} us, EfNotify median {efNotify.Median / 1000:0} us, "
                    + $"ratio of medians {efNotify.Median / plain.Median:0.00}, of means {efNotify.Mean / plain.Mean:0.00} (not the headline: see below)"));
            }
        }

        var warmup = TimeSpan.FromSeconds(settings.Quick ? 1 : 3);
        var measured = new List<InterleavedResult>();
        Console.WriteLine();
        foreach (var n in settings.Ns)
        {
            // The file last: it is the headline, measured when the process is as warm as it gets.
            foreach (var storage in storages.OrderBy(s => s == BenchStorage.File))
            {
                var duration = TimeSpan.FromSeconds((settings.Quick ? 10 : 30) / (storage == BenchStorage.Memory ? 2.5 : 1));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"overhead: interleaving plain and EfNotify saves, {BenchStorage.Describe(storage)}, N={n}, for {duration.TotalSeconds:0} s ..."));
                var result = InterleavedOverhead.Run(storage, n, warmup, duration);
                foreach (var line in result.Describe())
                {
                    Console.WriteLine(line);
                }

                Console.WriteLine($"  per-save times: {result.WriteCsv(ArtifactsPath)}");

                measured.Add(result);
            }
        }

        Console.WriteLine();
        var results = new OrderedDictionary<string, string>();
        foreach (var result in measured.OrderBy(r => r.Storage == BenchStorage.File && r.N == 100).ThenBy(r => r.Storage == BenchStorage.File))
        {
            var key = $"overhead_ratio_n{result.N}" + (result.Storage == BenchStorage.File ? "" : "_" + result.Storage);
            var (low, high) = result.BootstrapInterval();
            results[key + "_ci95"] = Args.Format(low) + ".." + Args.Format(high);
            results[key] = Args.Format(result.Ratio);
        }

        return results;
    }

    public static bool TryParse(string[] args, out OverheadSettings settings)
    {
        var quick = false;
        var table = true;
        int[]? ns = null;
        var postgres = BenchStorage.PostgresServer;
        double? dbRttMs = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--no-table":
                    table = false;
                    break;
                case "--postgres" when i + 1 < args.Length && args[i + 1].Length > 0:
                    postgres = args[++i];
                    break;
                case "--db-rtt-ms" when i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var rtt) && rtt >= 0:
                    dbRttMs = rtt;
                    i++;
                    break;
                case "--n" when i + 1 < args.Length && TryParseList(args[i + 1], out var list):
                    ns = list;
                    i++;
                    break;
                default:
                    settings = new OverheadSettings(quick, [], null, table);
                    return false;
            }
        }

        settings = new OverheadSettings(quick, ns ?? (quick ? [100] : [100, 1000]), postgres, table) { DbRttMs = dbRttMs, NsGiven = ns is not null };
        return true;
    }

    private static bool TryParseList(string text, out int[] values)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        values = [.. parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0).Distinct().Order()];
        return values.Length > 0 && values.All(v => v > 0);
    }

    private static IConfig Config(OverheadSettings settings)
    {
        // Quick: in-process (no generated project to build), a fixed short schedule, N=1 and the interleaved N values.
        // Full: BenchmarkDotNet's own process-per-benchmark schedule, every N.
        var job = settings.Quick
            ? Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(15)
                .WithIterationTime(TimeInterval.FromMilliseconds(150))
                .WithEvaluateOverhead(false) // nanoseconds of call overhead beside saves of milliseconds, and its iterations took a third of the time
                .WithId("Quick")
            : Job.Default.WithId("Full");

        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithArtifactsPath(ArtifactsPath);
        if (settings.Quick)
        {
            config = config.AddFilter(new SimpleFilter(b => (int)b.Parameters["N"] is var n && (n == 1 || settings.Ns.Contains(n))));
        }

        return config;
    }

    private static BenchmarkDotNet.Mathematics.Statistics? Statistics(Summary summary, string method, int n, string storage)
        => summary.Reports
            .FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method && (int)r.BenchmarkCase.Parameters["N"] == n
                                 && (string)r.BenchmarkCase.Parameters["Storage"] == storage)
            ?.ResultStatistics;
}

/// <summary>What <c>overhead</c> measures: the quick or full schedule, the N values of the interleaved figures, the PostgreSQL server (if any), and whether BenchmarkDotNet's table runs.</summary>
internal sealed record OverheadSettings(bool Quick, int[] Ns, string? Postgres, bool Table)
{
    /// <summary>With a value: PostgreSQL only, behind a latency proxy adding this round trip (<see cref="RttOverhead"/>).</summary>
    public double? DbRttMs { get; init; }

    /// <summary>Whether <see cref="Ns"/> came from <c>--n</c> rather than the defaults.</summary>
    public bool NsGiven { get; init; }
}
