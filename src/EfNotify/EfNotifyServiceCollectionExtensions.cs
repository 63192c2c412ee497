using EfNotify;
using System.Diagnostics.Metrics;
using EfNotify.Capture;
using EfNotify.Diagnostics;
using EfNotify.Dispatch;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers EfNotify.</summary>
public static class EfNotifyServiceCollectionExtensions
{
    /// <summary>
    /// Registers EfNotify for <typeparamref name="TContext"/>, the DbContext whose model holds the outbox table: the
    /// interceptor that <c>UseEfNotify</c> adds to the context, the hosted dispatcher that publishes the outbox, and
    /// <see cref="IOutboxAdministration"/> to list and replay dead letters.
    /// Add a transport on the returned builder, for example <c>.AddPusher(...)</c>. Calling it again is harmless.
    /// </summary>
    /// <typeparam name="TContext">The application's DbContext.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes to the dispatcher options; applied after the configuration section, if any.</param>
    /// <returns>A builder to add a transport and integrations.</returns>
    public static EfNotifyBuilder AddEfNotify<TContext>(this IServiceCollection services, Action<EfNotifyOptions>? configure = null)
        where TContext : DbContext
    {
        var options = services.AddOptions<EfNotifyOptions>().ValidateDataAnnotations().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<INotifierContext>(NullNotifierContext.Instance);
        services.TryAddSingleton<OutboxSignal>();
        services.TryAddSingleton<OutboxMonitor>();
        services.TryAddSingleton(sp => new EfNotifyInstrumentation(
            sp.GetRequiredService<OutboxMonitor>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<EfNotifyInterceptor>();
        services.TryAddSingleton<SetBasedInterceptor>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OutboxDispatcher<TContext>>());
        services.TryAddSingleton<IOutboxAdministration, OutboxAdministration<TContext>>();
        return new EfNotifyBuilder(services);
    }

    /// <summary>
    /// Registers EfNotify as <see cref="AddEfNotify{TContext}(IServiceCollection, Action{EfNotifyOptions})"/> does, binding the
    /// dispatcher options from <paramref name="configuration"/> (usually the <c>EfNotify</c> section).
    /// </summary>
    /// <typeparam name="TContext">The application's DbContext.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section to bind.</param>
    /// <returns>A builder to add a transport and integrations.</returns>
    public static EfNotifyBuilder AddEfNotify<TContext>(this IServiceCollection services, IConfiguration configuration)
        where TContext : DbContext
    {
        services.AddOptions<EfNotifyOptions>().Bind(configuration);
        return services.AddEfNotify<TContext>();
    }
}
