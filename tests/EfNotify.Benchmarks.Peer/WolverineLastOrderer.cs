using System.Collections.Immutable;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace EfNotify.Benchmarks.Peer;

/// <summary>
/// Runs every Plain and EfNotify case before the first Wolverine case. In-process, a stopped Wolverine host can
/// leave work behind (its handler catching up, garbage from its run); with the default order the next N's Plain
/// baseline would run right after it. Only the execution order changes; the summary is ordered as usual.
/// </summary>
public sealed class WolverineLastOrderer : IOrderer
{
    private static readonly IOrderer s_default = DefaultOrderer.Instance;

    public bool SeparateLogicalGroups => s_default.SeparateLogicalGroups;

    public IEnumerable<BenchmarkCase> GetExecutionOrder(ImmutableArray<BenchmarkCase> benchmarksCase, IEnumerable<BenchmarkLogicalGroupRule>? order = null)
        => s_default.GetExecutionOrder(benchmarksCase, order)
            .OrderBy(b => b.Descriptor.WorkloadMethod.Name == nameof(PeerOutboxBenchmarks.Wolverine) ? 1 : 0);

    public IEnumerable<BenchmarkCase> GetSummaryOrder(ImmutableArray<BenchmarkCase> benchmarksCases, Summary summary)
        => s_default.GetSummaryOrder(benchmarksCases, summary);

    public string? GetHighlightGroupKey(BenchmarkCase benchmarkCase) => s_default.GetHighlightGroupKey(benchmarkCase);

    public string? GetLogicalGroupKey(ImmutableArray<BenchmarkCase> allBenchmarksCases, BenchmarkCase benchmarkCase)
        => s_default.GetLogicalGroupKey(allBenchmarksCases, benchmarkCase);

    public IEnumerable<IGrouping<string, BenchmarkCase>> GetLogicalGroupOrder(IEnumerable<IGrouping<string, BenchmarkCase>> logicalGroups, IEnumerable<BenchmarkLogicalGroupRule>? order = null)
        => s_default.GetLogicalGroupOrder(logicalGroups, order);
}
