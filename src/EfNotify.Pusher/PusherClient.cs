using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace EfNotify.Pusher;

/// <summary>
/// A small client for the Pusher Channels HTTP API (and servers speaking it, such as soketi): it signs each request
/// with the application secret and turns refusals into <see cref="PublishException"/>.
/// </summary>
/// <remarks>
/// Registered as a typed <see cref="HttpClient"/> by <c>AddPusher</c>. Refusals are read from the HTTP status and from a
/// JSON body <c>{"error":..,"code":..}</c>, because soketi answers HTTP 200 with the real code in the body.
/// Network faults surface as <see cref="HttpRequestException"/> and time-outs as <see cref="TimeoutException"/>.
/// The secret never appears in a URL, an exception message or a log.
/// </remarks>
public sealed class PusherClient
{
    private const int MaxErrorTextLength = 300;

    private readonly HttpClient _httpClient;
    private readonly PusherOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly Uri _baseUri;

    /// <summary>Creates the client.</summary>
    /// <param name="httpClient">The HTTP client to send with; its <see cref="HttpClient.BaseAddress"/> is not used.</param>
    /// <param name="options">Where the server is and the application's credentials.</param>
    /// <param name="timeProvider">The clock for request timestamps and time-outs; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public PusherClient(HttpClient httpClient, IOptions<PusherOptions> options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        _httpClient = httpClient;
        _options = options.Value;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _baseUri = PusherUrls.GetApiBaseUri(_options);
    }

    /// <summary>Publishes one event on one or more channels (<c>POST /apps/{app_id}/events</c>).</summary>
    /// <param name="channels">The channels; Pusher accepts at most 100 and refuses more with 400.</param>
    /// <param name="eventName">The event name.</param>
    /// <param name="data">The event data, usually JSON text.</param>
    /// <param name="socketId">A connection to exclude from delivery, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="ArgumentException">No channels, an empty event name, or a malformed <paramref name="socketId"/>.</exception>
    /// <exception cref="PublishException">The server refused the event.</exception>
    /// <exception cref="HttpRequestException">The server could not be reached.</exception>
    /// <exception cref="TimeoutException">No answer within <see cref="PusherOptions.RequestTimeout"/>.</exception>
    public async Task TriggerAsync(
        IReadOnlyList<string> channels,
        string eventName,
        string data,
        string? socketId = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentNullException.ThrowIfNull(data);
        if (channels.Count == 0)
        {
            throw new ArgumentException("At least one channel is required.", nameof(channels));
        }

        if (socketId is not null)
        {
            PusherNames.ValidateSocketId(socketId, nameof(socketId));
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(
            new TriggerRequest { Name = eventName, Data = data, Channels = channels, SocketId = socketId },
            PusherJsonContext.Default.TriggerRequest);
        await SendAsync(HttpMethod.Post, $"/apps/{_options.AppId}/events", [], body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes several events in one request (<c>POST /apps/{app_id}/batch_events</c>), in order.</summary>
    /// <param name="events">The events; Pusher accepts at most 10 and refuses more with 400.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="ArgumentException">No events, an event with an empty name, or a malformed socket id.</exception>
    /// <exception cref="PublishException">The server refused the batch (it accepts all events or none).</exception>
    /// <exception cref="HttpRequestException">The server could not be reached.</exception>
    /// <exception cref="TimeoutException">No answer within <see cref="PusherOptions.RequestTimeout"/>.</exception>
    public async Task TriggerBatchAsync(IReadOnlyList<PusherEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            throw new ArgumentException("At least one event is required.", nameof(events));
        }

        var items = new BatchItem[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i] ?? throw new ArgumentException($"Event {i} is null.", nameof(events));
            ArgumentException.ThrowIfNullOrEmpty(e.Channel, nameof(events));
            ArgumentException.ThrowIfNullOrEmpty(e.Name, nameof(events));
            ArgumentNullException.ThrowIfNull(e.Data, nameof(events));
            if (e.SocketId is not null)
            {
                PusherNames.ValidateSocketId(e.SocketId, nameof(events));
            }

            items[i] = new BatchItem { Channel = e.Channel, Name = e.Name, Data = e.Data, SocketId = e.SocketId };
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(new BatchRequest { Batch = items }, PusherJsonContext.Default.BatchRequest);
        await SendAsync(HttpMethod.Post, $"/apps/{_options.AppId}/batch_events", [], body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads whether a channel is occupied and how many connections are subscribed
    /// (<c>GET /apps/{app_id}/channels/{channel_name}</c> with <c>info=subscription_count</c>, plus <c>user_count</c>
    /// for presence channels). At hosted Pusher the subscription count must be enabled in the app settings.
    /// </summary>
    /// <param name="channelName">The channel name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The channel's state.</returns>
    /// <exception cref="ArgumentException">The channel name breaks Pusher's grammar.</exception>
    /// <exception cref="PublishException">The server refused the request.</exception>
    /// <exception cref="HttpRequestException">The server could not be reached.</exception>
    /// <exception cref="TimeoutException">No answer within <see cref="PusherOptions.RequestTimeout"/>.</exception>
    public async Task<PusherChannelInfo> GetChannelAsync(string channelName, CancellationToken cancellationToken = default)
    {
        PusherNames.ValidateChannelName(channelName, nameof(channelName));
        var info = channelName.StartsWith("presence-", StringComparison.Ordinal) ? "subscription_count,user_count" : "subscription_count";
        var text = await SendAsync(
            HttpMethod.Get,
            $"/apps/{_options.AppId}/channels/{channelName}",
            [new("info", info)],
            null,
            cancellationToken).ConfigureAwait(false);

        var response = JsonSerializer.Deserialize(text, PusherJsonContext.Default.ChannelResponse)
            ?? throw new PublishException("The server answered the channel query with an empty body.", null, isTransient: false);
        return new PusherChannelInfo(response.Occupied, response.SubscriptionCount, response.UserCount);
    }

    /// <summary>
    /// Closes every connection of a signed-in user (<c>POST /apps/{app_id}/users/{user_id}/terminate_connections</c>).
    /// Browsers sign in through pusher-js's user authentication; pusher-js does not reconnect by itself after this,
    /// EfNotify's browser client does, and each channel is then authorized again.
    /// </summary>
    /// <param name="userId">The user id the browser signed in with (the <c>id</c> of its <c>user_data</c>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="ArgumentException">An empty user id, or one longer than 200 characters.</exception>
    /// <exception cref="PublishException">The server refused the request.</exception>
    /// <exception cref="HttpRequestException">The server could not be reached.</exception>
    /// <exception cref="TimeoutException">No answer within <see cref="PusherOptions.RequestTimeout"/>.</exception>
    public async Task TerminateUserConnectionsAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (userId.Length > 200)
        {
            throw new ArgumentException("A user id is at most 200 characters.", nameof(userId));
        }

        await SendAsync(
            HttpMethod.Post,
            $"/apps/{_options.AppId}/users/{Uri.EscapeDataString(userId)}/terminate_connections",
            [],
            "{}"u8.ToArray(),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Signs and sends one request; returns the body of an accepted response.</summary>
    internal async Task<string> SendAsync(
        HttpMethod method,
        string path,
        IReadOnlyList<KeyValuePair<string, string>> parameters,
        byte[]? body,
        CancellationToken cancellationToken)
    {
        var query = PusherSignature.SignedQuery(
            method.Method, path, _options.Key, _options.Secret, _timeProvider.GetUtcNow(), parameters, body, body is not null);
        using var request = new HttpRequestMessage(method, new Uri(_baseUri, path + "?" + query));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _httpClient.SendAsync(request, linked.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
            ThrowIfRefused((int)response.StatusCode, text, _options.Secret);
            return text;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Both our own time-out and HttpClient.Timeout end here; the caller did not cancel.
            throw new TimeoutException(
                string.Create(CultureInfo.InvariantCulture, $"{method.Method} {path} got no answer within {_options.RequestTimeout.TotalSeconds:0.###} s."),
                ex);
        }
    }

    /// <summary>Throws <see cref="PublishException"/> when the status or the JSON body says the request was refused.</summary>
    internal static void ThrowIfRefused(int httpStatus, string body, string secret)
    {
        var (error, bodyCode) = ReadError(body);
        var succeeded = httpStatus is >= 200 and < 300;
        if (succeeded && error is null)
        {
            return;
        }

        // A real status wins; with HTTP 200 (soketi) the code in the body is the only one there is.
        int? code = succeeded ? bodyCode : httpStatus;
        var reason = error ?? (string.IsNullOrWhiteSpace(body) ? "(empty body)" : Shorten(body));
        var message = code is null
            ? $"The Pusher server refused the request: {reason}"
            : string.Create(CultureInfo.InvariantCulture, $"The Pusher server refused the request with {code}: {reason}");
        throw new PublishException(Redact(message, secret), code, IsTransient(code));
    }

    internal static bool IsTransient(int? code) => code is 408 or 429 or >= 500;

    private static (string? Error, int? Code) ReadError(string body)
    {
        if (string.IsNullOrWhiteSpace(body) || body.TrimStart()[0] != '{')
        {
            return (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (!root.TryGetProperty("error", out var error) || error.ValueKind is JsonValueKind.Null or JsonValueKind.False)
            {
                return (null, null);
            }

            var text = error.ValueKind == JsonValueKind.String ? error.GetString() ?? "" : error.GetRawText();
            int? code = root.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var n) ? n : null;
            return (Shorten(text), code);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static string Shorten(string text)
    {
        text = text.Trim();
        return text.Length <= MaxErrorTextLength ? text : text[..MaxErrorTextLength] + "...";
    }

    private static string Redact(string message, string secret) =>
        string.IsNullOrEmpty(secret) ? message : message.Replace(secret, "***", StringComparison.Ordinal);
}
