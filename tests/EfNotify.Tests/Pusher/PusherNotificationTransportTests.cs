using EfNotify.Pusher;
using Microsoft.Extensions.Options;

namespace EfNotify.Tests.Pusher;

public class PusherNotificationTransportTests
{
    private readonly RecordingHandler _handler = new();

    private PusherNotificationTransport CreateTransport(Action<PusherOptions>? change = null)
    {
        var options = Options.Create(PusherTestOptions.Create(change));
        return new PusherNotificationTransport(new PusherClient(new HttpClient(_handler), options), new PusherEncryption(options.Value));
    }

    [Fact]
    public void Limits_are_Pushers_batch_size_and_the_configured_data_size()
    {
        var transport = CreateTransport(o => o.MaxEventDataBytes = 4096);

        Assert.Equal(10, transport.MaxBatchSize);
        Assert.Equal(4096, transport.MaxEventDataBytes);
        Assert.Equal(10_240, CreateTransport().MaxEventDataBytes);
    }

    [Fact]
    public async Task One_event_goes_to_events()
    {
        await CreateTransport().PublishAsync([new OutgoingEvent("private-a", "created", "{}", "1.2")], CancellationToken.None);

        var (_, uri, body) = Assert.Single(_handler.Requests);
        Assert.Equal("/apps/3/events", uri.AbsolutePath);
        Assert.Equal("""{"name":"created","data":"{}","channels":["private-a"],"socket_id":"1.2"}""", body);
    }

    [Fact]
    public async Task Several_events_go_to_batch_events_in_one_request()
    {
        var events = Enumerable.Range(0, 10).Select(i => new OutgoingEvent($"private-{i}", "updated", $"{i}")).ToList();

        await CreateTransport().PublishAsync(events, CancellationToken.None);

        var (_, uri, body) = Assert.Single(_handler.Requests);
        Assert.Equal("/apps/3/batch_events", uri.AbsolutePath);
        Assert.StartsWith("""{"batch":[{"channel":"private-0","name":"updated","data":"0"}""", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_batch_sends_nothing()
    {
        await CreateTransport().PublishAsync([], CancellationToken.None);

        Assert.Empty(_handler.Requests);
    }

    [Fact]
    public async Task More_than_ten_events_is_a_caller_error()
    {
        var events = Enumerable.Range(0, 11).Select(i => new OutgoingEvent("c", "e", "d")).ToList();

        await Assert.ThrowsAsync<ArgumentException>(() => CreateTransport().PublishAsync(events, CancellationToken.None));
        Assert.Empty(_handler.Requests);
    }

    [Fact]
    public async Task An_event_that_cannot_be_sent_is_a_permanent_refusal()
    {
        var ex = await Assert.ThrowsAsync<PublishException>(
            () => CreateTransport().PublishAsync([new OutgoingEvent("c", "e", "d", "bogus")], CancellationToken.None));

        Assert.Equal(400, ex.StatusCode);
        Assert.False(ex.IsTransient);
    }
}
