using Microsoft.Extensions.Logging;

namespace EfNotify.Testing;

/// <summary>Writes each event to the log instead of sending it: local development without a Pusher server.</summary>
internal sealed partial class LogNotificationTransport(ILogger<LogNotificationTransport> logger) : INotificationTransport
{
    public int MaxBatchSize => 10;

    public int MaxEventDataBytes => 10_240;

    public Task PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        foreach (var e in events)
        {
            Published(e.Channel, e.Name, e.Data);
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "EfNotify event '{Event}' on {Channel}: {Data}")]
    private partial void Published(string channel, string @event, string data);
}
