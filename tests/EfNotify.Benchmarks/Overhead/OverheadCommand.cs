using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace EfNotify.Benchmarks.Overhead;

/// <summary>
/// <c>overhead [--quick]</c>: runs <see cref="SaveChangesOverheadBenchmarks"/> and ends with
/// <c>overhead_ratio_n100=&lt;EfNotify median / plain median at N=100&gt;</c>, taken from BenchmarkDotNet's summary.
/// The median, because a save on a synced SQLite file now and then waits for a WAL checkpoint or a slow fsync: those
/// outliers are disk weather, and the mean of 40 iterations moves with them by ±15 % from run to run.
/// </summary>
internal static class OverheadCommand
{
    public static int Run(string[] args)
    {
        var quick = args.Contains("--quick");
        if (args.Any(a => a != "--quick"))
        {
            Console.Error.WriteLine("usage: overhead [--quick]");
            return 2;
        }

        var summary = BenchmarkRunner.Run<SaveChangesOverheadBenchmarks>(Config(quick));
        var plain = Statistics(summary, nameof(SaveChangesOverheadBenchmarks.Plain), 100, "file");
        var efNotify = Statistics(summary, nameof(SaveChangesOverheadBenchmarks.WithEfNotify), 100, "file");
        var plainMemory = Statistics(summary, nameof(SaveChangesOverheadBenchmarks.Plain), 100, "memory");
        var efNotifyMemory = Statistics(summary, nameof(SaveChangesOverheadBenchmarks.WithEfNotify), 100, "memory");
        if (plain is not { Median: > 0 } || efNotify is null)
        {
            Console.Error.WriteLine("overhead: no result for N=100; see the BenchmarkDotNet log above.");
            return 1;
        }

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"N=100: plain median {plain.Median / 1000:0} us, EfNotify median {efNotify.Median / 1000:0} us; ratio of means {efNotify.Mean / plain.Mean:0.00}"));
        if (plainMemory is { Median: > 0 } && efNotifyMemory is not null)
        {
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"overhead_ratio_n100_memory={efNotifyMemory.Median / plainMemory.Median:0.00} (in-memory SQLite: EfNotify's CPU cost without the disk)"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"overhead_ratio_n100={efNotify.Median / plain.Median:0.00}"));
        return 0;
    }

    private static IConfig Config(bool quick)
    {
        // Quick: in-process (no generated project to build), a fixed short schedule, N up to 100; about a minute on
        // two cores. Full: BenchmarkDotNet's own process-per-benchmark schedule, N=1000 included.
        var job = quick
            ? Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(40)
                .WithIterationTime(TimeInterval.FromMilliseconds(150))
                .WithId("Quick")
            : Job.Default.WithId("Full");

        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"));
        if (quick)
        {
            config = config.AddFilter(new SimpleFilter(b => (int)b.Parameters["N"] is 1 or 100));
        }

        return config;
    }

    private static BenchmarkDotNet.Mathematics.Statistics? Statistics(Summary summary, string method, int n, string storage)
        => summary.Reports
            .FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method && (int)r.BenchmarkCase.Parameters["N"] == n
                                 && (string)r.BenchmarkCase.Parameters["Storage"] == storage)
            ?.ResultStatistics;
}
