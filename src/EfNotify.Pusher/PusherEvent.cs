namespace EfNotify.Pusher;

/// <summary>One event of a <see cref="PusherClient.TriggerBatchAsync"/> call.</summary>
/// <param name="Channel">The channel to publish on, for example <c>private-Order.42</c>.</param>
/// <param name="Name">The event name (at most 200 characters at Pusher).</param>
/// <param name="Data">The event data as a string, usually JSON text; browsers receive it parsed.</param>
/// <param name="SocketId">A connection to exclude from delivery (the one that caused the change); <see langword="null"/> for none.</param>
public sealed record PusherEvent(string Channel, string Name, string Data, string? SocketId = null);

/// <summary>The state of one channel, as returned by <see cref="PusherClient.GetChannelAsync"/>.</summary>
/// <param name="Occupied">Whether at least one connection is subscribed.</param>
/// <param name="SubscriptionCount">The number of subscribed connections, if the server reports it.</param>
/// <param name="UserCount">The number of distinct users of a presence channel; <see langword="null"/> for other channels.</param>
public sealed record PusherChannelInfo(bool Occupied, int? SubscriptionCount, int? UserCount);
