using System.Diagnostics;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Pusher;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EfNotify.IntegrationTests.Pusher;

/// <summary>
/// Issue 13: soketi closes every connection after its answer, so each publish needs a new one; the client registered by
/// AddPusher keeps spare connections opened ahead, so behind a real network a publish does not wait for a connect.
/// </summary>
[Collection(SoketiCollection.Name)]
public sealed class SpareConnectionTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly SoketiServer _server;
    private readonly string _channel = "private-spare-" + Guid.NewGuid().ToString("N")[..12];
    private PusherTestSubscriber? _subscriber;
    private ConnectionRecorder? _recorder;

    public SpareConnectionTests(SoketiServer server) => _server = server;

    private PusherTestSubscriber Subscriber => _subscriber!;

    private ConnectionRecorder Recorder => _recorder!;

    public async Task InitializeAsync()
    {
        if (SoketiServer.UnavailableReason is not null && !SoketiServer.IsCi)
        {
            return;
        }

        _recorder = new ConnectionRecorder(_server.Port);
        _subscriber = await PusherTestSubscriber.ConnectAsync(_server);
        await _subscriber.SubscribeAsync(_channel);
    }

    public async Task DisposeAsync()
    {
        if (_subscriber is not null)
        {
            await _subscriber.DisposeAsync();
        }

        if (_recorder is not null)
        {
            await _recorder.DisposeAsync();
        }
    }

    [SoketiFact]
    public async Task Issue_13_a_publish_after_another_goes_on_a_connection_opened_before_it_was_sent()
    {
        await using var services = Services();
        var client = await PublishOnceAsync(services);

        var sentAt = Stopwatch.GetTimestamp();
        await client.TriggerAsync([_channel], "second", "{}");

        await Subscriber.WaitForEventAsync(e => e.Name == "second", Deadline);
        var carrier = Assert.Single(Recorder.Connections, c => c.FirstBytesAt > sentAt);
        Assert.True(carrier.AcceptedAt < sentAt, "the second publish waited for a connect of its own");
        var first = Assert.Single(Recorder.Connections, c => c.FirstBytesAt < sentAt);
        await Eventually.UntilAsync(() => !first.IsOpen, Deadline, "soketi closing the first publish's connection (else this test proves nothing)");
    }

    [SoketiFact]
    public async Task Issue_13_a_spare_the_server_closed_while_idle_does_not_fail_a_publish()
    {
        await using var services = Services();
        var client = await PublishOnceAsync(services);
        var closed = Recorder.Idle;

        Recorder.CloseIdle();
        await client.TriggerAsync([_channel], "after-close", "{}");

        await Subscriber.WaitForEventAsync(e => e.Name == "after-close", Deadline);
        Assert.All(closed, c => Assert.Null(c.FirstBytesAt));
    }

    [SoketiFact]
    public async Task Stopping_the_application_closes_its_spare_connections()
    {
        var services = Services();
        await PublishOnceAsync(services);

        await services.DisposeAsync();

        await Eventually.UntilAsync(() => Recorder.Connections.All(c => !c.IsOpen), Deadline, "every connection of the client closed");
    }

    [SoketiFact]
    public async Task A_spare_nobody_takes_is_closed_after_a_few_seconds_without_anything_published()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow); // soketi checks the signed timestamp
        await using var services = Services(time);
        await PublishOnceAsync(services);

        time.Advance(SpareConnections.MaxAge);

        await Eventually.UntilAsync(() => Recorder.Connections.All(c => !c.IsOpen), Deadline, "the idle spare closed");
    }

    /// <summary>Publishes once through the client of <paramref name="services"/>, then waits for a spare connection.</summary>
    private async Task<PusherClient> PublishOnceAsync(ServiceProvider services)
    {
        var client = services.GetRequiredService<PusherClient>();
        await client.TriggerAsync([_channel], "first", "{}");
        await Eventually.UntilAsync(() => Recorder.Idle.Count > 0, Deadline, "a spare connection opened after the first publish");
        return client;
    }

    private ServiceProvider Services(TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        new EfNotifyBuilder(services).AddPusher(o =>
        {
            var server = _server.Options;
            (o.AppId, o.Key, o.Secret, o.Host, o.Port, o.UseTls) = (server.AppId, server.Key, server.Secret, server.Host, Recorder.Port, false);
        });
        return services.BuildServiceProvider(validateScopes: true);
    }
}
