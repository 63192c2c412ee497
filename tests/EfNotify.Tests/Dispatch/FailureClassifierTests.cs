using EfNotify.Dispatch;

namespace EfNotify.Tests.Dispatch;

/// <summary>What a failed request means: retry it, dead-letter its events, or pause for the application (issue 17).</summary>
public class FailureClassifierTests
{
    public static TheoryData<Exception, string, string> Failures => new()
    {
        { new PublishException("Too Many Requests", 429, isTransient: true), "Transient", "429: Too Many Requests" },
        { new PublishException("Bad Gateway", 502, isTransient: true), "Transient", "502: Bad Gateway" },
        { new HttpRequestException("Connection refused"), "Transient", "HttpRequestException: Connection refused" },
        { new TimeoutException("slow"), "Transient", "TimeoutException: slow" },
        { new TaskCanceledException("timed out"), "Transient", "TaskCanceledException: timed out" },
        { new IOException("reset"), "Transient", "IOException: reset" },
        { new PublishException("Invalid channel name", 400, isTransient: false), "Refused", "400: Invalid channel name" },
        { new PublishException("too big", 413, isTransient: false) { Scope = PublishRefusalScope.Event }, "Refused", "413: too big" },
        { new PublishException("Invalid signature", 401, isTransient: false) { Scope = PublishRefusalScope.Application }, "Pause", "401: Invalid signature" },
        { new PublishException("no status", null, isTransient: false) { Scope = PublishRefusalScope.Application }, "Pause", "PublishException: no status" },
        // Transient wins over the scope: the moment is at fault, so the row retries rather than the dispatcher pausing.
        { new PublishException("Service Unavailable", 503, isTransient: true) { Scope = PublishRefusalScope.Application }, "Transient", "503: Service Unavailable" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void A_failure_is_transient_refused_or_a_pause_with_its_status_in_the_reason(Exception exception, string kind, string reason)
    {
        var failure = FailureClassifier.Classify(exception);

        Assert.NotNull(failure);
        Assert.Equal(kind, failure.Kind.ToString());
        Assert.Equal(reason, failure.Reason);
        Assert.Equal(kind == nameof(FailureKind.Transient), FailureClassifier.IsTransient(exception)); // the pipeline retries exactly the transient ones
    }

    [Fact]
    public void An_exception_that_is_not_a_publish_failure_is_left_to_the_loop()
    {
        Assert.Null(FailureClassifier.Classify(new InvalidOperationException("a bug")));
        Assert.False(FailureClassifier.IsTransient(new InvalidOperationException("a bug")));
    }
}
