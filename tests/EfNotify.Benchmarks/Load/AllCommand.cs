using System.Diagnostics;
using EfNotify.Benchmarks.Overhead;

namespace EfNotify.Benchmarks.Load;

/// <summary><c>all [--quick]</c>: overhead, e2e and backlog one after the other, then the headline figures together.</summary>
internal static class AllCommand
{
    public static int Run(string[] args)
    {
        if (!Args.TryParse(args, "all [--quick]", out var quick, out _))
        {
            return 2;
        }

        var clock = Stopwatch.StartNew();
        var overhead = RunOverhead(quick);
        var e2e = E2eCommand.RunAsync(quick, rate: 1000, seconds: quick ? 10 : 30).GetAwaiter().GetResult();
        var backlog = BacklogCommand.RunAsync(quick ? 100_000 : 1_000_000).GetAwaiter().GetResult();
        var auth = AuthCommand.RunAsync(quick).GetAwaiter().GetResult();

        Console.WriteLine($"all: {clock.Elapsed.TotalMinutes:0.0} minutes");
        Args.Print(new Dictionary<string, string>
        {
            ["overhead_ratio_n100"] = overhead ?? "not-measured",
            ["peer_overhead_ratio_n100"] = "not-measured",
            ["e2e_p50_ms"] = e2e["e2e_p50_ms"],
            ["e2e_p99_ms"] = e2e["e2e_p99_ms"],
            ["throughput_ratio"] = e2e["throughput_ratio"],
            ["backlog_peak_rss_mb"] = backlog["backlog_peak_rss_mb"],
            ["auth_requests_per_s"] = auth["auth_requests_per_s"],
            ["auth_p99_ms"] = auth["auth_p99_ms"],
        });
        return 0;
    }

    /// <summary>Runs the overhead command with its output passing through, and picks its ratio line out of it.</summary>
    private static string? RunOverhead(bool quick)
    {
        var original = Console.Out;
        using var tee = new TeeWriter(original);
        Console.SetOut(tee);
        try
        {
            OverheadCommand.Run(quick ? ["--quick"] : []);
        }
        finally
        {
            Console.SetOut(original);
        }

        const string Key = "overhead_ratio_n100=";
        return tee.Lines.LastOrDefault(l => l.StartsWith(Key, StringComparison.Ordinal))?[Key.Length..];
    }

    private sealed class TeeWriter(TextWriter inner) : TextWriter
    {
        private readonly System.Text.StringBuilder _line = new();

        public List<string> Lines { get; } = [];

        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void Write(char value)
        {
            inner.Write(value);
            if (value == '\n')
            {
                Lines.Add(_line.ToString().TrimEnd('\r'));
                _line.Clear();
            }
            else
            {
                _line.Append(value);
            }
        }
    }
}
