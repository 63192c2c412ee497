using EfNotify;
using EfNotify.Health;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the EfNotify health check.</summary>
public static class EfNotifyHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check of the EfNotify outbox: Healthy while the oldest pending row is younger than
    /// <see cref="EfNotifyHealthCheckOptions.DegradedAfter"/>, Degraded after it, and <paramref name="failureStatus"/> after
    /// <see cref="EfNotifyHealthCheckOptions.UnhealthyAfter"/>, when this process's dispatcher has not completed an iteration
    /// for <see cref="EfNotifyHealthCheckOptions.StallAfter"/>, or when the outbox cannot be read. Its data holds
    /// <c>pending</c>, <c>oldest_pending_age_seconds</c>, <c>dead_letters</c> and, where the dispatcher runs,
    /// <c>dispatcher_idle_seconds</c>. Each run queries the outbox (two aggregate queries). Requires
    /// <c>services.AddEfNotify&lt;TContext&gt;()</c>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The registration name; also the name of its options. Default: <c>efnotify</c>.</param>
    /// <param name="configure">Changes to the thresholds; validated at start.</param>
    /// <param name="failureStatus">The status reported for a failure. Default: <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by, for example <c>ready</c>.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddEfNotify(
        this IHealthChecksBuilder builder,
        string name = "efnotify",
        Action<EfNotifyHealthCheckOptions>? configure = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var options = builder.Services.AddOptions<EfNotifyHealthCheckOptions>(name).ValidateDataAnnotations().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EfNotifyHealthCheckOptions>, EfNotifyHealthCheckOptionsValidator>());
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => ActivatorUtilities.CreateInstance<EfNotifyHealthCheck>(sp),
            failureStatus,
            tags));
    }
}
