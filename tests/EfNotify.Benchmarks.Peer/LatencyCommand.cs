using System.Diagnostics;
using System.Globalization;

namespace EfNotify.Benchmarks.Peer;

/// <summary>
/// <c>--latency</c>: 150 timed saves of 100 rows per case after 20 unmeasured ones, printed as percentiles, with the
/// number of <c>BEGIN</c> statements SQLite saw on the context's connection. One save issues one <c>BEGIN</c>; every
/// extra one is a retry after the write lock was busy, which Microsoft.Data.Sqlite answers by waiting and trying
/// again. Shows what BenchmarkDotNet's mean hides: whether a case is slow on every save or only on some.
/// </summary>
public static class LatencyCommand
{
    private const int Rows = 100;
    private const int Saves = 150;

    public static async Task<int> RunAsync()
    {
        foreach (var kind in Enum.GetValues<OutboxKind>())
        {
            var trace = new SqlTrace();
            await using var database = await PeerDatabase.CreateAsync(kind, Rows, o => o.AddInterceptors(trace));
            var version = 0;
            for (var i = 0; i < 20; i++)
            {
                await database.ModifyAndSaveAsync(++version);
            }

            trace.Drain();
            trace.Recording = true;
            var times = new List<double>(Saves);
            for (var i = 0; i < Saves; i++)
            {
                var stopwatch = Stopwatch.StartNew();
                await database.ModifyAndSaveAsync(++version);
                times.Add(stopwatch.Elapsed.TotalMilliseconds);
            }

            trace.Recording = false;
            var begins = trace.Drain().Count(s => s.StartsWith("BEGIN", StringComparison.Ordinal));
            times.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{kind,-9} N={Rows}: p10={P(times, 10):0.0} ms p50={P(times, 50):0.0} ms p90={P(times, 90):0.0} ms max={times[^1]:0.0} ms mean={times.Average():0.0} ms busy_retries={begins - Saves}"));
        }

        return 0;
    }

    private static double P(List<double> sorted, int percent) => sorted[Math.Min(sorted.Count - 1, sorted.Count * percent / 100)];
}
