using EfNotify.Configuration;
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
    /// Publishes EfNotify's notifications through Pusher Channels (or soketi). The options bind from the
    /// <c>EfNotify:Pusher</c> section of the application's configuration, then <paramref name="configure"/> is applied, so
    /// code wins. Registers <see cref="PusherClient"/> (a typed <see cref="HttpClient"/> whose per-request logs are off:
    /// EfNotify logs failures itself), <see cref="PusherChannelAuthorizer"/> and the transport, and validates
    /// <see cref="PusherOptions"/> when the host starts, naming each bad setting by its key
    /// (<c>EfNotify:Pusher:Secret is required</c>). Calling it again only adds configuration.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddEfNotify</c>.</param>
    /// <param name="configure">Changes to the options after the configuration section. Default: none.</param>
    /// <returns>The same builder.</returns>
    public static EfNotifyBuilder AddPusher(this EfNotifyBuilder builder, Action<PusherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddServices(builder.Services, PusherOptions.DefaultSectionName);
        if (configure is not null)
        {
            builder.Services.Configure(configure);
        }

        return builder;
    }

    /// <summary>
    /// Publishes EfNotify's notifications through Pusher Channels (or soketi), configured from a configuration section.
    /// Otherwise as <see cref="AddPusher(EfNotifyBuilder, Action{PusherOptions})"/>, with <paramref name="sectionName"/> of
    /// <paramref name="configuration"/> bound after it: for a section of another name, which validation messages then name
    /// (<c>Realtime:Secret is required</c>), or a configuration that is not the application's.
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
        AddServices(builder.Services, sectionName);
        builder.Services.Configure<PusherOptions>(configuration.GetSection(sectionName));
        return builder;
    }

    private static void AddServices(IServiceCollection services, string sectionName)
    {
        SectionBinding.Add<PusherOptions>(services, PusherOptions.DefaultSectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PusherOptions>>(new PusherOptionsValidator(sectionName)));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new PusherChannelAuthorizer(sp.GetRequiredService<IOptionsMonitor<PusherOptions>>()));
        services.TryAddSingleton<PusherWebhookVerifier>();
        services.TryAddSingleton(sp => new PusherEncryption(sp.GetRequiredService<IOptions<PusherOptions>>().Value));
        services.TryAddSingleton<INotificationTransport, PusherNotificationTransport>();

        if (services.Any(d => d.ServiceType == typeof(PusherClient)))
        {
            return;
        }

        services.AddOptions<PusherOptions>().ValidateOnStart();

        // The transport is a singleton holding this client, so connections are recycled by the handler itself
        // (PooledConnectionLifetime) rather than by the factory's handler rotation, which a held client never sees.
        // Connections are kept alive and reused; MaxConnectionsPerServer stays unbounded, so each of the dispatcher's
        // lanes (EfNotifyOptions.MaxRequestsInFlight) has one. A server that closes each connection (soketi) gets a new one,
        // taken from spares opened ahead (one per lane at most; the container closes them when it is disposed).
        services.TryAddSingleton(sp => new SpareConnections(
            Math.Max(1, sp.GetService<IOptions<EfNotifyOptions>>()?.Value.MaxRequestsInFlight ?? 1),
            sp.GetRequiredService<TimeProvider>()));
        services.AddHttpClient<PusherClient>()
            .ConfigurePrimaryHttpMessageHandler(sp => SpareConnections.CreateHandler(sp.GetRequiredService<SpareConnections>()))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers(); // four Information lines a publish otherwise; .AddDefaultLogger() on this client brings them back
    }
}
