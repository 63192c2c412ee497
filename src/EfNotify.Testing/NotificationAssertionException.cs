namespace EfNotify.Testing;

/// <summary>Thrown by <see cref="InMemoryNotifications"/> when an expected notification did not come, or an unexpected one did.</summary>
public sealed class NotificationAssertionException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was expected and what was published.</param>
    public NotificationAssertionException(string message)
        : base(message)
    {
    }
}
