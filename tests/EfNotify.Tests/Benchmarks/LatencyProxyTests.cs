using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EfNotify.Benchmarks.Network;
using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.Tests.Benchmarks;

/// <summary>
/// The load tools' latency proxy (issue 13): the RTT figures are only as true as its delay. A real TCP echo server on
/// loopback stands behind it; the assertions are lower bounds, which a loaded machine cannot make fail.
/// </summary>
public sealed class LatencyProxyTests
{
    [Fact]
    public async Task A_request_through_the_proxy_takes_at_least_the_configured_round_trip_and_counts_as_one_turn()
    {
        using var echo = EchoServer.Start();
        await using var proxy = LatencyProxy.Start(echo.Port, new LatencyProxyOptions(TimeSpan.FromMilliseconds(20), Lifetime: TimeSpan.FromMinutes(1)));
        using var client = new TcpClient { NoDelay = true };
        var clock = Stopwatch.StartNew();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();

        // The first request also pays the handshake's round trip (counted from the connect); the next ones the round trip alone.
        for (var turn = 1; turn <= 3; turn++)
        {
            if (turn > 1)
            {
                clock.Restart();
            }

            await stream.WriteAsync(new byte[] { (byte)turn });
            var answer = new byte[1];
            Assert.Equal(1, await stream.ReadAsync(answer));
            var elapsed = clock.Elapsed;

            Assert.Equal((byte)turn, answer[0]);
            Assert.True(elapsed >= TimeSpan.FromMilliseconds(turn == 1 ? 80 : 40), $"turn {turn} took {elapsed.TotalMilliseconds:0.0} ms");
            await Eventually.UntilAsync(() => proxy.Turns == turn, TimeSpan.FromSeconds(10), $"the proxy to count turn {turn}");
        }

        Assert.Equal(1, proxy.Connections);
    }

    [Fact]
    public async Task The_proxy_stops_by_itself_at_the_end_of_its_lifetime_and_closes_its_connections()
    {
        using var echo = EchoServer.Start();
        await using var proxy = LatencyProxy.Start(echo.Port, new LatencyProxyOptions(TimeSpan.FromMilliseconds(1), Lifetime: TimeSpan.FromMilliseconds(500)));
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);

        // The connection ends (read returns 0 or fails) without anyone stopping the proxy.
        var read = client.GetStream().ReadAsync(new byte[1]).AsTask();
        await Eventually.UntilAsync(() => read.IsCompleted, TimeSpan.FromSeconds(30), "the proxy to close the connection at the end of its lifetime");
        var closed = await read.ContinueWith(t => t.IsFaulted || t.Result == 0, TaskScheduler.Default);
        Assert.True(closed, "the connection is still open and received data");
    }

    /// <summary>Echoes every byte it reads, on a loopback port of its own.</summary>
    private sealed class EchoServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

        private EchoServer()
        {
            _listener.Start();
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        var socket = await _listener.AcceptSocketAsync();
                        _ = Task.Run(async () =>
                        {
                            using (socket)
                            {
                                var buffer = new byte[1024];
                                int read;
                                while ((read = await socket.ReceiveAsync(buffer)) > 0)
                                {
                                    await socket.SendAsync(buffer.AsMemory(0, read));
                                }
                            }
                        });
                    }
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    // stopped
                }
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static EchoServer Start() => new();

        public void Dispose() => _listener.Stop();
    }
}
