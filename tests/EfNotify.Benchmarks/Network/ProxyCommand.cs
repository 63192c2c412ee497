using System.Globalization;

namespace EfNotify.Benchmarks.Network;

/// <summary>
/// <c>proxy --to PORT --rtt-ms R [--jitter-ms J] [--seconds S]</c>: the load tools' <see cref="LatencyProxy"/> on its own,
/// in front of any local server (psql, curl or an application through it), for S seconds (default 60); prints its port,
/// then its turns and lateness when it stops.
/// </summary>
internal static class ProxyCommand
{
    private const string Usage = "proxy --to PORT --rtt-ms R [--jitter-ms J] [--seconds S]";

    public static int Run(string[] args)
    {
        var values = new Dictionary<string, double>();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] is not ("--to" or "--rtt-ms" or "--jitter-ms" or "--seconds")
                || !double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
            {
                Console.Error.WriteLine($"usage: {Usage}");
                return 2;
            }

            values[args[i]] = value;
        }

        if (args.Length % 2 != 0 || !values.ContainsKey("--to") || !values.ContainsKey("--rtt-ms"))
        {
            Console.Error.WriteLine($"usage: {Usage}");
            return 2;
        }

        var lifetime = TimeSpan.FromSeconds(values.GetValueOrDefault("--seconds", 60));
        var options = LatencyProxyOptions.ForRoundTrip(values["--rtt-ms"], values.GetValueOrDefault("--jitter-ms")) with { Lifetime = lifetime };
        var proxy = LatencyProxy.Start((int)values["--to"], options);
        Console.WriteLine($"proxy_port={proxy.Port}");
        Thread.Sleep(lifetime); // the proxy's own lifetime ends with it
        Console.WriteLine($"proxy: {proxy.Describe()}");
        proxy.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }
}
