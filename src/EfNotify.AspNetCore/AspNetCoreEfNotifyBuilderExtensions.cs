using System.Diagnostics.Metrics;
using EfNotify.AspNetCore;
using EfNotify.AspNetCore.Auth;
using EfNotify.Configuration;
using EfNotify.AspNetCore.Revocation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EfNotify;

/// <summary>Adds EfNotify's browser subscriptions to an ASP.NET Core application.</summary>
public static class AspNetCoreEfNotifyBuilderExtensions
{
    /// <summary>
    /// Adds what the endpoints browsers subscribe through need, <c>GET /pusher/key</c>, <c>POST /pusher/auth</c> and
    /// <c>POST /pusher/user-auth</c> (map them with <c>app.MapEfNotify()</c>; a warning at start-up says when they are not
    /// mapped), <see cref="ISubscriptionRevocation"/>, and makes the current request the notifier: the user's name from
    /// <c>HttpContext.User</c>, the socket id to leave out from the <c>X-Socket-ID</c> header. The browser client is served at
    /// <c>/_content/EfNotify.AspNetCore/efnotify.js</c> by the static files middleware.
    /// </summary>
    /// <remarks>
    /// A subscription to an object's channel is granted only when the user is authenticated, meets
    /// <see cref="EfNotifyAspNetCoreOptions.RequiredRole"/> and <see cref="EfNotifyAspNetCoreOptions.RequiredPolicy"/>, and may read
    /// the object, which is loaded through <typeparamref name="TContext"/> so that its global query filters apply. Entity types
    /// without a rule or an authorization handler are refused. Options bind from the <c>EfNotify:AspNetCore</c> section of the
    /// application's configuration, then <paramref name="configure"/> is applied, and are validated when the host starts: a rule
    /// for a type that <typeparamref name="TContext"/> does not map fails there, naming the type. An <see cref="INotifierContext"/> registered by the application is kept. Calling it again only
    /// adds configuration.
    /// </remarks>
    /// <typeparam name="TContext">The application's DbContext through which objects are loaded for the access check.</typeparam>
    /// <param name="builder">The builder returned by <c>AddEfNotify</c>, with <c>.AddPusher(...)</c>.</param>
    /// <param name="configure">Sets the rules (<see cref="EfNotifyAspNetCoreOptions.Allow{TEntity}"/>, ...) and options.</param>
    /// <returns>The same builder.</returns>
    public static EfNotifyBuilder AddAspNetCore<TContext>(this EfNotifyBuilder builder, Action<EfNotifyAspNetCoreOptions>? configure = null)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        SectionBinding.Add<EfNotifyAspNetCoreOptions>(services, EfNotifyAspNetCoreOptions.SectionName);
        var options = services.AddOptions<EfNotifyAspNetCoreOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EfNotifyAspNetCoreOptions>, EfNotifyAspNetCoreOptionsValidator<TContext>>());
        services.AddHttpContextAccessor();
        services.AddAuthorization(); // the policy services too: MapEfNotify's group carries a policy, and WebApplication adds UseAuthorization
        services.TryAddScoped<IChannelAccess, ChannelAccess<TContext>>();
        services.TryAddSingleton<AuthRateLimiter>();
        services.TryAddSingleton(sp => new AuthMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<ISubscriptionRevocation, SubscriptionRevocation>();

        // AddEfNotify registers a notifier that knows nobody; the request's notifier replaces it, an application's own is kept.
        var notifier = services.FirstOrDefault(d => d.ServiceType == typeof(INotifierContext));
        if (notifier is null || notifier.ImplementationInstance is NullNotifierContext)
        {
            services.RemoveAll<INotifierContext>();
            services.AddSingleton<INotifierContext, HttpNotifierContext>();
        }

        services.TryAddSingleton<EndpointsMapped>();
        services.AddHostedService(sp => sp.GetRequiredService<EndpointsMapped>());
        return builder;
    }
}
