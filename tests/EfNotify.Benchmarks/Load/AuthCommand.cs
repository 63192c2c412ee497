using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// <c>auth [--quick]</c>: requests/s and latency of <c>POST /pusher/auth</c> in the web sample, a real Kestrel process
/// with cookie sign-in, where each grant loads the room through the app's DbContext and runs its resource-based
/// authorization handler (a membership query) before signing.
/// </summary>
internal static class AuthCommand
{
    private const int Concurrency = 16;

    // The per-user limiter is on by default (100 requests per 10 s); one user at full speed would mostly measure 429s, so
    // the plain run raises the limit above the load: every request still passes through the limiter.
    private static readonly Dictionary<string, string> LimiterAboveTheLoad = new() { ["EfNotify__AspNetCore__AuthRateLimit__PermitLimit"] = "1000000000" };
    private static readonly Dictionary<string, string> LimiterOff = new() { ["EfNotify__AspNetCore__AuthRateLimit__Enabled"] = "false" };

    public static int Run(string[] args)
    {
        var limiter = args.Contains("--limiter");
        if (!Args.TryParse([.. args.Where(a => a != "--limiter")], "auth [--quick] [--limiter]", out var quick, out _))
        {
            return 2;
        }

        Args.Print(limiter ? CompareLimiterAsync(quick).GetAwaiter().GetResult() : RunAsync(quick).GetAwaiter().GetResult());
        return 0;
    }

    /// <summary>
    /// <c>--limiter</c>: the endpoint's throughput with the limiter off and on (limit above the load), alternating, two rounds
    /// each, in one run; then the default limit, where one user at full speed is answered 429.
    /// </summary>
    private static async Task<Dictionary<string, string>> CompareLimiterAsync(bool quick)
    {
        var results = new Dictionary<string, string>();
        for (var round = 1; round <= 2; round++)
        {
            foreach (var (name, environment) in new[] { ("off", LimiterOff), ("on", LimiterAboveTheLoad) })
            {
                foreach (var (key, value) in await RunAsync(quick, environment, $"limiter {name}, round {round}"))
                {
                    results[$"{key}_limiter_{name}_{round}"] = value;
                }
            }
        }

        foreach (var (key, value) in await RunAsync(quick, [], "limiter on, default limit (100 per 10 s per user)"))
        {
            results[$"{key}_default_limit"] = value;
        }

        return results;
    }

    public static Task<Dictionary<string, string>> RunAsync(bool quick) => RunAsync(quick, LimiterAboveTheLoad, "limiter above the load");

    private static async Task<Dictionary<string, string>> RunAsync(bool quick, Dictionary<string, string> settings, string label)
    {
        var sampleDirectory = Path.Combine(Repository.Root(), "samples", "EfNotify.Sample.Web");
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release" : "Debug";
        var dll = Path.Combine(sampleDirectory, "bin", configuration, "net10.0", "EfNotify.Sample.Web.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"The sample is not built: {dll} (it is built with this project; run a build first)");
        }

        var port = FreePort();
        var database = Path.Combine(Path.GetTempPath(), $"efnotify-auth-{Guid.NewGuid():N}.db");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = sampleDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["ConnectionStrings__Sample"] = $"Data Source={database}",
                ["EfNotify__DispatcherEnabled"] = "false", // only the endpoint is measured; nothing is published
                ["EfNotify__Pusher__AppId"] = "efnotify-auth-bench",
                ["EfNotify__Pusher__Key"] = "efnotify-auth-bench-key",
                ["EfNotify__Pusher__Secret"] = "efnotify-auth-bench-secret",
                ["EfNotify__Pusher__Host"] = "127.0.0.1",
                ["EfNotify__Pusher__Port"] = "6001",
                ["EfNotify__Pusher__UseTls"] = "false",
                ["Logging__LogLevel__Default"] = "Warning",
            },
        };
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        using var server = Process.Start(start) ?? throw new InvalidOperationException("could not start the sample");
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            var baseAddress = new Uri($"http://127.0.0.1:{port}");
            using var handler = new SocketsHttpHandler { CookieContainer = new CookieContainer(), MaxConnectionsPerServer = Concurrency };
            using var client = new HttpClient(handler) { BaseAddress = baseAddress };
            await WaitUntilUpAsync(client, server);
            using (var login = await client.PostAsync(
                       "/login", new FormUrlEncodedContent([new("user", "alice"), new("password", "demo")])))
            {
                // A redirect to "/" means signed in; to the login page means refused.
                if (login.RequestMessage?.RequestUri?.AbsolutePath.Contains("login", StringComparison.Ordinal) == true)
                {
                    throw new InvalidOperationException("signing in as alice failed");
                }
            }

            // Room 2 is alice's and bob's: every request loads it and checks membership, then signs.
            var body = new KeyValuePair<string, string>[] { new("socket_id", "1234.5678"), new("channel_name", "private-Room.2") };
            await LoadAsync(client, body, TimeSpan.FromSeconds(1)); // warm-up: JIT, connection pool, EF model
            var duration = TimeSpan.FromSeconds(quick ? 5 : 20);
            var (measured, failures, limited) = await LoadAsync(client, body, duration);
            var latencies = measured.Order().ToArray();
            var rps = latencies.Length / duration.TotalSeconds;
            Args.PrintTable($"POST /pusher/auth (sample app, SQLite, cookie sign-in, 16 concurrent clients; {label})",
            [
                ("granted requests", $"{latencies.Length} in {duration.TotalSeconds:0} s = {rps:0} requests/s"),
                ("latency", $"p50 {Measure.Percentile(latencies, 50):0.00} ms, p99 {Measure.Percentile(latencies, 99):0.00} ms"),
                ("answered 429 (over the user's limit)", $"{limited} = {limited / duration.TotalSeconds:0} requests/s"),
                ("failures (anything but 200 and 429)", failures.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ]);
            return new Dictionary<string, string>
            {
                ["auth_requests_per_s"] = Args.Format(rps, "0"),
                ["auth_p50_ms"] = Args.Format(Measure.Percentile(latencies, 50)),
                ["auth_p99_ms"] = Args.Format(Measure.Percentile(latencies, 99)),
                ["auth_failures"] = failures.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["auth_429_per_s"] = Args.Format(limited / duration.TotalSeconds, "0"),
            };
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(database + suffix);
            }
        }
    }

    private static async Task<(List<double> Latencies, int Failures, int Limited)> LoadAsync(
        HttpClient client, KeyValuePair<string, string>[] body, TimeSpan duration)
    {
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var failures = 0;
        var limited = 0;
        var perWorker = await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            var latencies = new List<double>();
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync("/pusher/auth", new FormUrlEncodedContent(body));
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    latencies.Add(elapsed);
                }
                else if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Interlocked.Increment(ref limited);
                }
                else
                {
                    Interlocked.Increment(ref failures);
                }
            }

            return latencies;
        }));
        return (perWorker.SelectMany(l => l).ToList(), failures, limited);
    }

    private static async Task WaitUntilUpAsync(HttpClient client, Process server)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (server.HasExited)
            {
                throw new InvalidOperationException($"the sample exited with {server.ExitCode}");
            }

            try
            {
                using var response = await client.GetAsync("/login.html");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the sample did not answer within 60 s");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
