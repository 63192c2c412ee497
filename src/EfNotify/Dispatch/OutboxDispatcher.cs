using System.Diagnostics;
using System.Text;
using EfNotify.Diagnostics;
using EfNotify.Outbox;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace EfNotify.Dispatch;

/// <summary>
/// Publishes committed outbox rows: woken right after a commit, polling as a fallback. Rows are claimed (under a lease,
/// unless this instance leads), published in id order in batches the transport accepts, and marked delivered only after
/// the server accepted them; a leader records deliveries off its publishing path (<see cref="DeliveryRecorder"/>), so the
/// path from a commit to the server holds no database write. Transient failures are retried at once (Polly) and then
/// later with a persisted backoff; permanent refusals are dead-lettered with the reason and do not hold up the rest,
/// unless they concern the application rather than its events: then publishing pauses (<see cref="PauseAsync"/>).
/// </summary>
internal sealed partial class OutboxDispatcher<TContext> : BackgroundService
    where TContext : DbContext
{
    /// <summary>How long a leader's chain of prefetched claims continues after the last id before it reads from the first pending row again.</summary>
    internal static readonly TimeSpan ClaimFromStartInterval = TimeSpan.FromSeconds(1);

    private readonly IServiceProvider _services;
    private readonly OutboxSignal _signal;
    private readonly TimeProvider _time;
    private readonly EfNotifyOptions _options;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly DispatcherLeadership _leadership;
    private readonly ContextSlot<TContext> _loopContext;
    private readonly ContextSlot<TContext> _prefetchContext;
    private readonly ContextSlot<TContext> _recorderContext;
    private readonly ChannelSequences _sequences = new();
    private DeliveryRecorder? _recorder;
    private Task<List<OutboxMessage>>? _prefetch;
    private DateTime _claimedFromStart;
    private DateTime _nextCleanup;

    public OutboxDispatcher(
        IServiceProvider services, OutboxSignal signal, TimeProvider time, IOptions<EfNotifyOptions> options, ILogger<OutboxDispatcher<TContext>> logger)
    {
        _services = services;
        _signal = signal;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _pipeline = BuildPipeline(_options, time, logger, Instrumentation);
        _leadership = new DispatcherLeadership(time, signal, _options.PollingInterval, logger);
        _loopContext = new ContextSlot<TContext>(services);
        _prefetchContext = new ContextSlot<TContext>(services);
        _recorderContext = new ContextSlot<TContext>(services);
    }


    internal string Owner => _owner;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.DispatcherEnabled)
        {
            await SignalOnlyAsync(stoppingToken).ConfigureAwait(false);
            return;
        }

        var transport = _services.GetService<INotificationTransport>()
            ?? throw new InvalidOperationException(
                "EfNotify: no transport is registered, so notifications cannot be published. Call services.AddEfNotify<TContext>().AddPusher(...).");

        LogStarted(_logger, typeof(TContext).Name, _owner);
        await using var leadership = _leadership.ConfigureAwait(false);
        _recorder = new DeliveryRecorder(MarkDeliveredAsync, Backoff, _time, _logger, _recorderContext.ReleaseAsync);
        try
        {
            await RunAsync(transport, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            // Before the leadership goes: the next leader must not publish again what this one delivered.
            await ReleaseContextsAsync().ConfigureAwait(false);
            await _recorder.CompleteAsync().ConfigureAwait(false);
            await _recorderContext.ReleaseAsync().ConfigureAwait(false);
        }
    }

    private async Task RunAsync(INotificationTransport transport, CancellationToken stoppingToken)
    {
        Monitor.DispatcherStarted(_time.GetUtcNow().UtcDateTime);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var full = await DispatchOnceAsync(transport, stoppingToken).ConfigureAwait(false);
                await CleanupIfDueAsync(stoppingToken).ConfigureAwait(false);
                await ReportIterationAsync(stoppingToken).ConfigureAwait(false);
                failures = 0;
                if (IsPaused)
                {
                    await ReleaseContextsAsync().ConfigureAwait(false);
                    await PauseAsync(stoppingToken).ConfigureAwait(false);
                    continue;
                }

                if (full)
                {
                    continue; // more rows are waiting
                }

                await ReleaseContextsAsync().ConfigureAwait(false);
                await _signal.WaitAsync(_options.PollingInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                // The database or the transport failed outside a publish: log, back off, go on.
                failures++;
                var delay = Backoff(failures);
                LogLoopFailed(_logger, exception, delay);
                await ReleaseContextsAsync().ConfigureAwait(false);
                try
                {
                    await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        Monitor.DispatcherStopped();
    }

    /// <summary>Claims and publishes one batch of rows.</summary>
    /// <returns><see langword="true"/> when the claim was full, so more rows may be waiting.</returns>
    private Task<bool> DispatchOnceAsync(INotificationTransport transport, CancellationToken stoppingToken)
        => _loopContext.RunAsync(
            async (db, token) =>
            {
                if (!await _leadership.TryLeadAsync(db, token).ConfigureAwait(false))
                {
                    await DiscardPrefetchAsync().ConfigureAwait(false);
                    _sequences.Reset(); // the leader numbers the channels now; leading again starts a new epoch
                    return false; // another instance publishes; this one stands by
                }

                var owner = _leadership.IsExclusive ? null : _owner;
                List<OutboxMessage> rows;
                if (owner is null && _prefetch is { } prefetch)
                {
                    _prefetch = null;
                    rows = await prefetch.ConfigureAwait(false);
                }
                else
                {
                    await DiscardPrefetchAsync().ConfigureAwait(false);
                    _claimedFromStart = _time.GetUtcNow().UtcDateTime;
                    rows = await ClaimAsync(db, owner, owner is null ? _recorder!.Unrecorded() : [], token).ConfigureAwait(false);
                }

                if (rows.Count == 0)
                {
                    return false;
                }

                var full = rows.Count == _options.ClaimBatchSize;
                if (owner is null && full)
                {
                    // A leader reads the next claim while this one is on the wire; it is used only if every row here went out.
                    // It continues after this claim's last id: every pending row below it is in this claim or published
                    // already. Once a second it starts from the first pending row again, skipping what awaits its record,
                    // since on PostgreSQL a transaction can commit a row whose id is below rows already visible.
                    var now = _time.GetUtcNow().UtcDateTime;
                    long? after = rows[^1].Id;
                    IReadOnlyCollection<long> excluded = [];
                    if (now - _claimedFromStart >= ClaimFromStartInterval)
                    {
                        _claimedFromStart = now;
                        after = null;
                        var skipped = new HashSet<long>(_recorder!.Unrecorded());
                        skipped.UnionWith(rows.Select(r => r.Id));
                        excluded = skipped;
                    }

                    // On a thread of its own: a provider such as SQLite's runs "async" queries synchronously.
                    _prefetch = Task.Run(
                        () => _prefetchContext.RunAsync((prefetchDb, prefetchToken) => ClaimAsync(prefetchDb, null, excluded, prefetchToken, after), token),
                        token);
                }

                LogClaimed(_logger, rows.Count, rows[0].Id, rows[^1].Id);
                // Fenced: losing the lock stops publishing before the next request, as a stop of the host does.
                using var fenced = CancellationTokenSource.CreateLinkedTokenSource(token, _leadership.Lost);
                if (!await PublishRowsAsync(db, owner, transport, rows, fenced.Token).ConfigureAwait(false))
                {
                    await DiscardPrefetchAsync().ConfigureAwait(false); // its rows must not overtake a row that waits for a retry
                }

                return full;
            },
            stoppingToken);

    /// <summary>A process that only writes: it signals the leader after its commits until the host stops.</summary>
    private async Task SignalOnlyAsync(CancellationToken stoppingToken)
    {
        await using var leadership = _leadership.ConfigureAwait(false);
        for (var failures = 1; !stoppingToken.IsCancellationRequested; failures++)
        {
            try
            {
                await _loopContext.RunAsync(async (db, token) => { await _leadership.ConnectAsync(db, token).ConfigureAwait(false); return true; }, stoppingToken)
                    .ConfigureAwait(false);
                await _loopContext.ReleaseAsync().ConfigureAwait(false);
                await Task.Delay(Timeout.InfiniteTimeSpan, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                var delay = Backoff(failures);
                LogLoopFailed(_logger, exception, delay);
                try
                {
                    await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private Task<List<OutboxMessage>> ClaimAsync(
        DbContext db, string? owner, IReadOnlyCollection<long> excluded, CancellationToken cancellationToken, long? after = null)
        => OutboxStore.ClaimAsync(
            db, owner, _time.GetUtcNow().UtcDateTime, _options.LeaseDuration, _options.ClaimBatchSize, excluded, cancellationToken, after);

    private async Task DiscardPrefetchAsync()
    {
        if (_prefetch is { } prefetch)
        {
            _prefetch = null;
            try
            {
                await prefetch.ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // Only a read, and its rows are claimed again by the next claim; a database fault shows there too.
            }
        }
    }

    /// <summary>
    /// Lets go of the loop's and the prefetch's contexts when the loop goes idle or fails, and asks the recorder to let
    /// go of its own once it has written what it holds: an idle dispatcher holds no context.
    /// </summary>
    private async Task ReleaseContextsAsync()
    {
        await DiscardPrefetchAsync().ConfigureAwait(false);
        await _loopContext.ReleaseAsync().ConfigureAwait(false);
        await _prefetchContext.ReleaseAsync().ConfigureAwait(false);
        _recorder?.ReleaseWhenIdle();
    }

    /// <returns><see langword="false"/> when a row was left for later (a transient failure, or the host stopping).</returns>
    private async Task<bool> PublishRowsAsync(
        DbContext db, string? owner, INotificationTransport transport, List<OutboxMessage> rows, CancellationToken stoppingToken)
    {
        var states = new RowState[rows.Count];
        var items = new List<Item>(rows.Count);
        for (var r = 0; r < rows.Count; r++)
        {
            states[r] = new RowState();
            Expand(rows[r], r, transport.MaxEventDataBytes - ChannelSequences.MaxAddedBytes, items, states[r]);
        }

        // A row is recorded as a whole, so a stop requested by the host is honoured only before a row's first
        // notification goes out: a row already partly published is finished, else its first notifications would be
        // published again by the next dispatcher. Rows not begun are released untouched (no attempt is counted).
        (int Row, string Reason)? stopped = null;
        var unsent = rows.Count;
        var batchSize = Math.Max(1, transport.MaxBatchSize);
        for (var start = 0; start < items.Count && stopped is null && unsent == rows.Count;)
        {
            var first = items[start].Row;
            if (stoppingToken.IsCancellationRequested && !states[first].Started)
            {
                unsent = first;
                break;
            }

            var end = Math.Min(start + batchSize, items.Count);
            if (stoppingToken.IsCancellationRequested)
            {
                end = start + items.Skip(start).Take(end - start).TakeWhile(i => i.Row == first).Count(); // finish this row only
            }

            var chunk = items.GetRange(start, end - start);
            start = end;
            Stamp(chunk);
            var failure = await PublishTracedAsync(transport, rows, chunk, states[first].Started ? CancellationToken.None : stoppingToken).ConfigureAwait(false);
            if (failure is { ConcernsApplication: true })
            {
                Paused(failure); // no event is at fault: this row and those after it stay pending, untouched
                unsent = first;
                break;
            }

            if (failure is null)
            {
                RecordPublished(rows, chunk);
                foreach (var item in chunk)
                {
                    states[item.Row].Delivered++;
                    states[item.Row].Started = true;
                }

                continue;
            }

            if (failure.IsTransient || chunk.Count == 1)
            {
                if (failure.IsTransient)
                {
                    stopped = (chunk[0].Row, failure.Reason);
                    Unstamp(chunk, 0);
                }
                else
                {
                    states[chunk[0].Row].Refused.Add((Alone(rows, chunk[0]), failure.Reason));
                    states[chunk[0].Row].Started = true;
                }

                continue;
            }

            // The server refused the batch: find the notifications it refuses one by one, so the others still go.
            for (var k = 0; k < chunk.Count; k++)
            {
                var item = chunk[k];
                if (stoppingToken.IsCancellationRequested && !states[item.Row].Started)
                {
                    unsent = item.Row;
                    Unstamp(chunk, k);
                    break;
                }

                var single = await PublishTracedAsync(transport, rows, [item], states[item.Row].Started ? CancellationToken.None : stoppingToken).ConfigureAwait(false);
                if (single is null)
                {
                    RecordPublished(rows, [item]);
                    states[item.Row].Delivered++;
                    states[item.Row].Started = true;
                }
                else if (single.IsTransient)
                {
                    stopped = (item.Row, single.Reason);
                    Unstamp(chunk, k);
                    break;
                }
                else if (single.ConcernsApplication)
                {
                    Paused(single);
                    unsent = item.Row;
                    break;
                }
                else
                {
                    states[item.Row].Refused.Add((Alone(rows, item), single.Reason));
                    states[item.Row].Started = true;
                }
            }
        }

        await RecordAsync(db, owner, rows, states, stopped, unsent).ConfigureAwait(false);
        return stopped is null && unsent == rows.Count;
    }

    private async Task RecordAsync(
        DbContext db, string? owner, List<OutboxMessage> rows, RowState[] states, (int Row, string Reason)? stopped, int unsent)
    {
        // Outcomes are recorded even when the host is stopping: what the server accepted must not be published again.
        var none = CancellationToken.None;
        var now = _time.GetUtcNow().UtcDateTime;
        var delivered = new List<long>();
        var release = new List<long>();
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            var state = states[r];
            if (r >= unsent)
            {
                release.Add(row.Id);
                continue;
            }

            if (stopped is { } stop && r >= stop.Row)
            {
                if (r == stop.Row)
                {
                    var attempts = row.Attempts + 1;
                    var deadLetter = attempts >= _options.MaxAttempts;
                    var next = now + Backoff(attempts);
                    await OutboxStore.RetryLaterAsync(db, owner, row.Id, attempts, next, stop.Reason, deadLetter, none).ConfigureAwait(false);
                    if (deadLetter)
                    {
                        LogDeadLettered(_logger, row.Id, row.Count, $"out of attempts ({attempts}): {stop.Reason}");
                        Instrumentation.DeadLettered(row.Count, refused: false);
                    }
                    else
                    {
                        LogBackoff(_logger, row.Id, attempts, next, stop.Reason);
                    }
                }
                else
                {
                    release.Add(row.Id);
                }

                continue;
            }

            if (state.Refused.Count == 0)
            {
                delivered.Add(row.Id);
                continue;
            }

            foreach (var (_, reason) in state.Refused)
            {
                LogDeadLettered(_logger, row.Id, 1, reason);
                Instrumentation.DeadLettered(1, refused: true);
            }

            await OutboxStore.DeadLetterAsync(db, owner, row, state.Refused, wholeRow: state.Delivered == 0, now, none).ConfigureAwait(false);
        }

        if (owner is null && _recorder is not null)
        {
            _recorder.Accept(delivered);
        }
        else
        {
            await OutboxStore.MarkDeliveredAsync(db, owner, delivered, now, none).ConfigureAwait(false);
        }

        await OutboxStore.ReleaseAsync(db, owner, release, none).ConfigureAwait(false);
        LogRecorded(_logger, delivered.Count, release.Count + (stopped is null ? 0 : 1));
    }

    private async Task<Failure?> PublishAsync(INotificationTransport transport, List<Item> chunk, CancellationToken stoppingToken)
    {
        var events = new OutgoingEvent[chunk.Count];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = chunk[i].Event;
        }

        try
        {
            // A request in flight is not cancelled on shutdown: its outcome is recorded, so nothing is sent twice.
            await _pipeline.ExecuteAsync(
                static async (state, _) => await state.transport.PublishAsync(state.events, CancellationToken.None).ConfigureAwait(false),
                (transport, events),
                stoppingToken).ConfigureAwait(false);
            return null;
        }
        catch (PublishException exception)
        {
            return new Failure(
                exception.IsTransient, Describe(exception), exception is { IsTransient: false, Scope: PublishRefusalScope.Application }, exception.StatusCode);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return new Failure(true, "the dispatcher stopped while waiting to retry");
        }
        catch (Exception exception) when (IsTransient(exception))
        {
            return new Failure(true, Describe(exception));
        }
    }

    private void Expand(OutboxMessage row, int rowIndex, int maxDataBytes, List<Item> items, RowState state)
    {
        List<OutgoingEvent> events;
        try
        {
            events = OutboxPayload.Read(row.Payload);
        }
        catch (JsonException exception)
        {
            // Damaged, or written by a newer version: retrying cannot help, and the rows behind it must not wait.
            state.Refused.Add((row.Payload, $"the payload cannot be read: {exception.Message}"));
            return;
        }

        var firstFormat = row.Payload.AsSpan().TrimStart().StartsWith("[", StringComparison.Ordinal); // published exactly as written
        for (var index = 0; index < events.Count; index++)
        {
            var outgoing = events[index];
            var size = Encoding.UTF8.GetByteCount(outgoing.Data);
            if (size > maxDataBytes)
            {
                var data = OutboxPayload.Minimal(row.Payload, index);

                var minimalSize = Encoding.UTF8.GetByteCount(data);
                if (minimalSize > maxDataBytes)
                {
                    state.Refused.Add((OutboxPayload.Alone(row.Payload, index), $"event data is {minimalSize} bytes even in its minimal form; the transport accepts at most {maxDataBytes}"));
                    continue;
                }

                LogShrunk(_logger, row.Id, size, maxDataBytes);
                outgoing = outgoing with { Data = data };
            }

            items.Add(new Item(rowIndex, index, outgoing) { Unnumbered = firstFormat });
        }
    }

    /// <summary>Numbers the events of a chunk per channel and action (see <see cref="ChannelSequences"/>).</summary>
    private void Stamp(List<Item> chunk)
    {
        for (var i = 0; i < chunk.Count; i++)
        {
            if (chunk[i].Unnumbered)
            {
                continue;
            }

            var stamped = _sequences.Stamp(chunk[i].Event, out var seq);
            chunk[i] = chunk[i] with { Event = stamped, Seq = seq };
        }
    }

    /// <summary>Gives back the numbers of the chunk's events from <paramref name="from"/> on: they go again later.</summary>
    private void Unstamp(List<Item> chunk, int from)
    {
        for (var i = chunk.Count - 1; i >= from; i--)
        {
            _sequences.Unstamp(chunk[i].Event, chunk[i].Seq);
        }
    }

    /// <summary>What the dead letter of a refused notification stores.</summary>
    private static string Alone(List<OutboxMessage> rows, Item item) => OutboxPayload.Alone(rows[item.Row].Payload, item.Index);

    private async Task CleanupIfDueAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (now < _nextCleanup)
        {
            return;
        }

        // Once a minute, or as often as the retention asks (but at most once a second: deliveries are recorded apart
        // from publishing, so a row delivered a moment ago may not be marked yet).
        _nextCleanup = now + TimeSpan.FromTicks(Math.Clamp(_options.DeliveredRetention.Ticks, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
        var deleted = await _loopContext.RunAsync(
                (db, token) => OutboxStore.DeleteDeliveredAsync(db, now - _options.DeliveredRetention, 1000, token), cancellationToken)
            .ConfigureAwait(false);
        if (deleted > 0)
        {
            LogCleanedUp(_logger, deleted);
        }
    }

    /// <summary>The recorder's write: the leader's rows, delivered now.</summary>
    private Task<int> MarkDeliveredAsync(List<long> ids, CancellationToken cancellationToken)
        => _recorderContext.RunAsync(
            (db, token) => OutboxStore.MarkDeliveredAsync(db, owner: null, ids, _time.GetUtcNow().UtcDateTime, token), cancellationToken);

    private TimeSpan Backoff(int attempts)
    {
        var factor = Math.Pow(2, Math.Min(attempts, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(Math.Max(_options.RetryBaseDelay.Ticks, TimeSpan.TicksPerMillisecond * 10) * factor, _options.MaxBackoff.Ticks));
        return delay;
    }

    private static bool IsTransient(Exception exception)
        => exception is PublishException { IsTransient: true } or HttpRequestException or TimeoutException or TaskCanceledException or IOException;

    private static string Describe(Exception exception)
        => exception is PublishException { StatusCode: { } code } ? $"{code}: {exception.Message}" : $"{exception.GetType().Name}: {exception.Message}";

    private static ResiliencePipeline BuildPipeline(EfNotifyOptions options, TimeProvider time, ILogger logger, EfNotifyInstrumentation instrumentation)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.MaxBackoff,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = args =>
                {
                    LogRetry(logger, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.Message ?? "unknown");
                    instrumentation.Retried();
                    Activity.Current?.AddEvent(new ActivityEvent("retry"));
                    return default;
                },
            });
        }

        return builder.Build();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "EfNotify dispatcher for {Context} started as {Owner}")]
    private static partial void LogStarted(ILogger logger, string context, string owner);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Publishing failed; retry {Attempt} in {Delay}: {Reason}")]
    private static partial void LogRetry(ILogger logger, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Outbox row {Id} failed (attempt {Attempts}); next attempt at {Next:O}: {Reason}")]
    private static partial void LogBackoff(ILogger logger, long id, int attempts, DateTime next, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Dead-lettered {Count} notification(s) of outbox row {Id}: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, long id, int count, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "The EfNotify dispatcher loop failed; it resumes in {Delay}")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Deleted {Count} delivered outbox rows past their retention")]
    private static partial void LogCleanedUp(ILogger logger, int count);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "A notification of outbox row {Id} has {Size} bytes of data, over the limit of {Limit}; it is sent in its minimal form")]
    private static partial void LogShrunk(ILogger logger, long id, int size, int limit);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "Claimed {Count} outbox rows, ids {First} to {Last}")]
    private static partial void LogClaimed(ILogger logger, int count, long first, long last);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "{Delivered} outbox rows delivered, {Postponed} postponed")]
    private static partial void LogRecorded(ILogger logger, int delivered, int postponed);

    /// <summary>Notification <c>Index</c> of claimed row <c>Row</c>.</summary>
    private sealed record Item(int Row, int Index, OutgoingEvent Event, long Seq = 0)
    {
        /// <summary>An event of a row in the first payload format: published as written, without a sequence number.</summary>
        public bool Unnumbered { get; init; }
    }

    /// <summary>Why a request failed; <c>ConcernsApplication</c> for a permanent refusal of every request of the application, not of these events.</summary>
    private sealed record Failure(bool IsTransient, string Reason, bool ConcernsApplication = false, int? StatusCode = null);

    private sealed class RowState
    {
        public int Delivered { get; set; }

        /// <summary>Whether a notification of the row reached the server (accepted or refused).</summary>
        public bool Started { get; set; }

        public List<(string Item, string Reason)> Refused { get; } = [];
    }
}
