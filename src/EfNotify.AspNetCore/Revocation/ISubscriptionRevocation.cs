namespace EfNotify.AspNetCore;

/// <summary>
/// Ends what a user may no longer receive: closes the user's live connections at the Pusher server, after which EfNotify's
/// browser client reconnects and every channel is authorized again by <c>POST /pusher/auth</c>. A listener whose channel is
/// now refused is told once with <c>{ revoked: true }</c>; the user's other channels go on (after a <c>resync</c>).
/// </summary>
/// <remarks>
/// Call it after the change that takes access away has committed (a membership row deleted, a user deactivated, a tenant
/// moved), so that the new authorization reads the new state. Browsers sign in through <c>POST /pusher/user-auth</c> with the
/// user's <see cref="System.Security.Claims.ClaimTypes.NameIdentifier"/> claim, or the user's name without one; pass that id.
/// A self-hosted soketi needs <c>SOKETI_DEFAULT_APP_USER_AUTHENTICATION=true</c> (hosted Pusher always has it).
/// </remarks>
public interface ISubscriptionRevocation
{
    /// <summary>Closes every live connection of the user, so each of its subscriptions is decided again.</summary>
    /// <param name="userId">The user's id, as the browser signed in with it.</param>
    /// <param name="cancellationToken">Cancels the request to the server.</param>
    /// <returns>A task that completes when the server has accepted the request.</returns>
    /// <exception cref="ArgumentException">An empty user id, or one longer than 200 characters.</exception>
    /// <exception cref="PublishException">The server refused the request.</exception>
    /// <exception cref="HttpRequestException">The server could not be reached.</exception>
    /// <exception cref="TimeoutException">The server did not answer in time.</exception>
    Task RevokeAsync(string userId, CancellationToken cancellationToken = default);
}
