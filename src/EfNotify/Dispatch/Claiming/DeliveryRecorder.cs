using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>
/// Records deliveries off the publishing path of a leading dispatcher. The dispatcher hands over the ids of rows the
/// server accepted and goes on publishing; one write at a time marks everything handed over since the last write as
/// delivered, so under load many claims share one database write. Until its write has committed, a row is excluded
/// from claims, so it is not published twice; a row whose write never commits (the process died) is published again by
/// the next leader, with the same notification ids.
/// </summary>
/// <remarks>
/// <see cref="Accept"/> and <see cref="Unrecorded"/> belong to the dispatcher loop. A committed write reaches the
/// exclusion set only when the loop next asks for it, before its next claim starts, so a claim whose snapshot predates
/// the write still excludes its rows.
/// Rows are accepted as sets, in any order, so completions of requests in flight at once may arrive out of id order.
/// </remarks>
internal sealed partial class DeliveryRecorder
{
    private const int AttemptsWhenStopping = 3;

    private readonly Channel<long[]> _accepted = Channel.CreateUnbounded<long[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly ConcurrentQueue<List<long>> _recorded = new();
    private readonly HashSet<long> _unrecorded = [];
    private readonly IDeliveryWrites _writes;
    private readonly RetrySchedule _schedule;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Task _writer;
    private volatile bool _stopping;

    /// <param name="writes">The delivery record's writes, on a context of their own.</param>
    /// <param name="schedule">The delays between attempts of a write that failed.</param>
    /// <param name="time">The clock of the backoff.</param>
    /// <param name="logger">Where failed writes are reported.</param>
    public DeliveryRecorder(IDeliveryWrites writes, RetrySchedule schedule, TimeProvider time, ILogger logger)
    {
        _writes = writes;
        _schedule = schedule;
        _time = time;
        _logger = logger;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>
    /// Rows accepted by the server and not yet recorded as delivered: a claim must not take them. Takes in the writes
    /// committed since the last call, so call it right before a claim starts.
    /// </summary>
    public IReadOnlyCollection<long> Unrecorded()
    {
        while (_recorded.TryDequeue(out var ids))
        {
            foreach (var id in ids)
            {
                _unrecorded.Remove(id);
            }
        }

        return _unrecorded;
    }

    /// <summary>Hands over rows the server accepted in full.</summary>
    public void Accept(IReadOnlyCollection<long> ids)
    {
        if (ids.Count == 0)
        {
            return;
        }

        var copy = ids.ToArray();
        foreach (var id in copy)
        {
            _unrecorded.Add(id);
        }

        if (!_accepted.Writer.TryWrite(copy))
        {
            throw new InvalidOperationException("EfNotify: deliveries were handed over after the dispatcher stopped recording.");
        }
    }

    /// <summary>Asks for the writes' context to be let go once everything handed over so far is written, unless more arrives first.</summary>
    public void ReleaseWhenIdle() => _accepted.Writer.TryWrite([]);

    /// <summary>Records what was handed over and stops; a write that keeps failing is given up after a few attempts.</summary>
    public Task CompleteAsync()
    {
        _stopping = true;
        _accepted.Writer.TryComplete();
        return _writer;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _accepted.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var ids = new List<long>();
            var release = false;
            while (reader.TryRead(out var accepted))
            {
                release |= accepted.Length == 0;
                ids.AddRange(accepted);
            }

            if (ids.Count > 0)
            {
                await WriteAsync(ids).ConfigureAwait(false);
            }

            if (release && !reader.TryPeek(out _))
            {
                try
                {
                    await _writes.ReleaseAsync().ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    LogReleaseFailed(_logger, exception);
                }
            }
        }
    }

    private async Task WriteAsync(List<long> ids)
    {
        for (var failures = 0; ;)
        {
            try
            {
                // Not cancelled on shutdown: what the server accepted must be recorded, or it is published again.
                await _writes.MarkDeliveredAsync(ids, CancellationToken.None).ConfigureAwait(false);
                LogRecorded(_logger, ids.Count);
                break;
            }
            catch (Exception exception)
            {
                failures++;
                if (_stopping && failures >= AttemptsWhenStopping)
                {
                    LogGaveUp(_logger, exception, ids.Count);
                    break;
                }

                // Not a Polly pipeline: the write is retried until it commits (a pipeline's attempts are bounded), and only a
                // stop bounds it; the delays are the schedule's all the same.
                var delay = _schedule.Delay(failures);
                LogWriteFailed(_logger, exception, ids.Count, delay);
                await Task.Delay(delay, _time).ConfigureAwait(false);
            }
        }

        _recorded.Enqueue(ids);
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Recording {Count} delivered outbox rows failed; retrying in {Delay}")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count, TimeSpan delay);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "The dispatcher stopped before it could record {Count} delivered outbox rows; the next dispatcher publishes them again, with the same notification ids")]
    private static partial void LogGaveUp(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 12, Level = LogLevel.Debug, Message = "Recorded {Count} outbox rows as delivered")]
    private static partial void LogRecorded(ILogger logger, int count);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Disposing the context of the delivery record failed")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception);
}

/// <summary>The delivery record's writes, on a context of their own (not the publishing loop's).</summary>
internal interface IDeliveryWrites
{
    /// <summary>Marks the leader's rows delivered in one write.</summary>
    Task MarkDeliveredAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken);

    /// <summary>Lets go of the context when there is nothing left to write.</summary>
    ValueTask ReleaseAsync();
}
