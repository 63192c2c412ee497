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
/// <c>overhead_ratio_n100=&lt;EfNotify mean / plain mean at N=100&gt;</c>, taken from BenchmarkDotNet's summary.
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
        var plain = Mean(summary, nameof(SaveChangesOverheadBenchmarks.Plain), 100);
        var efNotify = Mean(summary, nameof(SaveChangesOverheadBenchmarks.WithEfNotify), 100);
        if (plain is not > 0 || efNotify is null)
        {
            Console.Error.WriteLine("overhead: no result for N=100; see the BenchmarkDotNet log above.");
            return 1;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"overhead_ratio_n100={efNotify.Value / plain.Value:0.00}"));
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
                .WithIterationCount(20)
                .WithIterationTime(TimeInterval.FromMilliseconds(200))
                .WithId("Quick")
            : Job.Default.WithId("Full");

        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"));
        if (quick)
        {
            config = config.AddFilter(new SimpleFilter(b => (int)b.Parameters["N"] <= 100));
        }

        return config;
    }

    private static double? Mean(Summary summary, string method, int n)
        => summary.Reports
            .FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method && (int)r.BenchmarkCase.Parameters["N"] == n)
            ?.ResultStatistics?.Mean;
}
