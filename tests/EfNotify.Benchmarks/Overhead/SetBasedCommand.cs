using System.Globalization;
using EfNotify.Benchmarks.Load;

namespace EfNotify.Benchmarks.Overhead;

/// <summary>
/// <c>setbased [--quick] [--n N[,N...]] [--postgres "&lt;connection string&gt;"]</c>: the cost EfNotify adds to one
/// <c>ExecuteUpdate</c> of N rows of a [Notify] entity (the statement runs with RETURNING of the keys, and the outbox row
/// is written in the same transaction), measured as <see cref="InterleavedOverhead"/> measures SaveChanges: plain and
/// EfNotify statements alternating on two databases prepared side by side. The last lines are
/// <c>setbased_ratio_n{N}[_{storage}]=&lt;EfNotify median / plain median&gt;</c>.
/// </summary>
internal static class SetBasedCommand
{
    public static int Run(string[] args)
    {
        if (!OverheadCommand.TryParse([.. args, "--no-table"], out var settings) || settings.Ns.Any(n => n > 1000))
        {
            Console.Error.WriteLine("usage: setbased [--quick] [--n N[,N...] (at most 1000, the default row limit)] [--postgres \"<connection string>\"]");
            return 2;
        }

        if (settings.Postgres is { } server)
        {
            Environment.SetEnvironmentVariable(BenchStorage.PostgresVariable, server);
        }

        var results = new OrderedDictionary<string, string>();
        var warmup = TimeSpan.FromSeconds(settings.Quick ? 1 : 3);
        foreach (var n in settings.Ns)
        {
            foreach (var storage in BenchStorage.Available.OrderBy(s => s == BenchStorage.File))
            {
                var duration = TimeSpan.FromSeconds((settings.Quick ? 10 : 30) / (storage == BenchStorage.Memory ? 2.5 : 1));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"setbased: interleaving plain and EfNotify ExecuteUpdate, {BenchStorage.Describe(storage)}, N={n}, for {duration.TotalSeconds:0} s ..."));
                var result = InterleavedOverhead.Run(storage, n, warmup, duration, setBased: true);
                foreach (var line in result.Describe())
                {
                    Console.WriteLine(line);
                }

                var key = $"setbased_ratio_n{n}" + (storage == BenchStorage.File ? "" : "_" + storage);
                var (low, high) = result.BootstrapInterval();
                results[key + "_ci95"] = Args.Format(low) + ".." + Args.Format(high);
                results[key] = Args.Format(result.Ratio);
            }
        }

        Console.WriteLine();
        Args.Print(results);
        return 0;
    }
}
