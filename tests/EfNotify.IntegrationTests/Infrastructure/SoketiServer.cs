using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EfNotify.Pusher;
using Microsoft.Extensions.Options;

namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>What a <see cref="SoketiServer"/> is started with.</summary>
public sealed record SoketiSettings
{
    // Non-numeric on purpose: soketi parses environment values as JSON when it can.
    public string AppId { get; init; } = "efnotify-app-" + Guid.NewGuid().ToString("N")[..8];

    public string Key { get; init; } = "efnotify-key-" + Guid.NewGuid().ToString("N")[..12];

    public string Secret { get; init; } = "efnotify-secret-" + Guid.NewGuid().ToString("N");

    /// <summary>SOKETI_EVENT_MAX_SIZE_IN_KB; 10 mimics Pusher. Default: soketi's own (100).</summary>
    public int? EventMaxSizeInKb { get; init; }

    /// <summary>Further SOKETI_* variables.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A real soketi (Pusher-protocol server) on free loopback ports, started with <c>node</c> from the repository's
/// node_modules. Use it as an xunit collection fixture, or start one of your own with <see cref="StartAsync"/>.
/// <see cref="StopAsync"/> and <see cref="RestartAsync"/> keep the same ports.
/// </summary>
public sealed class SoketiServer : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly Lazy<(string? Root, string? Reason)> Location = new(Locate);

    private readonly SoketiSettings _settings;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly List<HttpClient> _clients = [];
    private Process? _process;

    /// <summary>For xunit fixtures: default settings, started in <see cref="InitializeAsync"/>.</summary>
    public SoketiServer()
        : this(new SoketiSettings())
    {
    }

    private SoketiServer(SoketiSettings settings)
    {
        _settings = settings;
        Port = FreeTcpPort();
        MetricsPort = FreeTcpPort(except: Port);
        ClusterPort = FreeUdpPort();
    }

    /// <summary>Why soketi cannot run here (no repository root, no node_modules), or <see langword="null"/> when it can.</summary>
    public static string? UnavailableReason => Location.Value.Reason;

    /// <summary>The folder holding EfNotify.sln, found above the test assembly.</summary>
    public static string RepositoryRoot => Location.Value.Root ?? throw new InvalidOperationException(Location.Value.Reason);

    /// <summary>Whether this is a CI run (CI=true), where a missing soketi fails tests instead of skipping them.</summary>
    public static bool IsCi => string.Equals(System.Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public string Host => "127.0.0.1";

    public int Port { get; }

    public int MetricsPort { get; }

    public int ClusterPort { get; }

    public string AppId => _settings.AppId;

    public string Key => _settings.Key;

    public string Secret => _settings.Secret;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Client options for this server; each call returns a new instance that a test may change.</summary>
    public PusherOptions Options => CreateOptions();

    public Uri WebSocketUri => PusherUrls.GetWebSocketUri(Options, "efnotify-tests", "0.1");

    /// <summary>What soketi printed so far, for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Starts a server of its own for one test (say with a 10 KB event limit or on which to stop and restart).</summary>
    public static async Task<SoketiServer> StartAsync(SoketiSettings? settings = null)
    {
        var server = new SoketiServer(settings ?? new SoketiSettings());
        try
        {
            await server.StartProcessAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public PusherOptions CreateOptions(Action<PusherOptions>? change = null)
    {
        var options = new PusherOptions { AppId = AppId, Key = Key, Secret = Secret, Host = Host, Port = Port, UseTls = false };
        change?.Invoke(options);
        return options;
    }

    /// <summary>A client for this server, disposed with it.</summary>
    internal PusherClient CreateClient(Action<PusherOptions>? change = null)
    {
        var http = new HttpClient();
        lock (_clients)
        {
            _clients.Add(http);
        }

        return new PusherClient(http, Microsoft.Extensions.Options.Options.Create(CreateOptions(change)));
    }

    public async Task InitializeAsync()
    {
        if (UnavailableReason is { } reason && !IsCi)
        {
            return; // the tests skip themselves (SoketiFact); nothing to start
        }

        await StartProcessAsync();
    }

    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        using (process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            using var deadline = new CancellationTokenSource(StopTimeout);
            await process.WaitForExitAsync(deadline.Token);
        }
    }

    /// <summary>Stops the server and starts it again on the same ports with the same app.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartProcessAsync();
    }

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        lock (_clients)
        {
            _clients.ForEach(c => c.Dispose());
            _clients.Clear();
        }
    }

    private async Task StartProcessAsync()
    {
        if (UnavailableReason is { } reason)
        {
            throw new InvalidOperationException($"soketi cannot start: {reason}");
        }

        if (IsRunning)
        {
            throw new InvalidOperationException("This soketi is already running.");
        }

        var root = Location.Value.Root!;
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(root, "node_modules", "@soketi", "soketi", "bin", "server.js"));
        start.ArgumentList.Add("start");

        var environment = new Dictionary<string, string>
        {
            ["SOKETI_HOST"] = Host,
            ["SOKETI_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SOKETI_METRICS_HOST"] = Host,
            ["SOKETI_METRICS_SERVER_PORT"] = MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SOKETI_CLUSTER_PORT"] = ClusterPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SOKETI_SHUTDOWN_GRACE_PERIOD"] = "0",
            ["SOKETI_DEFAULT_APP_ID"] = AppId,
            ["SOKETI_DEFAULT_APP_KEY"] = Key,
            ["SOKETI_DEFAULT_APP_SECRET"] = Secret,
        };
        if (_settings.EventMaxSizeInKb is { } kb)
        {
            environment["SOKETI_EVENT_MAX_SIZE_IN_KB"] = kb.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var (name, value) in _settings.Environment)
        {
            environment[name] = value;
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        try
        {
            await WaitUntilReadyAsync(process);
        }
        catch
        {
            await StopAsync();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(Process process)
    {
        // No connection reuse: every probe is a new connection, so with SO_REUSEPORT a second listener on the
        // port would show up as a failed probe instead of hiding behind a kept-alive socket.
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        var client = new PusherClient(http, Microsoft.Extensions.Options.Options.Create(CreateOptions()));
        var ready = new Uri($"http://{Host}:{Port}/ready");

        await Eventually.UntilAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"soketi exited with code {process.ExitCode}:\n{Output}");
                }

                try
                {
                    using var response = await http.GetAsync(ready);
                    return response.IsSuccessStatusCode;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return false; // not listening yet
                }
            },
            StartTimeout,
            $"soketi to answer GET {ready}");

        // /ready proves that something answers; a signed request for our own app proves it is our soketi.
        for (var i = 0; i < 4; i++)
        {
            try
            {
                await client.SendAsync(HttpMethod.Get, $"/apps/{AppId}/channels", [], null, CancellationToken.None);
            }
            catch (Exception ex) when (ex is PublishException or HttpRequestException)
            {
                throw new InvalidOperationException(
                    $"Port {Port} answers, but not as the soketi this fixture started (another listener shares the port?):\n{Output}", ex);
            }
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }

    private static (string? Root, string? Reason) Locate()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EfNotify.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            return (null, $"no EfNotify.sln above {AppContext.BaseDirectory}");
        }

        var server = Path.Combine(directory.FullName, "node_modules", "@soketi", "soketi", "bin", "server.js");
        return File.Exists(server)
            ? (directory.FullName, null)
            : (directory.FullName, $"{server} is missing: run 'npm ci' in {directory.FullName}");
    }

    private static int FreeTcpPort(int except = 0)
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
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Any, 0));
        return ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
    }
}
