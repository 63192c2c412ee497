using EfNotify;
using System.Diagnostics.Metrics;
using EfNotify.Capture;
using EfNotify.Configuration;
using EfNotify.Diagnostics;
using EfNotify.Dispatch;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers EfNotify.</summary>
public static class EfNotifyServiceCollectionExtensions
{
    /// <summary>
    /// Registers EfNotify for <typeparamref name="TContext"/>, the DbContext whose model holds the outbox table: the
    /// interceptor that <c>UseEfNotify</c> adds to the context, the hosted dispatcher that publishes the outbox, and
    /// <see cref="IOutboxAdministration"/> to list and replay dead letters.
    /// Add a transport on the returned builder, for example <c>.AddPusher()</c>. Calling it again is harmless.
    /// </summary>
    /// <remarks>
    /// The dispatcher options bind from the <c>EfNotify</c> section of the application's configuration, then
    /// <paramref name="configure"/> is applied, so code wins. They are validated when the host starts, each bad setting
    /// named by its key (for example <c>EfNotify:ClaimBatchSize</c>).
    /// </remarks>
    /// <typeparam name="TContext">The application's DbContext.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes to the dispatcher options; applied after the configuration section, if any.</param>
    /// <returns>A builder to add a transport and integrations.</returns>
    public static EfNotifyBuilder AddEfNotify<TContext>(this IServiceCollection services, Action<EfNotifyOptions>? configure = null)
        where TContext : DbContext
    {
        var options = AddCore<TContext>(services);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return new EfNotifyBuilder(services);
    }

    /// <summary>
    /// Registers EfNotify as <see cref="AddEfNotify{TContext}(IServiceCollection, Action{EfNotifyOptions})"/> does, binding the
    /// dispatcher options from <paramref name="configuration"/> as well, after the <c>EfNotify</c> section: for a section of
    /// another name. <c>AddEfNotify&lt;TContext&gt;()</c> alone binds the <c>EfNotify</c> section.
    /// </summary>
    /// <typeparam name="TContext">The application's DbContext.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section to bind.</param>
    /// <returns>A builder to add a transport and integrations.</returns>
    public static EfNotifyBuilder AddEfNotify<TContext>(this IServiceCollection services, IConfiguration configuration)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore<TContext>(services).Bind(configuration);
        return new EfNotifyBuilder(services);
    }

    private static OptionsBuilder<EfNotifyOptions> AddCore<TContext>(IServiceCollection services)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);
        SectionBinding.Add<EfNotifyOptions>(services, EfNotifyOptions.SectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EfNotifyOptions>>(
            new SectionOptionsValidator<EfNotifyOptions>(EfNotifyOptions.SectionName)));
        var options = services.AddOptions<EfNotifyOptions>().ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<INotifierContext>(NullNotifierContext.Instance);
        services.TryAddSingleton<OutboxSignal>();
        services.TryAddSingleton<IOutboxSignal>(sp => sp.GetRequiredService<OutboxSignal>());
        services.TryAddSingleton<OutboxMonitor>();
        services.TryAddSingleton(sp => new EfNotifyInstrumentation(
            sp.GetRequiredService<OutboxMonitor>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<EfNotifyInterceptor>();
        services.TryAddSingleton<SetBasedInterceptor>();
        services.TryAddSingleton<SaveBatchInterceptor>();
        services.TryAddSingleton<DispatcherRole<TContext>>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OutboxDispatcher<TContext>>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OutboxCleanup<TContext>>());
        DispatchPipelines.Add(services);
        services.TryAddSingleton<IOutboxAdministration, OutboxAdministration<TContext>>();
        return options;
    }
}
