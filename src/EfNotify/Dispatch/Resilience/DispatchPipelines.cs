using System.Diagnostics;
using EfNotify.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.DependencyInjection;
using Polly.Retry;

namespace EfNotify.Dispatch;

/// <summary>
/// EfNotify's resilience pipelines, registered by key in Polly's registry (<c>AddResiliencePipeline</c>), so Polly's
/// telemetry reports them and an application may register its own under the same key before <c>AddEfNotify</c>
/// (the registry keeps the first builder of a key).
/// </summary>
internal static partial class DispatchPipelines
{
    /// <summary>The key of the publish pipeline: <see cref="EfNotifyResiliencePipelines.Publish"/>.</summary>
    public const string Publish = EfNotifyResiliencePipelines.Publish;

    /// <summary>Registers the pipelines once per service collection.</summary>
    public static void Add(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return;
        }

        services.TryAddSingleton<Marker>();
        services.AddResiliencePipeline(Publish, ConfigurePublish);
    }

    /// <summary>
    /// Immediate retries of one publish request for transient failures (<see cref="FailureClassifier.IsTransient"/>),
    /// <see cref="EfNotifyOptions.MaxRetryAttempts"/> times, spaced by <see cref="RetrySchedule"/>.
    /// </summary>
    internal static void ConfigurePublish(ResiliencePipelineBuilder builder, AddResiliencePipelineContext<string> context)
    {
        var services = context.ServiceProvider;
        var options = services.GetRequiredService<IOptions<EfNotifyOptions>>().Value;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("EfNotify.Dispatch.OutboxDispatcher");
        ConfigurePublish(builder, options, services.GetRequiredService<TimeProvider>(), services.GetRequiredService<EfNotifyInstrumentation>(), logger);
    }

    internal static void ConfigurePublish(
        ResiliencePipelineBuilder builder, EfNotifyOptions options, TimeProvider time, EfNotifyInstrumentation instrumentation, ILogger logger)
    {
        builder.TimeProvider = time;
        if (options.MaxRetryAttempts == 0)
        {
            return;
        }

        var schedule = RetrySchedule.From(options);
        builder.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(FailureClassifier.IsTransient),
            MaxRetryAttempts = options.MaxRetryAttempts,
            DelayGenerator = schedule.Generate,
            OnRetry = args =>
            {
                LogRetry(logger, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.Message ?? "unknown");
                instrumentation.Retried();
                Activity.Current?.AddEvent(new ActivityEvent("retry"));
                return default;
            },
        });
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Publishing failed; retry {Attempt} in {Delay}: {Reason}")]
    private static partial void LogRetry(ILogger logger, int attempt, TimeSpan delay, string reason);

    /// <summary>Marks a service collection in which the pipelines are registered.</summary>
    private sealed class Marker;
}
