using EfNotify.Pusher;
using Microsoft.Extensions.Logging;

namespace EfNotify.AspNetCore.Revocation;

internal sealed partial class SubscriptionRevocation(PusherClient client, ILogger<SubscriptionRevocation> logger) : ISubscriptionRevocation
{
    public async Task RevokeAsync(string userId, CancellationToken cancellationToken = default)
    {
        await client.TerminateUserConnectionsAsync(userId, cancellationToken).ConfigureAwait(false);
        LogRevoked(logger, userId);
    }

    [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "Closed the live connections of user {UserId}; their channels are authorized again")]
    private static partial void LogRevoked(ILogger logger, string userId);
}
