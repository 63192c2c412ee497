using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using EfNotify.Pusher;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// A lean Pusher protocol-7 subscriber for load runs: it takes the receive timestamp as soon as a frame is complete,
/// then hands the event's data (a JSON string) to <see cref="OnEvent"/>; nothing is kept per event, so a million events
/// cost no memory here.
/// </summary>
internal sealed class LoadSubscriber : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly PusherChannelAuthorizer _authorizer;
    private readonly TaskCompletionSource<string> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _subscriptions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _received;

    private LoadSubscriber(PusherOptions options) => _authorizer = new PusherChannelAuthorizer(Microsoft.Extensions.Options.Options.Create(options));

    /// <summary>Called on the receive loop for every channel event: the data string and <see cref="Stopwatch.GetTimestamp"/> at receipt.</summary>
    public Action<string, long>? OnEvent { get; set; }

    public long Received => Interlocked.Read(ref _received);

    /// <summary>
    /// From now on, stores in <paramref name="received"/>[seq] the time the first event carrying that <c>Seq</c>
    /// (<see cref="E2eCommand.SeqOf"/>) arrived; sequence numbers outside the array and repeats are ignored.
    /// </summary>
    public void RecordFirstArrivals(long[] received) => OnEvent = (data, at) =>
    {
        var seq = E2eCommand.SeqOf(data);
        if (seq > 0 && seq < received.Length && received[seq] == 0)
        {
            received[seq] = at;
        }
    };

    public static async Task<LoadSubscriber> ConnectAsync(PusherOptions options, IEnumerable<string> channels)
    {
        var subscriber = new LoadSubscriber(options);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await subscriber._socket.ConnectAsync(PusherUrls.GetWebSocketUri(options, "efnotify-load", "0.1"), deadline.Token);
        subscriber._loop = Task.Run(subscriber.ReceiveLoopAsync);
        var socketId = await subscriber._connected.Task.WaitAsync(deadline.Token);
        foreach (var channel in channels)
        {
            var done = subscriber._subscriptions.GetOrAdd(channel, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            var auth = subscriber._authorizer.AuthorizePrivateChannel(socketId, channel);
            await subscriber.SendAsync(JsonSerializer.Serialize(new { @event = "pusher:subscribe", data = new { channel, auth } }));
            await done.Task.WaitAsync(deadline.Token);
        }

        return subscriber;
    }

    /// <summary>Waits until <paramref name="count"/> events arrived or nothing arrived for <paramref name="idle"/>.</summary>
    public async Task<bool> WaitForAsync(long count, TimeSpan idle)
    {
        var last = Received;
        var quiet = Stopwatch.StartNew();
        while (Received < count)
        {
            await Task.Delay(5);
            var now = Received;
            if (now != last)
            {
                last = now;
                quiet.Restart();
            }
            else if (quiet.Elapsed > idle)
            {
                return false;
            }
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception ex) when (ex is WebSocketException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            // the server went first
        }

        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
        }

        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new ArrayBufferWriter<byte>(64 * 1024);
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                message.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(), _stop.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    message.Write(buffer.AsSpan(0, result.Count));
                }
                while (!result.EndOfMessage);

                var at = Stopwatch.GetTimestamp();
                await HandleAsync(message.WrittenSpan.ToArray(), at);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            _connected.TrySetException(ex);
        }
    }

    private async Task HandleAsync(byte[] frame, long at)
    {
        string? name = null, channel = null, data = null;
        using (var document = JsonDocument.Parse(frame))
        {
            var root = document.RootElement;
            name = root.TryGetProperty("event", out var e) ? e.GetString() : null;
            channel = root.TryGetProperty("channel", out var c) ? c.GetString() : null;
            if (root.TryGetProperty("data", out var d))
            {
                data = d.ValueKind == JsonValueKind.String ? d.GetString() : d.GetRawText();
            }
        }

        switch (name)
        {
            case "pusher:connection_established":
                using (var established = JsonDocument.Parse(data!))
                {
                    _connected.TrySetResult(established.RootElement.GetProperty("socket_id").GetString()!);
                }

                break;
            case "pusher_internal:subscription_succeeded":
                if (channel is not null && _subscriptions.TryGetValue(channel, out var done))
                {
                    done.TrySetResult();
                }

                break;
            case "pusher:ping":
                await SendAsync("{\"event\":\"pusher:pong\",\"data\":{}}");
                break;
            case "pusher:error":
                Console.Error.WriteLine($"subscriber: pusher:error {data}");
                break;
            default:
                if (channel is not null && name is not null && !name.StartsWith("pusher", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _received);
                    OnEvent?.Invoke(data ?? "", at);
                }

                break;
        }
    }

    private async Task SendAsync(string text)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }
}
