using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.IntegrationTests.Pusher;

public sealed class PusherEventSizeTests
{
    [SoketiFact]
    public async Task Event_data_over_the_servers_limit_is_refused_permanently_with_413()
    {
        await using var server = await SoketiServer.StartAsync(new SoketiSettings { EventMaxSizeInKb = 10 });
        var client = server.CreateClient();
        var channel = "private-size-" + Guid.NewGuid().ToString("N")[..8];

        await client.TriggerAsync([channel], "small", new string('a', 9 * 1024));
        var ex = await Assert.ThrowsAsync<PublishException>(() => client.TriggerAsync([channel], "large", new string('a', 12 * 1024)));

        Assert.Equal(413, ex.StatusCode);
        Assert.False(ex.IsTransient);
        Assert.Equal(PublishRefusalScope.Event, ex.Scope);
    }
}
