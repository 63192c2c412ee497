namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>A transport that accepts every batch and keeps what it was given, for tests about what is published.</summary>
public sealed class RecordingTransport : INotificationTransport
{
    private readonly List<OutgoingEvent> _events = [];

    public int MaxBatchSize => 10;

    public int MaxEventDataBytes => 10_240;

    public IReadOnlyList<OutgoingEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public Task PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        lock (_events)
        {
            _events.AddRange(events);
        }

        return Task.CompletedTask;
    }
}
