using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using EfNotify.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EfNotify.Pusher;

/// <summary>
/// A small client for the Pusher Channels HTTP API (and servers speaking it, such as soketi): it signs each request
/// with the application secret and turns refusals into <see cref="PublishException"/>.
/// </summary>
/// <remarks>
/// Registered as a typed <see cref="HttpClient"/> by <c>AddPusher</c>. Refusals are read from the HTTP status and from a
/// JSON body <c>{"error":..,"code":..}</c>, because soketi answers HTTP 200 with the real code in the body; a refusal that
/// concerns the application rather than the events (a wrong key or secret, an expired timestamp, an application disabled,
/// over its quota or unknown) says so in <see cref="PublishException.Scope"/>.
/// Network faults surface as <see cref="HttpRequestException"/> and time-outs as <see cref="TimeoutException"/>.
/// The options are read on every request, so a configuration reload (a corrected or rotated secret) applies to the next.
/// The secret never appears in a URL, an exception message or a log.
/// </remarks>
internal sealed class PusherClient
{
    private readonly HttpClient _httpClient;
    private readonly IOptionsMonitor<PusherOptions> _options;
    private readonly TimeProvider _timeProvider;
    private Resolved? _current;

    /// <summary>Creates a client whose options never change.</summary>
    /// <param name="httpClient">The HTTP client to send with; its <see cref="HttpClient.BaseAddress"/> is not used.</param>
    /// <param name="options">Where the server is and the application's credentials.</param>
    /// <param name="timeProvider">The clock for request timestamps and time-outs; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public PusherClient(HttpClient httpClient, IOptions<PusherOptions> options, TimeProvider? timeProvider = null)
        : this(httpClient, new FixedOptionsMonitor<PusherOptions>(options ?? throw new ArgumentNullException(nameof(options))), timeProvider)
    {
    }

    /// <summary>Creates a client that reads its options again for every request.</summary>
    /// <param name="httpClient">The HTTP client to send with; its <see cref="HttpClient.BaseAddress"/> is not used.</param>
    /// <param name="options">Where the server is and the application's credentials, as currently configured.</param>
    /// <param name="timeProvider">The clock for request timestamps and time-outs; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    [ActivatorUtilitiesConstructor]
    public PusherClient(HttpClient httpClient, IOptionsMonitor<PusherOptions> options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        _httpClient = httpClient;
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
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
            PusherProtocol.ValidateSocketId(socketId, nameof(socketId));
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(
            new TriggerRequest { Name = eventName, Data = data, Channels = channels, SocketId = socketId },
            PusherJsonContext.Default.TriggerRequest);
        await SendAsync(HttpMethod.Post, AppPath("events"), [], body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes several events in one request (<c>POST /apps/{app_id}/batch_events</c>), in order.</summary>
    /// <param name="events">The events; Pusher accepts at most 10 and refuses more with 400.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="ArgumentException">No events, an event with an empty name, or a malformed socket id.</exception>
    /// <exception cref="PublishException">The server refused the batch (it accepts all events or none).</exception>
    /// <exception cref="HttpRequestException">The server could not be reached.</exception>
    /// <exception cref="TimeoutException">No answer within <see cref="PusherOptions.RequestTimeout"/>.</exception>
    public async Task TriggerBatchAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken = default)
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
                PusherProtocol.ValidateSocketId(e.SocketId, nameof(events));
            }

            items[i] = new BatchItem { Channel = e.Channel, Name = e.Name, Data = e.Data, SocketId = e.SocketId };
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(new BatchRequest { Batch = items }, PusherJsonContext.Default.BatchRequest);
        await SendAsync(HttpMethod.Post, AppPath("batch_events"), [], body, cancellationToken).ConfigureAwait(false);
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
        PusherProtocol.ValidateChannelName(channelName, nameof(channelName));
        var info = PusherProtocol.IsPresence(channelName) ? "subscription_count,user_count" : "subscription_count";
        var text = await SendAsync(
            HttpMethod.Get,
            AppPath($"channels/{channelName}"),
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
            AppPath($"users/{Uri.EscapeDataString(userId)}/terminate_connections"),
            [],
            "{}"u8.ToArray(),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The options as currently configured; a configuration reloaded into invalid settings refuses every request.</summary>
    /// <exception cref="PublishException">The settings are not valid (a refusal that concerns the application).</exception>
    internal Resolved Current()
    {
        PusherOptions options;
        try
        {
            options = _options.CurrentValue;
        }
        catch (OptionsValidationException ex)
        {
            throw new PublishException($"The Pusher settings are not valid: {ex.Message}", null, isTransient: false, ex)
            {
                Scope = PublishRefusalScope.Application,
            };
        }

        // The monitor hands out the same instance until the configuration changes.
        var current = _current;
        if (current is null || !ReferenceEquals(current.Options, options))
        {
            current = new Resolved(options, PusherUrls.GetApiBaseUri(options));
            _current = current;
        }

        return current;
    }

    /// <summary><c>/apps/{app_id}/{resource}</c>, with the application id as currently configured.</summary>
    internal string AppPath(string resource) => $"/apps/{Current().Options.AppId}/{resource}";

    /// <summary>Signs and sends one request with the options as currently configured; returns the body of an accepted response.</summary>
    internal async Task<string> SendAsync(
        HttpMethod method,
        string path,
        IReadOnlyList<KeyValuePair<string, string>> parameters,
        byte[]? body,
        CancellationToken cancellationToken)
    {
        var (options, baseUri) = Current();
        var query = PusherSignature.SignedQuery(
            method.Method, path, options.Key, options.SigningSecret, _timeProvider.GetUtcNow(), parameters, body, body is not null);
        using var request = new HttpRequestMessage(method, new Uri(baseUri, path + "?" + query));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var timeout = new CancellationTokenSource(options.RequestTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _httpClient.SendAsync(request, linked.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
            PusherRefusals.ThrowIfRefused((int)response.StatusCode, text, options);
            return text;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Both our own time-out and HttpClient.Timeout end here; the caller did not cancel.
            throw new TimeoutException(
                string.Create(CultureInfo.InvariantCulture, $"{method.Method} {path} got no answer within {options.RequestTimeout.TotalSeconds:0.###} s."),
                ex);
        }
    }

    /// <summary>Options and the API address built from them.</summary>
    internal sealed record Resolved(PusherOptions Options, Uri BaseUri);
}
