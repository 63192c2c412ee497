using EfNotify;
using EfNotify.Pusher;
using EfNotify.Testing;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Replaces EfNotify's transport for tests and local development.</summary>
public static class EfNotifyTestingServiceCollectionExtensions
{
    /// <summary>
    /// Replaces the transport with <see cref="InMemoryNotifications"/> (resolve it to await notifications), keeping EfNotify's
    /// real interceptor, outbox and dispatcher. Needs no Pusher settings: where the application calls <c>.AddPusher()</c>,
    /// settings it left empty get test values (a self-hosted server on 127.0.0.1), so start-up validation passes and
    /// <c>/pusher/key</c> and <c>/pusher/auth</c> answer. Call it after the application's registrations, for example in
    /// <c>ConfigureTestServices</c>; calling it again is harmless.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <returns>The same services.</returns>
    public static IServiceCollection AddEfNotifyTesting(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InMemoryNotifications>();
        services.RemoveAll<INotificationTransport>();
        services.AddSingleton<INotificationTransport>(sp => sp.GetRequiredService<InMemoryNotifications>());
        services.PostConfigure<PusherOptions>(TestPusherSettings);
        return services;
    }

    private static void TestPusherSettings(PusherOptions options)
    {
        options.AppId = string.IsNullOrWhiteSpace(options.AppId) ? "efnotify-testing" : options.AppId;
        options.Key = string.IsNullOrWhiteSpace(options.Key) ? "efnotify-testing-key" : options.Key;
        options.Secret = string.IsNullOrWhiteSpace(options.Secret) ? "efnotify-testing-secret" : options.Secret;
        if (string.IsNullOrWhiteSpace(options.Cluster) && string.IsNullOrWhiteSpace(options.Host))
        {
            (options.Host, options.UseTls) = ("127.0.0.1", false);
        }
    }

    /// <summary>
    /// Publishes to the log instead of a server: each event becomes one Information line (event id 300, category
    /// <c>EfNotify.Testing.LogNotificationTransport</c>) with its channel, action and message. For local development
    /// without a Pusher server; replaces a transport registered before it.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddEfNotify</c>.</param>
    /// <returns>The same builder.</returns>
    public static EfNotifyBuilder AddLogTransport(this EfNotifyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddLogging();
        builder.Services.RemoveAll<INotificationTransport>();
        builder.Services.AddSingleton<INotificationTransport, LogNotificationTransport>();
        return builder;
    }

    /// <summary>As <see cref="AddEfNotifyTesting(IServiceCollection)"/>, on the builder returned by <c>AddEfNotify</c>.</summary>
    /// <param name="builder">The builder returned by <c>AddEfNotify</c>.</param>
    /// <returns>The same builder.</returns>
    public static EfNotifyBuilder AddEfNotifyTesting(this EfNotifyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddEfNotifyTesting();
        return builder;
    }
}
