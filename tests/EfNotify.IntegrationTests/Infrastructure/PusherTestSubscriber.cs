using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EfNotify.Pusher;
using Microsoft.Extensions.Options;

namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>One channel event as a subscriber received it; <paramref name="Sequence"/> counts from 0 in arrival order.</summary>
public sealed record ReceivedEvent(string Channel, string Name, string Data, int Sequence);

/// <summary>
/// A browser stand-in: a WebSocket client speaking Pusher protocol 7. It connects, subscribes to channels (signing
/// private ones with the app secret, as the app's auth endpoint would), answers pings and records channel events.
/// </summary>
public sealed class PusherTestSubscriber : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket = new();
    private readonly PusherChannelAuthorizer _authorizer;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _subscriptions = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly List<ReceivedEvent> _events = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _closed;
    private Task _receiveLoop = Task.CompletedTask;

    private PusherTestSubscriber(PusherOptions options) =>
        _authorizer = new PusherChannelAuthorizer(Options.Create(options));

    /// <summary>The socket id the server gave this connection (pass it as socket_id to exclude this subscriber).</summary>
    public string SocketId { get; private set; } = "";

    /// <summary>The channel events received so far, in arrival order.</summary>
    public IReadOnlyList<ReceivedEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public static Task<PusherTestSubscriber> ConnectAsync(SoketiServer server, TimeSpan? timeout = null) =>
        ConnectAsync(server.Options, timeout);

    /// <summary>Connects and waits for pusher:connection_established.</summary>
    public static async Task<PusherTestSubscriber> ConnectAsync(PusherOptions options, TimeSpan? timeout = null)
    {
        var subscriber = new PusherTestSubscriber(options);
        try
        {
            using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
            await subscriber._socket.ConnectAsync(PusherUrls.GetWebSocketUri(options, "efnotify-tests", "0.1"), deadline.Token);
            subscriber._receiveLoop = Task.Run(subscriber.ReceiveLoopAsync);
            subscriber.SocketId = await subscriber._connected.Task.WaitAsync(deadline.Token);
            return subscriber;
        }
        catch
        {
            await subscriber.DisposeAsync();
            throw;
        }
    }

    /// <summary>Subscribes and waits for pusher_internal:subscription_succeeded; private- channels are authorized.</summary>
    public async Task SubscribeAsync(string channel, TimeSpan? timeout = null)
    {
        var succeeded = _subscriptions.GetOrAdd(channel, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var data = new JsonObject { ["channel"] = channel };
        if (channel.StartsWith("private-", StringComparison.Ordinal))
        {
            data["auth"] = _authorizer.AuthorizePrivateChannel(SocketId, channel);
        }

        await SendAsync(new JsonObject { ["event"] = "pusher:subscribe", ["data"] = data });
        try
        {
            await succeeded.Task.WaitAsync(timeout ?? DefaultTimeout);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"No subscription_succeeded for '{channel}' within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s.", ex);
        }
    }

    /// <summary>Returns the first event (already received or still to come) that matches, or throws at the deadline.</summary>
    public async Task<ReceivedEvent> WaitForEventAsync(Func<ReceivedEvent, bool> predicate, TimeSpan? timeout = null)
    {
        var events = await WaitForEventsAsync(1, predicate, timeout);
        return events[0];
    }

    /// <summary>Waits until <paramref name="count"/> matching events have arrived; returns them in arrival order.</summary>
    public async Task<IReadOnlyList<ReceivedEvent>> WaitForEventsAsync(int count, Func<ReceivedEvent, bool> predicate, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var matches = _events.Where(predicate).ToList();
                if (matches.Count >= count)
                {
                    return matches;
                }

                if (_closed is not null)
                {
                    throw new InvalidOperationException($"The connection closed after {matches.Count} of {count} expected events.", _closed);
                }

                changed = _changed.Task;
            }

            var remaining = limit - clock.Elapsed;
            if (remaining <= TimeSpan.Zero || await Task.WhenAny(changed, Task.Delay(remaining)) != changed)
            {
                throw new TimeoutException(
                    $"Waited {limit.TotalSeconds:0.#} s for {count} matching events; received: {Describe(Events)}");
            }
        }
    }

    /// <summary>
    /// Asserts that no matching event arrives during <paramref name="quietPeriod"/>. This is the one place a test
    /// waits out a fixed time: absence can only be observed for a bounded while. Wait for a positive signal first
    /// (for example, another subscriber receiving the same event) so the quiet period can stay short.
    /// </summary>
    public async Task AssertNoEventDuringQuietPeriodAsync(Func<ReceivedEvent, bool> predicate, TimeSpan quietPeriod)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var unexpected = _events.Where(predicate).ToList();
                if (unexpected.Count > 0)
                {
                    throw new InvalidOperationException($"Expected no matching event, but received: {Describe(unexpected)}");
                }

                changed = _changed.Task;
            }

            var remaining = quietPeriod - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            await Task.WhenAny(changed, Task.Delay(remaining));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", deadline.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The server may already be gone (restart tests); nothing to close then.
            }
        }

        _socket.Abort();
        await _receiveLoop.ContinueWith(_ => { }, TaskScheduler.Default);
        _socket.Dispose();
        _sendLock.Dispose();
        _stop.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Close(new WebSocketException($"The server closed the connection: {result.CloseStatus} {result.CloseStatusDescription}"));
                    return;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
                message.SetLength(0);
                await HandleAsync(text);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            Close(ex);
        }
    }

    private async Task HandleAsync(string text)
    {
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        var name = root.GetProperty("event").GetString() ?? "";
        var channel = root.TryGetProperty("channel", out var c) ? c.GetString() : null;
        var data = root.TryGetProperty("data", out var d) ? (d.ValueKind == JsonValueKind.String ? d.GetString() ?? "" : d.GetRawText()) : "";

        switch (name)
        {
            case "pusher:connection_established":
                using (var established = JsonDocument.Parse(data))
                {
                    _connected.TrySetResult(established.RootElement.GetProperty("socket_id").GetString()!);
                }

                break;
            case "pusher:ping":
                await SendAsync(new JsonObject { ["event"] = "pusher:pong", ["data"] = new JsonObject() });
                break;
            case "pusher_internal:subscription_succeeded" when channel is not null:
                _subscriptions.GetOrAdd(channel, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                break;
            case "pusher:subscription_error" when channel is not null:
                _subscriptions.GetOrAdd(channel, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))
                    .TrySetException(new InvalidOperationException($"Subscribing to '{channel}' failed: {data}"));
                break;
            case "pusher:error":
                _connected.TrySetException(new InvalidOperationException($"The server sent pusher:error: {data}"));
                break;
            default:
                if (channel is not null && !name.StartsWith("pusher", StringComparison.Ordinal))
                {
                    lock (_gate)
                    {
                        _events.Add(new ReceivedEvent(channel, name, data, _events.Count));
                        Signal();
                    }
                }

                break;
        }
    }

    private async Task SendAsync(JsonObject message)
    {
        var bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _sendLock.WaitAsync(_stop.Token);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void Close(Exception reason)
    {
        _connected.TrySetException(reason);
        foreach (var subscription in _subscriptions.Values)
        {
            subscription.TrySetException(reason);
        }

        lock (_gate)
        {
            _closed = reason;
            Signal();
        }
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private static string Describe(IEnumerable<ReceivedEvent> events)
    {
        var list = events.Select(e => $"{e.Channel}/{e.Name}#{e.Sequence}").ToList();
        return list.Count == 0 ? "(none)" : string.Join(", ", list);
    }
}
