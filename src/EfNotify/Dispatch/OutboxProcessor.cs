using EfNotify.Diagnostics;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Polly;

namespace EfNotify.Dispatch;

/// <summary>What one pass of the dispatcher found.</summary>
internal enum PassResult
{
    /// <summary>Nothing more to do now: wait for a commit or the polling interval.</summary>
    Idle,

    /// <summary>The claim was full: more rows may be waiting.</summary>
    More,

    /// <summary>The server refused the application: wait out the pause (<see cref="PauseGate"/>).</summary>
    Paused,
}

/// <summary>
/// One pass of the dispatcher: lead (or stand by), claim with the strategy of its role, publish the claim, record its
/// outcome. Holds the parts a pass uses and the contexts they run on.
/// </summary>
internal sealed partial class OutboxProcessor<TContext> : IAsyncDisposable
    where TContext : DbContext
{
    private readonly EfNotifyOptions _options;
    private readonly TimeProvider _time;
    private readonly OutboxMonitor _monitor;
    private readonly DispatcherRole<TContext> _role;
    private readonly ILogger _logger;
    private readonly DispatcherLeadership _leadership;
    private readonly ContextSlot<TContext> _context;
    private readonly DeliveryWrites<TContext> _deliveryWrites;
    private readonly ExclusiveClaims<TContext> _exclusive;
    private readonly LeasedClaims _leased;
    private readonly ChannelSequences _sequences = new();
    private readonly CoalescingStage _coalescing;
    private readonly ClaimPublication _publication;
    private readonly OutcomeRecorder _outcomes;

    public OutboxProcessor(
        IServiceProvider services, DispatchParts parts, INotificationTransport transport, ResiliencePipeline pipeline, DispatcherRole<TContext> role, string owner)
    {
        (_options, _time, _monitor, _logger) = (parts.Options, parts.Time, parts.Monitor, parts.Logger);
        _role = role;
        var schedule = RetrySchedule.From(_options);
        _leadership = new DispatcherLeadership(_time, parts.Signal, _options.PollingInterval, _logger);
        _context = new ContextSlot<TContext>(services);
        _deliveryWrites = new DeliveryWrites<TContext>(services, _time);
        _exclusive = new ExclusiveClaims<TContext>(services, _options, _time, new DeliveryRecorder(_deliveryWrites, schedule, _time, _logger));
        _leased = new LeasedClaims(owner, _options, _time);
        Pause = new PauseGate(schedule, _time, parts.Instrumentation, _monitor, _logger);
        _coalescing = new CoalescingStage(_time);
        _publication = new ClaimPublication(new BatchPublisher(transport, pipeline, parts.Instrumentation, Pause, owner), _sequences, _coalescing, Pause, _options.MaxRequestsInFlight, _logger);
        _outcomes = new OutcomeRecorder(schedule, _options, _time, parts.Instrumentation, _logger);
    }

    public PauseGate Pause { get; }

    public async Task<PassResult> RunAsync(CancellationToken stoppingToken)
    {
        bool full;
        try
        {
            // A standby asks its lock without a context: its pass is one lock attempt, with no scope, context or query
            // made for it, which is most of what an idle standby spends (issue 12). The first pass connects the lock;
            // claims still on the wire from when it led are recorded first, with a context (DispatchOnceAsync).
            // A leader's pass goes on with the state it was given here rather than asking its lock twice.
            LeaderState? known = null;
            if (_inFlight.Count == 0 && _leadership.IsConnected)
            {
                known = await _leadership.TryLeadAsync(stoppingToken).ConfigureAwait(false);
                if (known == LeaderState.Standby)
                {
                    await StandByAsync().ConfigureAwait(false);
                    await ReportAsync(stoppingToken).ConfigureAwait(false);
                    return Pause.IsPaused ? PassResult.Paused : PassResult.Idle;
                }
            }

            full = await _context.RunAsync((db, token) => DispatchOnceAsync(db, known, token), stoppingToken).ConfigureAwait(false);
        }
        catch
        {
            _coalescing.Reset(); // what it held stays pending in the outbox and is claimed again
            throw;
        }

        await ReportAsync(stoppingToken).ConfigureAwait(false);
        return Pause.IsPaused ? PassResult.Paused : full ? PassResult.More : PassResult.Idle;
    }

    /// <summary>
    /// Lets go of the contexts when the loop goes idle or fails, and asks the delivery record to let go of its own once
    /// it has written what it holds: an idle dispatcher holds no context.
    /// </summary>
    public async Task ReleaseContextsAsync()
    {
        await _context.ReleaseAsync().ConfigureAwait(false);
        await _exclusive.ReleaseContextAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        // Before the leadership goes: the next leader must not publish again what this one delivered.
        try
        {
            await DrainOnDisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            await _context.ReleaseAsync().ConfigureAwait(false);
            await _exclusive.DisposeAsync().ConfigureAwait(false);
            await _deliveryWrites.ReleaseAsync().ConfigureAwait(false);
            _role.State = LeaderState.Standby;
            await _leadership.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Claims and publishes one batch of rows.</summary>
    /// <param name="db">The pass's context.</param>
    /// <param name="known">The leadership this pass already confirmed without a context, if it did.</param>
    /// <param name="cancellationToken">Stops the pass.</param>
    /// <returns><see langword="true"/> when the claim was full, so more rows may be waiting.</returns>
    private async Task<bool> DispatchOnceAsync(DbContext db, LeaderState? known, CancellationToken cancellationToken)
    {
        var state = known ?? await _leadership.TryLeadAsync(db, cancellationToken).ConfigureAwait(false);
        if (!CanPipeline(state))
        {
            await DrainAsync(db).ConfigureAwait(false); // claims of the pipeline, taken as the leader
        }

        if (state == LeaderState.Standby)
        {
            await StandByAsync().ConfigureAwait(false);
            return false; // another instance publishes; this one stands by
        }

        _role.State = state;

        if (state != LeaderState.Exclusive)
        {
            await _exclusive.AbandonAsync().ConfigureAwait(false);
        }

        IClaimStrategy claims = state == LeaderState.Exclusive ? _exclusive : _leased;
        // Fenced: losing the lock stops publishing before the next request, as a stop of the host does.
        using var fenced = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _leadership.Lost);
        if (!await PublishDueAsync(db, claims, fenced.Token).ConfigureAwait(false))
        {
            return false;
        }

        if (CanPipeline(state))
        {
            return await PipelineOnceAsync(db, cancellationToken).ConfigureAwait(false);
        }

        var rows = await claims.ClaimAsync(db, _coalescing.HeldRows, cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            return false;
        }

        LogClaimed(_logger, rows.Count, rows[0].Id, rows[^1].Id);
        var outcome = await _publication.PublishAsync(rows, rows.Count == _options.ClaimBatchSize, fenced.Token).ConfigureAwait(false);
        await _outcomes.RecordAsync(db, claims, rows, outcome).ConfigureAwait(false);
        await SettleCoalescingAsync(db, claims, rows, outcome).ConfigureAwait(false);
        if (!outcome.Complete)
        {
            await claims.AbandonAsync().ConfigureAwait(false); // what was read ahead must not overtake a row that waits for a retry
        }

        return rows.Count == _options.ClaimBatchSize;
    }

    /// <summary>Another instance leads: this one holds nothing of a leader's.</summary>
    private async Task StandByAsync()
    {
        _role.State = LeaderState.Standby;
        await _exclusive.AbandonAsync().ConfigureAwait(false);
        _sequences.Reset(); // the leader numbers the channels now; leading again starts a new epoch
        _coalescing.Reset(); // held rows stay pending: the leader publishes them
    }

    /// <summary>Counts the backlog when due and records that the loop completed a pass.</summary>
    private async Task ReportAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (_monitor.IsBacklogDue(now, _options.BacklogRefreshInterval))
        {
            _monitor.SetBacklog(await _context.RunAsync((db, token) => OutboxQueries.GetBacklogAsync(db, now, token), cancellationToken).ConfigureAwait(false));
        }

        _monitor.IterationCompleted(now);
    }

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "Claimed {Count} outbox rows, ids {First} to {Last}")]
    private static partial void LogClaimed(ILogger logger, int count, long first, long last);
}

/// <summary>The services the dispatcher's parts share.</summary>
internal sealed record DispatchParts(
    EfNotifyOptions Options, TimeProvider Time, OutboxSignal Signal, OutboxMonitor Monitor, EfNotifyInstrumentation Instrumentation, ILogger Logger);
