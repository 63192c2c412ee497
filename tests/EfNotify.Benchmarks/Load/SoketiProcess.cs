using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EfNotify.Pusher;
using Microsoft.Extensions.Options;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// soketi started with node from the repository's node_modules, on free loopback ports (HTTP/WebSocket, metrics and the
/// UDP cluster port), killed with its process tree on dispose. Ready means: /ready answers and a signed request for this
/// run's app succeeds, so a stray listener sharing the port (soketi binds with SO_REUSEPORT) is noticed.
/// </summary>
internal sealed class SoketiProcess : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _output = new();
    private readonly Process _process;

    private SoketiProcess(Process process, PusherOptions options)
    {
        _process = process;
        Options = options;
    }

    public PusherOptions Options { get; }

    public static async Task<SoketiProcess> StartAsync()
    {
        var root = RepositoryRoot();
        var server = Path.Combine(root, "node_modules", "@soketi", "soketi", "bin", "server.js");
        if (!File.Exists(server))
        {
            throw new InvalidOperationException($"{server} is missing: run 'npm ci' in {root}");
        }

        var suffix = Guid.NewGuid().ToString("N")[..8];
        var options = new PusherOptions
        {
            AppId = "load-app-" + suffix,
            Key = "load-key-" + suffix,
            Secret = "load-secret-" + Guid.NewGuid().ToString("N"),
            Host = "127.0.0.1",
            Port = FreeTcpPort(0),
            UseTls = false,
            MaxEventDataBytes = 10_240,
        };
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(server);
        start.ArgumentList.Add("start");
        string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
        start.Environment["SOKETI_HOST"] = options.Host;
        start.Environment["SOKETI_PORT"] = Text(options.Port.Value);
        start.Environment["SOKETI_METRICS_HOST"] = options.Host;
        start.Environment["SOKETI_METRICS_SERVER_PORT"] = Text(FreeTcpPort(options.Port.Value));
        start.Environment["SOKETI_CLUSTER_PORT"] = Text(FreeUdpPort());
        start.Environment["SOKETI_SHUTDOWN_GRACE_PERIOD"] = "0";
        start.Environment["SOKETI_DEFAULT_APP_ID"] = options.AppId;
        start.Environment["SOKETI_DEFAULT_APP_KEY"] = options.Key;
        start.Environment["SOKETI_DEFAULT_APP_SECRET"] = options.Secret;

        var process = new Process { StartInfo = start };
        var soketi = new SoketiProcess(process, options);
        process.OutputDataReceived += (_, e) => soketi.Record(e.Data);
        process.ErrorDataReceived += (_, e) => soketi.Record(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await soketi.WaitUntilReadyAsync();
            return soketi;
        }
        catch
        {
            await soketi.DisposeAsync();
            throw;
        }
    }

    /// <summary>Soketi's process id, for reading its resident memory.</summary>
    public int ProcessId => _process.Id;

    public async ValueTask DisposeAsync()
    {
        using (_process)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(deadline.Token);
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        var ready = new Uri($"http://{Options.Host}:{Options.Port}/ready");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"soketi exited with code {_process.ExitCode}:\n{string.Join('\n', _output)}");
            }

            try
            {
                using var response = await http.GetAsync(ready);
                if (response.IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"soketi did not answer {ready} within 30 s:\n{string.Join('\n', _output)}");
            }

            await Task.Delay(50);
        }

        var client = new PusherClient(http, Microsoft.Extensions.Options.Options.Create(Options));
        for (var i = 0; i < 4; i++)
        {
            await client.SendAsync(HttpMethod.Get, $"/apps/{Options.AppId}/channels", [], null, CancellationToken.None);
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 100 && _output.TryDequeue(out _))
        {
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EfNotify.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException($"no EfNotify.sln above {AppContext.BaseDirectory}");
    }

    private static int FreeTcpPort(int except)
    {
        while (true)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port != except)
            {
                return port;
            }
        }
    }

    private static int FreeUdpPort()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
    }
}
