namespace EfNotify.Pusher;

/// <summary>The state of one channel, as returned by <see cref="PusherClient.GetChannelAsync"/>.</summary>
/// <param name="Occupied">Whether at least one connection is subscribed.</param>
/// <param name="SubscriptionCount">The number of subscribed connections, if the server reports it.</param>
/// <param name="UserCount">The number of distinct users of a presence channel; <see langword="null"/> for other channels.</param>
internal sealed record PusherChannelInfo(bool Occupied, int? SubscriptionCount, int? UserCount);
