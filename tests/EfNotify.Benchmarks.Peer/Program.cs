using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace EfNotify.Benchmarks.Peer;

/// <summary>
/// <c>[--quick]</c>: runs <see cref="PeerOutboxBenchmarks"/> and ends with two lines taken from BenchmarkDotNet's
/// summary at N=100: <c>overhead_ratio_n100=&lt;EfNotify mean / Plain mean&gt;</c> and
/// <c>peer_overhead_ratio_n100=&lt;Wolverine mean / Plain mean&gt;</c>.
/// <c>--trace</c> and <c>--latency</c> are diagnostics instead of the benchmark: see <see cref="TraceCommand"/> and
/// <see cref="LatencyCommand"/>.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["--latency"])
        {
            return await LatencyCommand.RunAsync();
        }

        if (args is ["--trace"])
        {
            return await TraceCommand.RunAsync();
        }

        if (args is not ([] or ["--quick"]))
        {
            Console.Error.WriteLine("usage: dotnet run -c Release --project tests/EfNotify.Benchmarks.Peer -- [--quick | --trace | --latency]");
            return 2;
        }

        var summary = BenchmarkRunner.Run<PeerOutboxBenchmarks>(Config(quick: args is ["--quick"]));
        var plain = Mean(summary, nameof(PeerOutboxBenchmarks.Plain), 100);
        var efNotify = Mean(summary, nameof(PeerOutboxBenchmarks.EfNotify), 100);
        var wolverine = Mean(summary, nameof(PeerOutboxBenchmarks.Wolverine), 100);
        if (plain is not > 0 || efNotify is null || wolverine is null)
        {
            Console.Error.WriteLine("peer: a case has no result for N=100; see the BenchmarkDotNet log above.");
            return 1;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"overhead_ratio_n100={efNotify.Value / plain.Value:0.00}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peer_overhead_ratio_n100={wolverine.Value / plain.Value:0.00}"));
        return 0;
    }

    private static IConfig Config(bool quick)
    {
        // Quick: in-process (no generated project to build), a fixed short schedule. Full: BenchmarkDotNet's own
        // process-per-benchmark schedule.
        var job = quick
            ? Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(20)
                .WithIterationTime(TimeInterval.FromMilliseconds(200))
                .WithId("Quick")
            : Job.Default.WithId("Full");

        return ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOrderer(new WolverineLastOrderer())
            .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"));
    }

    private static double? Mean(Summary summary, string method, int n)
        => summary.Reports
            .FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method && (int)r.BenchmarkCase.Parameters["N"] == n)
            ?.ResultStatistics?.Mean;
}
