using EfNotify.Pusher;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EfNotify;

/// <summary>Adds the Pusher Channels transport to EfNotify.</summary>
public static class PusherEfNotifyBuilderExtensions
{
    /// <summary>
    /// Publishes EfNotify's notifications through Pusher Channels (or soketi), configured in code.
    /// Registers <see cref="PusherClient"/> (a typed <see cref="HttpClient"/>), <see cref="PusherChannelAuthorizer"/> and
    /// the transport, and validates <see cref="PusherOptions"/> when the host starts. Calling it again only adds configuration.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddEfNotify</c>.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same builder.</returns>
    public static EfNotifyBuilder AddPusher(this EfNotifyBuilder builder, Action<PusherOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        AddServices(builder.Services, PusherOptions.DefaultSectionName);
        return builder;
    }

    /// <summary>
    /// Publishes EfNotify's notifications through Pusher Channels (or soketi), configured from a configuration section.
    /// Otherwise as <see cref="AddPusher(EfNotifyBuilder, Action{PusherOptions})"/>; validation messages name the
    /// settings by their keys, for example <c>EfNotify:Pusher:Secret is required</c>.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddEfNotify</c>.</param>
    /// <param name="configuration">The application's configuration (the root, not the section).</param>
    /// <param name="sectionName">The section to bind. Default: <c>EfNotify:Pusher</c>.</param>
    /// <returns>The same builder.</returns>
    public static EfNotifyBuilder AddPusher(
        this EfNotifyBuilder builder,
        IConfiguration configuration,
        string sectionName = PusherOptions.DefaultSectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrEmpty(sectionName);
        builder.Services.Configure<PusherOptions>(configuration.GetSection(sectionName));
        AddServices(builder.Services, sectionName);
        return builder;
    }

    private static void AddServices(IServiceCollection services, string sectionName)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PusherOptions>>(new PusherOptionsValidator(sectionName)));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<PusherChannelAuthorizer>();
        services.TryAddSingleton(sp => new PusherEncryption(sp.GetRequiredService<IOptions<PusherOptions>>().Value));
        services.TryAddSingleton<INotificationTransport, PusherNotificationTransport>();

        if (services.Any(d => d.ServiceType == typeof(PusherClient)))
        {
            return;
        }

        services.AddOptions<PusherOptions>().ValidateOnStart();

        // The transport is a singleton holding this client, so connections are recycled by the handler itself
        // (PooledConnectionLifetime) rather than by the factory's handler rotation, which a held client never sees.
        services.AddHttpClient<PusherClient>()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan);
    }
}
