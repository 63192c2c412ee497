namespace EfNotify.Dispatch;

/// <summary>What a failed publish request means for the rows it carried.</summary>
internal enum FailureKind
{
    /// <summary>The moment is at fault (network, timeout, 408, 429, 5xx): the row waits and tries again.</summary>
    Transient,

    /// <summary>The server refused these events: they are dead-lettered, the rest go on.</summary>
    Refused,

    /// <summary>The server refused the application (credentials, clock, account, id): publishing pauses, nothing is dead-lettered.</summary>
    Pause,
}

/// <summary>Why a request failed.</summary>
internal sealed record PublishFailure(FailureKind Kind, string Reason, int? StatusCode = null)
{
    public bool IsTransient => Kind == FailureKind.Transient;
}

/// <summary>Sorts the exceptions of a publish request into transient, refused and pause (<see cref="FailureKind"/>).</summary>
internal static class FailureClassifier
{
    /// <summary>Whether an exception is worth retrying at once: the publish pipeline's predicate.</summary>
    public static bool IsTransient(Exception exception)
        => exception is PublishException { IsTransient: true } or HttpRequestException or TimeoutException or TaskCanceledException or IOException;

    /// <summary>The failure an exception of a publish request stands for, or <see langword="null"/> for an exception it does not know (a fault of the loop).</summary>
    public static PublishFailure? Classify(Exception exception) => exception switch
    {
        PublishException { IsTransient: true } refusal => new(FailureKind.Transient, Describe(refusal), refusal.StatusCode),
        PublishException { Scope: PublishRefusalScope.Application } refusal => new(FailureKind.Pause, Describe(refusal), refusal.StatusCode),
        PublishException refusal => new(FailureKind.Refused, Describe(refusal), refusal.StatusCode),
        _ when IsTransient(exception) => new(FailureKind.Transient, Describe(exception)),
        _ => null,
    };

    /// <summary>A request not sent because the host stopped while it waited for a retry.</summary>
    public static PublishFailure Stopped { get; } = new(FailureKind.Transient, "the dispatcher stopped while waiting to retry");

    private static string Describe(Exception exception)
        => exception is PublishException { StatusCode: { } code } ? $"{code}: {exception.Message}" : $"{exception.GetType().Name}: {exception.Message}";
}
