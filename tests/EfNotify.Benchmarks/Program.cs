using EfNotify.Benchmarks.Load;
using EfNotify.Benchmarks.Overhead;

namespace EfNotify.Benchmarks;

/// <summary>
/// One executable for EfNotify's measurements: the first argument names the command, the rest belong to it.
/// A command returns its exit code; an unknown one prints the usage and exits with 2.
/// </summary>
public static class Program
{
    private static readonly (string Name, string Usage, Func<string[], int> Run)[] Commands =
    [
        ("overhead", "overhead [--quick] [--n N[,N]] [--postgres CONN] [--no-table] [--db-rtt-ms R]   SaveChanges with and without EfNotify: SQLite file and memory, PostgreSQL if given; with --db-rtt-ms, PostgreSQL behind a latency proxy, round trips per save counted", OverheadCommand.Run),
        ("setbased", "setbased [--quick] [--n N[,N]] [--postgres CONN]   one ExecuteUpdate of N rows with and without EfNotify (RETURNING, outbox row)", SetBasedCommand.Run),
        ("e2e", "e2e [--quick] [--objects-per-commit K] [--instances N] [--pusher-rtt-ms R[,R]]   commit-to-browser latency, sustained throughput beside the naive writers and the raw ceiling against soketi; with --instances, N processes on one database and the failover; with --pusher-rtt-ms, soketi behind a latency proxy", E2eCommand.Run),
        ("backlog", "backlog [--quick] [--rows N]   drain a backlog of outbox rows: rate, peak RSS, the claim's query plan", BacklogCommand.Run),
        ("sweep", "sweep [--quick]      latency percentiles against offered load, EfNotify beside raw; writes docs/e2e-latency.png", SweepCommand.Run),
        ("auth", "auth [--quick] [--limiter]  requests/s and latency of POST /pusher/auth in the web sample (database lookup and authorization); --limiter: with the per-user limiter off and on", AuthCommand.Run),
        ("wake", "wake [--postgres CONN]   waking the leader after a commit: NOTIFY after commit, NOTIFY in the transaction, a wake file, data_version polling", WakeCommand.Run),
        ("idle", "idle [--seconds S] [--postgres CONN]   the CPU of an idle leader and an idle standby beside a bare host (the runtime's floor), in windows of 10 s", IdleCommand.Run),
        ("proxy", "proxy --to PORT --rtt-ms R [--jitter-ms J] [--seconds S]   the latency proxy on its own in front of a local server, for S seconds (default 60)", Network.ProxyCommand.Run),
        ("all", "all [--quick] [--postgres CONN]   overhead, e2e, backlog, auth, instances and the RTT figures, then their headline figures", AllCommand.Run),
    ];

    public static int Main(string[] args)
    {
        foreach (var (name, _, run) in Commands)
        {
            if (args.Length > 0 && args[0] == name)
            {
                return run(args[1..]);
            }
        }

        PrintUsage();
        return 2;
    }

    private static void PrintUsage()
    {
        var error = Console.Error;
        error.WriteLine("usage: dotnet run -c Release --project tests/EfNotify.Benchmarks -- <command> [options]");
        error.WriteLine();
        error.WriteLine("commands:");
        foreach (var (_, usage, _) in Commands)
        {
            error.WriteLine($"  {usage}");
        }
    }
}
