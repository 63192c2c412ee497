using System.Globalization;
using EfNotify.Benchmarks.Load;
using EfNotify.Benchmarks.Network;
using Npgsql;

namespace EfNotify.Benchmarks.Overhead;

/// <summary>
/// <c>overhead --db-rtt-ms R</c>: the interleaved SaveChanges overhead on PostgreSQL behind a <see cref="LatencyProxy"/>
/// adding R ms per round trip, at each N, with the round trips per save of both sides (the proxy's turns) and the
/// statements of each round trip of one save. Prints <c>overhead_pg_rtt{R}_n{N}=</c>, <c>roundtrips_plain_n{N}=</c>,
/// <c>roundtrips_efnotify_n{N}=</c>.
/// </summary>
internal static class RttOverhead
{
    public static OrderedDictionary<string, string> Measure(string server, double rttMs, int[] ns, bool quick)
    {
        var upstream = new NpgsqlConnectionStringBuilder(server);
        if (upstream.Host is not ("127.0.0.1" or "localhost"))
        {
            throw new InvalidOperationException($"--db-rtt-ms needs a PostgreSQL server on loopback (its delay is added on this machine); got Host={upstream.Host}");
        }

        var statements = new PostgresStatements();
        var lifetime = TimeSpan.FromMinutes(2 + ns.Length * (quick ? 1 : 2));
        var proxy = LatencyProxy.Start(upstream.Port, LatencyProxyOptions.ForRoundTrip(rttMs) with { Lifetime = lifetime }, statements.Observe);
        try
        {
            var proxied = new NpgsqlConnectionStringBuilder(server) { Host = "127.0.0.1", Port = proxy.Port }.ConnectionString;
            var tag = "rtt" + rttMs.ToString("0.###", CultureInfo.InvariantCulture).Replace(".", "", StringComparison.Ordinal);
            var results = new OrderedDictionary<string, string>();
            foreach (var n in ns)
            {
                var duration = TimeSpan.FromSeconds(quick ? 6 : 20);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"overhead: PostgreSQL behind {rttMs} ms round trips, N={n}, for {duration.TotalSeconds:0} s ..."));
                var probe = new RoundTripProbe(name => new BenchStorage.PostgresStorage(proxied, name), () => proxy.Turns, statements);
                var result = InterleavedOverhead.Run(BenchStorage.Postgres, n, TimeSpan.FromSeconds(quick ? 1 : 3), duration, probe: probe);
                foreach (var line in result.Describe())
                {
                    Console.WriteLine(line);
                }

                Console.WriteLine($"  proxy: {proxy.Describe()}");
                var (low, high) = result.BootstrapInterval();
                results[$"overhead_pg_{tag}_n{n}_ci95"] = Args.Format(low) + ".." + Args.Format(high);
                results[$"overhead_pg_{tag}_n{n}"] = Args.Format(result.Ratio);
                results[$"roundtrips_plain_n{n}"] = Args.Format(result.RoundTrips!.Value.Plain);
                results[$"roundtrips_efnotify_n{n}"] = Args.Format(result.RoundTrips.Value.EfNotify);
            }

            return results;
        }
        finally
        {
            proxy.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}

/// <summary>
/// Counts the proxy's turns around each timed save, per side, and records the statements of one save of each side.
/// Saves run one at a time, so the turns between before and after a save are that save's round trips.
/// </summary>
internal sealed class RoundTripProbe(Func<string, BenchStorage> create, Func<long> turns, PostgresStatements statements)
{
    public long PlainTurns { get; private set; }

    public long EfNotifyTurns { get; private set; }

    public BenchStorage Create(string name) => create(name);

    public double Count(bool plain, Func<double> save)
    {
        var before = turns();
        var time = save();
        var after = turns();
        if (plain)
        {
            PlainTurns += after - before;
        }
        else
        {
            EfNotifyTurns += after - before;
        }

        return time;
    }

    public (IReadOnlyList<string> Plain, IReadOnlyList<string> EfNotify) RecordOneSave(Action plain, Action efNotify)
    {
        statements.TakeTurns();
        statements.Recording = true;
        plain();
        var plainTurns = statements.TakeTurns();
        efNotify();
        statements.Recording = false;
        return (plainTurns, statements.TakeTurns());
    }
}
