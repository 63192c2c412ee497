using EfNotify.AspNetCore.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the endpoints browsers connect, subscribe and sign in through.</summary>
public static class EfNotifyEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>GET {pattern}/key</c> (how pusher-js connects), <c>POST {pattern}/auth</c> (signs a private, presence or
    /// encrypted channel subscription once the user may read the channel's object) and <c>POST {pattern}/user-auth</c>
    /// (pusher-js's sign-in, which makes <see cref="EfNotify.AspNetCore.ISubscriptionRevocation"/> possible).
    /// </summary>
    /// <remarks>
    /// The endpoints decide access themselves, with the rules given to <c>AddAspNetCore</c>: an unauthenticated request gets
    /// 401 rather than a login redirect, every refusal of a well-formed request the same bare 403, a user over the rate limit
    /// 429. An application's fallback authorization policy therefore does not apply to them; conventions added to the
    /// returned group do (<c>RequireAuthorization</c>, <c>RequireRateLimiting</c>, <c>RequireCors</c>, ...). With another
    /// <paramref name="pattern"/>, give efnotify.js's <c>connect</c> the matching <c>keyUrl</c>; <c>{pattern}/key</c> names
    /// the other two endpoints itself.
    /// </remarks>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The route prefix, a literal path. Default: <c>/pusher</c>.</param>
    /// <returns>The route group of the three endpoints, for further conventions.</returns>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is empty.</exception>
    /// <exception cref="InvalidOperationException"><c>AddEfNotify(...).AddPusher().AddAspNetCore&lt;TContext&gt;()</c> was not called.</exception>
    public static RouteGroupBuilder MapEfNotify(this IEndpointRouteBuilder endpoints, string pattern = "/pusher")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var mapped = endpoints.ServiceProvider.GetService<EndpointsMapped>()
            ?? throw new InvalidOperationException(
                "MapEfNotify needs EfNotify's services: call builder.Services.AddEfNotify<TContext>().AddPusher().AddAspNetCore<TContext>(...) first.");
        mapped.Mark();

        var prefix = "/" + pattern.Trim('/');
        var group = endpoints.MapGroup(prefix)
            .RequireAuthorization(DecidedByTheEndpoint) // keeps a fallback policy (and its login redirect) away; the app's policies add to it
            .DisableAntiforgery()
            .ExcludeFromDescription();
        group.MapGet("/key", http => PusherEndpoints.Key(http, prefix));
        group.MapPost("/auth", PusherEndpoints.Auth);
        group.MapPost("/user-auth", PusherEndpoints.UserAuth);
        return group;
    }

    /// <summary>A policy every request meets: access is decided by <see cref="IChannelAccess"/>, which answers 401/403 itself.</summary>
    private static readonly AuthorizationPolicy DecidedByTheEndpoint = new AuthorizationPolicyBuilder().RequireAssertion(_ => true).Build();
}
