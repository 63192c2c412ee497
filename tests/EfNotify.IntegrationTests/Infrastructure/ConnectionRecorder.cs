using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>
/// A relay on loopback in front of a server that records, for each client connection, when it was accepted, when its
/// client first sent bytes and whether it is still open. Either side closing closes the other, as the network would.
/// </summary>
public sealed class ConnectionRecorder : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Recorded> _connections = [];
    private readonly Task _acceptLoop;

    public ConnectionRecorder(int upstreamPort)
    {
        _upstream = new IPEndPoint(IPAddress.Loopback, upstreamPort);
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The connections so far, in the order they were accepted.</summary>
    public IReadOnlyList<Recorded> Connections
    {
        get
        {
            lock (_connections)
            {
                return [.. _connections];
            }
        }
    }

    /// <summary>Open connections on which the client has not sent anything yet.</summary>
    public IReadOnlyList<Recorded> Idle => [.. Connections.Where(c => c.IsOpen && c.FirstBytesAt is null)];

    /// <summary>Closes the idle connections, as a server does when a connection stays unused too long.</summary>
    public void CloseIdle()
    {
        foreach (var connection in Idle)
        {
            connection.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        foreach (var connection in Connections)
        {
            connection.Close();
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                var connection = new Recorded(client, Stopwatch.GetTimestamp());
                lock (_connections)
                {
                    _connections.Add(connection);
                }

                _ = Task.Run(() => connection.RelayAsync(_upstream));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }
    }

    /// <summary>One client connection: when it was accepted and first spoke (<see cref="Stopwatch"/> timestamps).</summary>
    public sealed class Recorded(Socket client, long acceptedAt)
    {
        private readonly Socket _server = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        private int _open = 1;
        private long _firstBytesAt;

        public long AcceptedAt { get; } = acceptedAt;

        public long? FirstBytesAt => Interlocked.Read(ref _firstBytesAt) is var at and > 0 ? at : null;

        public bool IsOpen => Volatile.Read(ref _open) == 1;

        public void Close()
        {
            if (Interlocked.Exchange(ref _open, 0) == 1)
            {
                client.Dispose();
                _server.Dispose();
            }
        }

        internal async Task RelayAsync(IPEndPoint upstream)
        {
            try
            {
                await _server.ConnectAsync(upstream);
                await Task.WhenAny(PumpAsync(client, _server, fromClient: true), PumpAsync(_server, client, fromClient: false));
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // either side went away
            }
            finally
            {
                Close();
            }
        }

        private async Task PumpAsync(Socket from, Socket to, bool fromClient)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = await from.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                {
                    if (fromClient)
                    {
                        Interlocked.CompareExchange(ref _firstBytesAt, Stopwatch.GetTimestamp(), 0);
                    }

                    await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // closed
            }
        }
    }
}
