using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.IntegrationTests.Pusher;

public sealed class PusherServerDownTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [SoketiFact]
    public async Task A_stopped_server_is_a_network_fault_and_a_restarted_one_on_the_same_port_delivers_again()
    {
        await using var server = await SoketiServer.StartAsync();
        var client = server.CreateClient();
        var channel = "private-restart-" + Guid.NewGuid().ToString("N")[..8];
        var port = server.Port;

        await server.StopAsync();
        await Assert.ThrowsAsync<HttpRequestException>(() => client.TriggerAsync([channel], "lost", "{}"));

        await server.RestartAsync();
        Assert.Equal(port, server.Port);
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync(channel);
        await client.TriggerAsync([channel], "back", "{}");

        await subscriber.WaitForEventAsync(e => e.Name == "back", Deadline);
    }
}
