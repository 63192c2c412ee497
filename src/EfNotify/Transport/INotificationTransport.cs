namespace EfNotify;

/// <summary>
/// Sends events to the realtime service that browsers listen on (Pusher Channels or a server speaking its protocol).
/// The dispatcher calls it with batches of at most <see cref="MaxBatchSize"/> events, in commit order.
/// </summary>
/// <remarks>
/// An implementation returns normally only when the server accepted every event of the batch. It throws a
/// <see cref="PublishException"/> when the server refused the batch, saying whether the refusal is transient
/// (retry later) or permanent, and what a permanent refusal concerns (<see cref="PublishException.Scope"/>): the events
/// (retrying them can never succeed) or the whole application (its credentials, clock or account: no event is at fault,
/// and every event succeeds once that is fixed). Network faults and timeouts may be
/// thrown as they are (<see cref="HttpRequestException"/>, <see cref="TimeoutException"/>); the dispatcher treats
/// them as transient.
/// </remarks>
public interface INotificationTransport
{
    /// <summary>The largest number of events one <see cref="PublishAsync"/> call accepts (10 for Pusher).</summary>
    int MaxBatchSize { get; }

    /// <summary>The largest event data, in UTF-8 bytes, that the server accepts (10,240 for Pusher).</summary>
    int MaxEventDataBytes { get; }

    /// <summary>Publishes the events; returns when the server accepted all of them.</summary>
    /// <param name="events">The events, at most <see cref="MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="PublishException">The server refused the batch.</exception>
    Task PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken);
}

/// <summary>One event as the transport sends it.</summary>
/// <param name="Channel">The channel name, for example <c>private-Order.42</c>.</param>
/// <param name="Name">The event name: the notification's action.</param>
/// <param name="Data">The event data: JSON text.</param>
/// <param name="SocketId">The connection that made the change, excluded from delivery; <see langword="null"/> for none.</param>
public sealed record OutgoingEvent(string Channel, string Name, string Data, string? SocketId = null);

/// <summary>Thrown by an <see cref="INotificationTransport"/> when the server refused a batch.</summary>
public sealed class PublishException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What the server said, never containing a secret.</param>
    /// <param name="statusCode">The HTTP status (or the status code in the body), if known.</param>
    /// <param name="isTransient">Whether the same events may succeed later (5xx, 429).</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public PublishException(string message, int? statusCode, bool isTransient, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        IsTransient = isTransient;
    }

    /// <summary>The HTTP status or the code the server reported in the body.</summary>
    public int? StatusCode { get; }

    /// <summary><see langword="true"/> when retrying later may succeed; <see langword="false"/> for a permanent refusal.</summary>
    public bool IsTransient { get; }

    /// <summary>
    /// What a permanent refusal concerns. <see cref="PublishRefusalScope.Application"/> pauses the dispatcher, which keeps
    /// every row pending and tries again after a backoff; <see cref="PublishRefusalScope.Event"/> dead-letters the refused
    /// events. Not read when <see cref="IsTransient"/> is <see langword="true"/>. Default: <see cref="PublishRefusalScope.Event"/>.
    /// </summary>
    public PublishRefusalScope Scope { get; init; }
}

/// <summary>What a permanent refusal by the server concerns.</summary>
public enum PublishRefusalScope
{
    /// <summary>The events of the request (too large, an invalid channel or event name): sending them again cannot succeed.</summary>
    Event,

    /// <summary>
    /// Every request of the application, whatever its events (wrong key or secret, a clock out of the server's window, an
    /// application disabled, over its quota or unknown to the server): a fault of the configuration or the account.
    /// </summary>
    Application,
}
