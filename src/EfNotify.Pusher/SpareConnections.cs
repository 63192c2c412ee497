using System.Net;
using System.Net.Sockets;

namespace EfNotify.Pusher;

/// <summary>
/// A few TCP connections to the Pusher server opened ahead of need, handed to <see cref="SocketsHttpHandler"/> through
/// its <see cref="SocketsHttpHandler.ConnectCallback"/>, so that a request to a server that closes every connection
/// after its answer (soketi) does not wait for a connect, one round trip more.
/// </summary>
/// <remarks>
/// The handler asks for a connection only when its pool has none to reuse, so a server that keeps connections alive
/// (hosted Pusher) asks rarely and its spares are simply closed once stale. Each connect the handler asks for takes a
/// spare if a fresh one is ready (else connects as it would anyway) and starts one connect in the background, up to
/// <see cref="Capacity"/> spares. A spare older than <see cref="MaxAge"/>, or one the server closed (readable while
/// idle), is closed instead of used. Nothing runs while nothing is published: the one timer closes stale spares and is
/// not armed again once none are left. TLS is the handler's, after the callback, so this holds for http and https.
/// </remarks>
internal sealed class SpareConnections : IDisposable
{
    /// <summary>How long a spare stays usable: well under the idle time-outs of servers and proxies (soketi's, through uWebSockets, is about 10 s).</summary>
    internal static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(3);

    /// <summary>How long a spare may take to connect before it is given up: a server that drops packets holds no slot for long.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly Queue<Spare> _spares = new();
    private readonly TimeProvider _timeProvider;
    private readonly ITimer _sweep;
    private int _connecting;
    private bool _sweepArmed;
    private bool _disposed;

    /// <summary>Creates an empty set of spares.</summary>
    /// <param name="capacity">How many spares at most, ready or connecting: the requests the dispatcher has in flight.</param>
    /// <param name="timeProvider">The clock for a spare's age and the sweep.</param>
    public SpareConnections(int capacity, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Capacity = capacity;
        _timeProvider = timeProvider;
        _sweep = timeProvider.CreateTimer(static state => ((SpareConnections)state!).Sweep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How many spares at most, ready or connecting.</summary>
    public int Capacity { get; }

    /// <summary>A <see cref="SocketsHttpHandler"/> whose new connections come from <paramref name="spares"/> when one is ready.</summary>
    public static SocketsHttpHandler CreateHandler(SpareConnections spares)
    {
        ArgumentNullException.ThrowIfNull(spares);
        return new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), ConnectCallback = spares.ConnectAsync };
    }

    /// <summary>The handler's connect: a fresh spare to the same endpoint if one is ready, else a new connection.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.DnsEndPoint;
        var socket = Take(endpoint);
        Refill(endpoint);
        socket ??= await ConnectSocketAsync(endpoint, cancellationToken).ConfigureAwait(false);
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Closes every spare; connects still under way close theirs when they finish.</summary>
    public void Dispose()
    {
        lock (_spares)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            while (_spares.TryDequeue(out var spare))
            {
                spare.Socket.Dispose();
            }
        }

        _sweep.Dispose();
    }

    private Socket? Take(DnsEndPoint endpoint)
    {
        var now = _timeProvider.GetTimestamp();
        lock (_spares)
        {
            while (_spares.TryDequeue(out var spare))
            {
                if (IsUsable(spare, endpoint, now))
                {
                    return spare.Socket;
                }

                spare.Socket.Dispose();
            }
        }

        return null;
    }

    private bool IsUsable(Spare spare, DnsEndPoint endpoint, long now)
    {
        if (!spare.Endpoint.Equals(endpoint) || _timeProvider.GetElapsedTime(spare.ConnectedAt, now) >= MaxAge)
        {
            return false;
        }

        try
        {
            // An idle connection is readable only once the server closed it (or sent what nobody asked for).
            return spare.Socket.Connected && !spare.Socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    private void Refill(DnsEndPoint endpoint)
    {
        lock (_spares)
        {
            if (_disposed || _spares.Count + _connecting >= Capacity)
            {
                return;
            }

            _connecting++;
        }

        _ = RefillAsync(endpoint);
    }

    private async Task RefillAsync(DnsEndPoint endpoint)
    {
        Socket? socket = null;
        using var timeout = new CancellationTokenSource(ConnectTimeout, _timeProvider);
        try
        {
            socket = await ConnectSocketAsync(endpoint, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            // Not logged: the next request connects by itself and reports the same fault where it matters.
        }

        lock (_spares)
        {
            _connecting--;
            if (socket is not null && !_disposed)
            {
                _spares.Enqueue(new Spare(socket, endpoint, _timeProvider.GetTimestamp()));
                socket = null;
                if (!_sweepArmed)
                {
                    _sweepArmed = true;
                    _sweep.Change(MaxAge, Timeout.InfiniteTimeSpan);
                }
            }
        }

        socket?.Dispose();
    }

    private void Sweep()
    {
        var now = _timeProvider.GetTimestamp();
        lock (_spares)
        {
            _sweepArmed = false;
            while (_spares.TryPeek(out var oldest) && _timeProvider.GetElapsedTime(oldest.ConnectedAt, now) >= MaxAge)
            {
                _spares.Dequeue().Socket.Dispose();
            }

            if (!_disposed && _spares.TryPeek(out var next))
            {
                _sweepArmed = true;
                _sweep.Change(MaxAge - _timeProvider.GetElapsedTime(next.ConnectedAt, now), Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>What SocketsHttpHandler does without a callback: a dual-mode socket with Nagle off.</summary>
    private static async Task<Socket> ConnectSocketAsync(DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed record Spare(Socket Socket, DnsEndPoint Endpoint, long ConnectedAt);
}
