namespace EfNotify;

/// <summary>
/// The keys under which EfNotify registers its Polly resilience pipelines (Polly.Extensions' <c>AddResiliencePipeline</c>).
/// Register a pipeline under the same key before <c>AddEfNotify</c> to replace EfNotify's (Polly's registry keeps the first builder of a key).
/// </summary>
public static class EfNotifyResiliencePipelines
{
    /// <summary>
    /// <c>EfNotify.Publish</c>: runs each publish request. EfNotify's retries a transient failure (network, timeout, 408,
    /// 429, 5xx) <see cref="EfNotifyOptions.MaxRetryAttempts"/> times, waiting <see cref="EfNotifyOptions.RetryBaseDelay"/>
    /// times 2^n (at most <see cref="EfNotifyOptions.MaxBackoff"/>). After it gives up, the row waits for a later attempt.
    /// </summary>
    public const string Publish = "EfNotify.Publish";
}
