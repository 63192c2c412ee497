using EfNotify.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EfNotify.Health;

/// <summary>
/// Reports the outbox backlog by the age of its oldest pending row (queried, since a probe is rare), and whether this
/// process's dispatcher loop still completes iterations (from what the dispatcher last reported).
/// </summary>
internal sealed class EfNotifyHealthCheck(
    IOutboxAdministration administration, OutboxMonitor monitor, TimeProvider time, IOptionsMonitor<EfNotifyHealthCheckOptions> options)
    : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.Get(context.Registration.Name);
        OutboxBacklog backlog;
        try
        {
            backlog = await administration.GetBacklogAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The outbox could not be read.", exception);
        }

        var age = backlog.OldestPendingAge;
        var data = new Dictionary<string, object>
        {
            ["pending"] = backlog.PendingCount,
            ["oldest_pending_age_seconds"] = age.TotalSeconds,
            ["dead_letters"] = backlog.DeadLetterCount,
        };

        var now = time.GetUtcNow().UtcDateTime;
        if (monitor.Pause is { } pause)
        {
            var paused = now > pause.Since ? now - pause.Since : TimeSpan.Zero;
            data["paused_seconds"] = paused.TotalSeconds;
            data["paused_reason"] = pause.Reason;
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"Publishing has been paused for {paused.TotalSeconds:0.#} s because the server refuses the application, not its events: {pause.Reason}. "
                + $"The {backlog.PendingCount} pending notification rows are kept and go out once the configuration or account is fixed; next attempt at {pause.NextAttempt:O}.",
                data: data);
        }

        if (monitor.StartedAt is { } started)
        {
            var since = monitor.LastIteration ?? started;
            var idle = now > since ? now - since : TimeSpan.Zero;
            data["dispatcher_idle_seconds"] = idle.TotalSeconds;
            if (idle > settings.StallAfter)
            {
                return new HealthCheckResult(
                    context.Registration.FailureStatus,
                    $"The EfNotify dispatcher has not completed an iteration for {idle.TotalSeconds:0.#} s (limit {settings.StallAfter.TotalSeconds:0.#} s).",
                    data: data);
            }
        }

        if (age > settings.UnhealthyAfter)
        {
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The oldest of {backlog.PendingCount} pending notification rows has waited {age.TotalSeconds:0.#} s (limit {settings.UnhealthyAfter.TotalSeconds:0.#} s).",
                data: data);
        }

        if (age > settings.DegradedAfter)
        {
            return HealthCheckResult.Degraded(
                $"The oldest of {backlog.PendingCount} pending notification rows has waited {age.TotalSeconds:0.#} s (degraded after {settings.DegradedAfter.TotalSeconds:0.#} s).",
                data: data);
        }

        return HealthCheckResult.Healthy($"{backlog.PendingCount} notification rows pending.", data);
    }
}

/// <summary>Checks what DataAnnotations cannot: the thresholds' order.</summary>
internal sealed class EfNotifyHealthCheckOptionsValidator : IValidateOptions<EfNotifyHealthCheckOptions>
{
    public ValidateOptionsResult Validate(string? name, EfNotifyHealthCheckOptions options)
        => options.UnhealthyAfter > options.DegradedAfter
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"EfNotify health check '{name}': UnhealthyAfter ({options.UnhealthyAfter}) must be longer than DegradedAfter ({options.DegradedAfter}).");
}
