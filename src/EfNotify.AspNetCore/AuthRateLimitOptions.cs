namespace EfNotify.AspNetCore;

/// <summary>
/// The per-user rate limit of <c>POST /pusher/auth</c> and <c>POST /pusher/user-auth</c>, bound from
/// <c>EfNotify:AspNetCore:AuthRateLimit</c>. A token bucket per user (per remote address for anonymous requests): up to
/// <see cref="PermitLimit"/> requests at once, refilled by <see cref="PermitLimit"/> every <see cref="Window"/>. A request
/// over the limit is answered 429 with <c>Retry-After</c> and counted in <c>efnotify.auth.denied</c>
/// (reason <c>rate_limited</c>).
/// </summary>
/// <remarks>
/// The limit is checked inside the endpoints, after authentication has set the user, so it needs no
/// <c>app.UseRateLimiter()</c> and applies wherever the endpoints are mapped. pusher-js asks once per channel on every
/// (re)connection, so the default leaves room for a page with a hundred channels reconnecting at once.
/// </remarks>
public sealed class AuthRateLimitOptions
{
    /// <summary>Whether the limit applies. Default: <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests a user may make at once, and how many are given back every <see cref="Window"/>. Default: 100.</summary>
    public int PermitLimit { get; set; } = 100;

    /// <summary>How often <see cref="PermitLimit"/> requests are given back. Default: 10 seconds (10 requests/s sustained).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);
}
