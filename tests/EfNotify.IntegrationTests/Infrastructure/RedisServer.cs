using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>
/// A redis-server of its own on a free loopback port (no persistence), for a soketi cluster sharing it; stopped by its
/// own process handle.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The redis-server executable, or <see langword="null"/> when it is not installed.</summary>
    public static string? Executable => new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);

    public static async Task<RedisServer> StartAsync()
    {
        var executable = Executable ?? throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server)");
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, port);
        try
        {
            await Eventually.UntilAsync(server.PingAsync, StartTimeout, $"redis-server to answer PING on port {port}");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(_process);
    }

    /// <summary>Kills a process this fixture started (SIGKILL, with its children) and waits for it to exit.</summary>
    internal static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(deadline.Token);
        process.Dispose();
    }

    private async Task<bool> PingAsync()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"redis-server exited with code {_process.ExitCode}");
        }

        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>
/// A fact that needs the whole topology (PostgreSQL, soketi, redis-server, Node): skipped with the reason locally when a
/// part is missing, failed under CI=true.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class TopologyFactAttribute : FactAttribute
{
    public TopologyFactAttribute()
    {
        var missing = PostgresServer.UnavailableReason ?? SoketiServer.UnavailableReason
            ?? (RedisServer.Executable is null ? "redis-server is not installed" : null);
        if (!PostgresServer.IsCi && missing is not null)
        {
            Skip = $"the topology is not available: {missing}";
        }
    }
}
