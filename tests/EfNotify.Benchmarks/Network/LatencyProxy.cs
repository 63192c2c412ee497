using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace EfNotify.Benchmarks.Network;

/// <summary>What a <see cref="LatencyProxy"/> adds to a loopback connection, and its bounds.</summary>
/// <param name="OneWay">Delay added to every byte in each direction (a round trip costs twice this).</param>
/// <param name="Jitter">Up to this much more, drawn per chunk; bytes are never reordered.</param>
/// <param name="MaxConnections">Connections accepted at once; more wait in the listen backlog.</param>
/// <param name="Lifetime">The proxy stops by itself after this long, closing every connection.</param>
/// <param name="Handshake">The first client bytes of a connection wait one round trip more, as TCP's handshake does.</param>
internal sealed record LatencyProxyOptions(
    TimeSpan OneWay,
    TimeSpan Jitter = default,
    int MaxConnections = 64,
    TimeSpan? Lifetime = null,
    bool Handshake = true)
{
    public static LatencyProxyOptions ForRoundTrip(double rttMs, double jitterMs = 0)
        => new(TimeSpan.FromMilliseconds(rttMs / 2), TimeSpan.FromMilliseconds(jitterMs));
}

/// <summary>
/// A TCP proxy on loopback in front of a local server (PostgreSQL, soketi): every chunk read from one side is written
/// to the other after <see cref="LatencyProxyOptions.OneWay"/> (plus jitter), in order. It counts connections and
/// turns: a turn is client bytes followed by server bytes, one request/response round trip. Bounded: at most
/// <see cref="LatencyProxyOptions.MaxConnections"/> at once, and it stops by itself after its lifetime. Waits shorter
/// than a timer tick are spun, so a 0.25 ms delay is 0.25 ms and not the timer's millisecond; how late the proxy
/// delivered (scheduling on a busy machine) is measured and reported by <see cref="Lateness"/>.
/// </summary>
internal sealed class LatencyProxy : IAsyncDisposable
{
    private static readonly TimeSpan CoarseWaitMargin = TimeSpan.FromMilliseconds(1.5);

    private readonly TcpListener _listener;
    private readonly IPEndPoint _upstream;
    private readonly LatencyProxyOptions _options;
    private readonly CancellationTokenSource _stop;
    private readonly SemaphoreSlim _slots;
    private readonly Task _acceptLoop;
    private readonly List<Task> _connections = [];
    private readonly Random _random = new(20_261_201);
    private readonly Action<long, long, ReadOnlyMemory<byte>>? _onClientBytes;
    private long _turns;
    private long _accepted;
    private long _latenessTicks;
    private long _latenessMaxTicks;
    private long _chunks;

    private LatencyProxy(IPEndPoint upstream, LatencyProxyOptions options, Action<long, long, ReadOnlyMemory<byte>>? onClientBytes)
    {
        _upstream = upstream;
        _options = options;
        _onClientBytes = onClientBytes;
        _stop = new CancellationTokenSource(options.Lifetime ?? TimeSpan.FromMinutes(10));
        _slots = new SemaphoreSlim(options.MaxConnections, options.MaxConnections);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _stop.Token.Register(_listener.Stop); // at the end of its lifetime nobody may connect and hang
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The loopback port clients connect to instead of the server's.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Request/response turns over all connections so far.</summary>
    public long Turns => Interlocked.Read(ref _turns);

    /// <summary>Connections accepted so far.</summary>
    public long Connections => Interlocked.Read(ref _accepted);

    public LatencyProxyOptions Options => _options;

    /// <summary>Starts a proxy on a free loopback port in front of <paramref name="upstreamPort"/>.</summary>
    /// <param name="onClientBytes">Called with every chunk a client sent: its connection number, the connection's turn it belongs to, the bytes.</param>
    public static LatencyProxy Start(int upstreamPort, LatencyProxyOptions options, Action<long, long, ReadOnlyMemory<byte>>? onClientBytes = null)
        => new(new IPEndPoint(IPAddress.Loopback, upstreamPort), options, onClientBytes);

    /// <summary>How late chunks were written after their due time: the mean and the maximum, in ms.</summary>
    public (double MeanMs, double MaxMs) Lateness()
    {
        var chunks = Math.Max(1, Interlocked.Read(ref _chunks));
        return (Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _latenessTicks) / chunks).TotalMilliseconds,
            Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _latenessMaxTicks)).TotalMilliseconds);
    }

    public string Describe()
    {
        var (mean, max) = Lateness();
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{_options.OneWay.TotalMilliseconds * 2:0.###} ms round trip (+ up to {_options.Jitter.TotalMilliseconds:0.###} ms jitter each way), "
            + $"{Connections} connections, {Turns} turns; delivered late by {mean:0.000} ms on average, {max:0.0} ms at most");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop.ConfigureAwait(false);
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections).ConfigureAwait(false);
        _stop.Dispose();
        _slots.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stop.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                await _slots.WaitAsync(token);
                Socket client;
                try
                {
                    client = await _listener.AcceptSocketAsync(token);
                }
                catch
                {
                    _slots.Release();
                    throw;
                }

                var id = Interlocked.Increment(ref _accepted);
                var connection = Task.Run(() => RelayAsync(id, client, token), CancellationToken.None);
                lock (_connections)
                {
                    _connections.RemoveAll(t => t.IsCompleted);
                    _connections.Add(connection);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped: by dispose or by the lifetime
        }
    }

    private async Task RelayAsync(long id, Socket client, CancellationToken stop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var token = linked.Token;
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        var accepted = Stopwatch.GetTimestamp();
        var clientSpoke = 0; // 1 while client bytes wait for an answer: the next server bytes close a turn
        var clientTurn = 0L;
        try
        {
            await server.ConnectAsync(_upstream, token);
            var notBefore = _options.Handshake ? accepted + (long)(_options.OneWay.TotalSeconds * 2 * Stopwatch.Frequency) : 0;
            var up = PumpAsync(client, server, notBefore, chunk =>
            {
                if (Interlocked.Exchange(ref clientSpoke, 1) == 0)
                {
                    clientTurn++;
                }

                _onClientBytes?.Invoke(id, clientTurn, chunk);
            }, token);
            var down = PumpAsync(server, client, 0, _ =>
            {
                if (Interlocked.Exchange(ref clientSpoke, 0) == 1)
                {
                    Interlocked.Increment(ref _turns);
                }
            }, token);

            // Either side closing ends the connection, as a proxy in the network would.
            await Task.WhenAny(up, down);
            await linked.CancelAsync();
            await Task.WhenAll(up, down).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // the server refused, or the proxy stopped
        }
        finally
        {
            client.Dispose();
            _slots.Release();
        }
    }

    /// <summary>Reads from one socket and writes each chunk to the other once it is due; ends when the source closes.</summary>
    private async Task PumpAsync(Socket from, Socket to, long notBefore, Action<ReadOnlyMemory<byte>> observe, CancellationToken token)
    {
        var queue = Channel.CreateUnbounded<(byte[] Data, long Due)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = Task.Run(async () =>
        {
            await foreach (var (data, due) in queue.Reader.ReadAllAsync(token))
            {
                await WaitUntilAsync(due, token);
                Record(Stopwatch.GetTimestamp() - due);
                await to.SendAsync(data, SocketFlags.None, token);
            }

            to.Shutdown(SocketShutdown.Send);
        }, CancellationToken.None);

        var buffer = new byte[64 * 1024];
        var lastDue = 0L;
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, token);
                if (read == 0)
                {
                    break;
                }

                var data = buffer.AsSpan(0, read).ToArray();
                observe(data);
                var delay = _options.OneWay + (_options.Jitter > TimeSpan.Zero ? _options.Jitter * NextDouble() : TimeSpan.Zero);
                var due = Math.Max(Stopwatch.GetTimestamp(), notBefore) + (long)(delay.TotalSeconds * Stopwatch.Frequency);
                lastDue = Math.Max(due, lastDue); // TCP keeps order, jitter or not
                queue.Writer.TryWrite((data, lastDue));
            }
        }
        finally
        {
            queue.Writer.TryComplete();
            await writer;
        }
    }

    private double NextDouble()
    {
        lock (_random)
        {
            return _random.NextDouble();
        }
    }

    private void Record(long lateTicks)
    {
        Interlocked.Increment(ref _chunks);
        Interlocked.Add(ref _latenessTicks, Math.Max(0, lateTicks));
        var max = Interlocked.Read(ref _latenessMaxTicks);
        while (lateTicks > max && Interlocked.CompareExchange(ref _latenessMaxTicks, lateTicks, max) != max)
        {
            max = Interlocked.Read(ref _latenessMaxTicks);
        }
    }

    /// <summary>A timer wait for all but the last 1.5 ms, then a spin that yields: the timer alone is good to a millisecond.</summary>
    private static async Task WaitUntilAsync(long due, CancellationToken token)
    {
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
        if (left > CoarseWaitMargin)
        {
            await Task.Delay(left - CoarseWaitMargin, token);
        }

        var spin = new SpinWait();
        while (Stopwatch.GetTimestamp() < due)
        {
            token.ThrowIfCancellationRequested();
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }
}
