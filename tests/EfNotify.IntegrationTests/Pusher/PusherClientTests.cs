using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Pusher;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EfNotify.IntegrationTests.Pusher;

[Collection(SoketiCollection.Name)]
public sealed class PusherClientTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    // Short on purpose: it starts only after another subscriber already received the same event.
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromMilliseconds(300);

    private readonly SoketiServer _server;
    private readonly string _channel = "private-test-" + Guid.NewGuid().ToString("N")[..12];
    private PusherTestSubscriber? _subscriber;

    public PusherClientTests(SoketiServer server) => _server = server;

    private PusherTestSubscriber Subscriber => _subscriber!;

    public async Task InitializeAsync()
    {
        if (SoketiServer.UnavailableReason is not null && !SoketiServer.IsCi)
        {
            return;
        }

        _subscriber = await PusherTestSubscriber.ConnectAsync(_server);
        await _subscriber.SubscribeAsync(_channel);
    }

    public async Task DisposeAsync()
    {
        if (_subscriber is not null)
        {
            await _subscriber.DisposeAsync();
        }
    }

    [SoketiFact]
    public async Task Trigger_on_a_private_channel_reaches_the_subscriber()
    {
        await _server.CreateClient().TriggerAsync([_channel], "order.updated", """{"id":42}""");

        var received = await Subscriber.WaitForEventAsync(e => e.Name == "order.updated", Deadline);
        Assert.Equal(_channel, received.Channel);
        Assert.Equal("""{"id":42}""", received.Data);
    }

    [SoketiFact]
    public async Task A_batch_of_ten_arrives_in_order()
    {
        var events = Enumerable.Range(0, 10).Select(i => new OutgoingEvent(_channel, "batched", $$"""{"n":{{i}}}""")).ToList();

        await _server.CreateClient().TriggerBatchAsync(events);

        var received = await Subscriber.WaitForEventsAsync(10, e => e.Name == "batched", Deadline);
        Assert.Equal(events.Select(e => e.Data), received.Select(e => e.Data));
    }

    [SoketiFact]
    public async Task A_batch_of_eleven_is_refused_permanently_with_400()
    {
        var events = Enumerable.Range(0, 11).Select(i => new OutgoingEvent(_channel, "too-many", $"{i}")).ToList();

        var ex = await Assert.ThrowsAsync<PublishException>(() => _server.CreateClient().TriggerBatchAsync(events));

        Assert.Equal(400, ex.StatusCode);
        Assert.False(ex.IsTransient);
        Assert.Equal(PublishRefusalScope.Event, ex.Scope);
    }

    [SoketiFact]
    public async Task A_wrong_secret_is_refused_permanently_with_401_even_though_soketi_answers_http_200()
    {
        const string wrongSecret = "efnotify-wrong-secret-value";

        var ex = await Assert.ThrowsAsync<PublishException>(
            () => _server.CreateClient(o => o.Secret = wrongSecret).TriggerAsync([_channel], "e", "{}"));

        Assert.Equal(401, ex.StatusCode);
        Assert.False(ex.IsTransient);
        Assert.Equal(PublishRefusalScope.Application, ex.Scope); // issue 17: pauses, never dead-letters
        Assert.DoesNotContain(wrongSecret, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_server.Secret, ex.ToString(), StringComparison.Ordinal);
    }

    [SoketiFact]
    public async Task An_unknown_app_is_refused_permanently_with_404()
    {
        var ex = await Assert.ThrowsAsync<PublishException>(
            () => _server.CreateClient(o => o.AppId = "efnotify-no-such-app").TriggerAsync([_channel], "e", "{}"));

        Assert.Equal(404, ex.StatusCode);
        Assert.False(ex.IsTransient);
        Assert.Equal(PublishRefusalScope.Application, ex.Scope);
    }

    [SoketiFact]
    public async Task The_socket_id_given_is_excluded_while_other_subscribers_still_receive()
    {
        await using var other = await PusherTestSubscriber.ConnectAsync(_server);
        await other.SubscribeAsync(_channel);

        await _server.CreateClient().TriggerAsync([_channel], "echo", "{}", socketId: Subscriber.SocketId);

        await other.WaitForEventAsync(e => e.Name == "echo", Deadline);
        await Subscriber.AssertNoEventDuringQuietPeriodAsync(e => e.Name == "echo", QuietPeriod);
    }

    [SoketiFact]
    public async Task GetChannelAsync_reports_the_subscriptions()
    {
        var client = _server.CreateClient();

        var info = await client.GetChannelAsync(_channel);
        var empty = await client.GetChannelAsync("private-nobody-" + Guid.NewGuid().ToString("N")[..8]);

        Assert.Equal(new PusherChannelInfo(true, 1, null), info);
        Assert.False(empty.Occupied);
    }

    [SoketiFact]
    public async Task The_transport_registered_by_AddPusher_publishes_single_events_and_batches()
    {
        var services = new ServiceCollection();
        new EfNotifyBuilder(services).AddPusher(o =>
        {
            var options = _server.Options;
            (o.AppId, o.Key, o.Secret, o.Host, o.Port, o.UseTls) = (options.AppId, options.Key, options.Secret, options.Host, options.Port, options.UseTls);
        });
        await using var provider = services.BuildServiceProvider();
        var transport = provider.GetRequiredService<INotificationTransport>();

        await transport.PublishAsync([new OutgoingEvent(_channel, "single", "0")], CancellationToken.None);
        await transport.PublishAsync([new OutgoingEvent(_channel, "many", "1"), new OutgoingEvent(_channel, "many", "2")], CancellationToken.None);

        var received = await Subscriber.WaitForEventsAsync(3, e => e.Name is "single" or "many", Deadline);
        Assert.Equal(["0", "1", "2"], received.Select(e => e.Data));
    }

    [SoketiFact]
    public async Task Publishing_writes_no_Information_lines_from_the_HTTP_client_issue_14()
    {
        var logs = new CategoryLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        new EfNotifyBuilder(services).AddPusher(o =>
        {
            var options = _server.Options;
            (o.AppId, o.Key, o.Secret, o.Host, o.Port, o.UseTls) = (options.AppId, options.Key, options.Secret, options.Host, options.Port, options.UseTls);
        });
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredService<INotificationTransport>().PublishAsync([new OutgoingEvent(_channel, "quiet", "0")], CancellationToken.None);

        await Subscriber.WaitForEventsAsync(1, e => e.Name == "quiet", Deadline);
        Assert.DoesNotContain(logs.Entries, e => e.Category.StartsWith("System.Net.Http", StringComparison.Ordinal) && e.Level < LogLevel.Warning);
    }

    private sealed class CategoryLoggerProvider : ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(string Category, LogLevel Level)> _entries = new();

        public IEnumerable<(string Category, LogLevel Level)> Entries => _entries;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CategoryLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => owner._entries.Enqueue((category, logLevel));
        }
    }
}
