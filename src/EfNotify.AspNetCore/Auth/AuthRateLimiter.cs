using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace EfNotify.AspNetCore.Auth;

/// <summary>
/// One token bucket per user, from System.Threading.RateLimiting (the limiters behind ASP.NET Core's rate limiting
/// middleware), checked by the endpoints themselves so that the limit holds without <c>app.UseRateLimiter()</c>.
/// </summary>
internal sealed class AuthRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<HttpContext>? _limiter;

    public AuthRateLimiter(IOptions<EfNotifyAspNetCoreOptions> options)
    {
        var settings = options.Value.AuthRateLimit;
        if (!settings.Enabled)
        {
            return;
        }

        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = settings.PermitLimit,
            TokensPerPeriod = settings.PermitLimit,
            ReplenishmentPeriod = settings.Window,
            QueueLimit = 0,
            AutoReplenishment = false, // the partitioned limiter's one timer refills every user's bucket: no timer per user
        };
        _limiter = PartitionedRateLimiter.Create<HttpContext, string>(
            context => RateLimitPartition.GetTokenBucketLimiter(PartitionKey(context), _ => bucket));
    }

    /// <summary>Takes one permit; <see langword="false"/> with the time to wait when the user is over the limit.</summary>
    public bool TryAcquire(HttpContext context, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (_limiter is null)
        {
            return true;
        }

        using var lease = _limiter.AttemptAcquire(context);
        if (lease.IsAcquired)
        {
            return true;
        }

        if (lease.TryGetMetadata(MetadataName.RetryAfter, out var wait))
        {
            retryAfter = wait;
        }

        return false;
    }

    public void Dispose() => _limiter?.Dispose();

    private static string PartitionKey(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true
            ? "user:" + UserIds.Of(context.User)
            : "address:" + context.Connection.RemoteIpAddress;
}

/// <summary>The id a user signs in to Pusher with and appears under in presence channels.</summary>
internal static class UserIds
{
    /// <summary>The <see cref="ClaimTypes.NameIdentifier"/> claim, else the user's name, else empty.</summary>
    public static string Of(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.Identity?.Name ?? "";
}
