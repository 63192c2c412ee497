namespace EfNotify;

/// <summary>
/// Tells EfNotify who makes the current change and from which browser connection. The ASP.NET Core package
/// reads both from the current request; register your own implementation to supply them elsewhere.
/// </summary>
public interface INotifierContext
{
    /// <summary>The notifier's user name, sent in every message as <c>by</c>; <see langword="null"/> when unknown.</summary>
    string? UserName { get; }

    /// <summary>
    /// The Pusher socket id of the browser connection that made the change (the <c>X-Socket-ID</c> request header);
    /// that connection does not receive its own notification. <see langword="null"/> for none.
    /// </summary>
    string? SocketId { get; }
}

internal sealed class NullNotifierContext : INotifierContext
{
    public static readonly NullNotifierContext Instance = new();

    public string? UserName => null;

    public string? SocketId => null;
}
