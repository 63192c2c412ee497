using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Dispatch;

/// <summary>
/// The leader's pipeline: the next claim is read and its lanes start while earlier claims are still on the wire, so a
/// lane never waits for the slowest lane of its claim, and the claim's read and record leave the publishing path.
/// Each channel keeps to its lane across claims (<see cref="LaneChain"/>); a claim is recorded once its lanes are done,
/// in claim order. Only while leading and while no coalescing window is open: the <see cref="CoalescingStage"/> and
/// claims under leases keep to one claim at a time.
/// </summary>
internal sealed partial class OutboxProcessor<TContext>
{
    /// <summary>Claims on the wire at once: one publishing, the next one starting on the lanes it has finished.</summary>
    internal const int ClaimsInFlight = 2;

    private readonly Queue<ClaimInFlight> _inFlight = new();

    /// <summary>Whether the last claim recorded went out in full: after a failure, claims go one at a time until one does.</summary>
    private bool _lastComplete = true;

    private bool CanPipeline(LeaderState state) => state == LeaderState.Exclusive && _coalescing.IsEmpty;

    /// <summary>One step of the pipeline: claim when there is room, then record the oldest claim once it is done.</summary>
    /// <returns><see langword="true"/> when the loop goes on at once: claims are in flight, or the last claim was full.</returns>
    private async Task<bool> PipelineOnceAsync(DbContext db, CancellationToken cancellationToken)
    {
        var full = false;
        if (_inFlight.Count < ClaimsInFlight)
        {
            var rows = await _exclusive.ClaimAsync(db, Excluded(), cancellationToken).ConfigureAwait(false);
            if (rows.Count > 0)
            {
                LogClaimed(_logger, rows.Count, rows[0].Id, rows[^1].Id);
                // Fenced: losing the lock stops publishing before the next request, as a stop of the host does.
                var fence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _leadership.Lost);
                full = rows.Count == _options.ClaimBatchSize;
                _inFlight.Enqueue(new ClaimInFlight(rows, _publication.Start(rows, full, fence.Token), fence));
            }
        }

        if (_inFlight.Count == 0)
        {
            return false;
        }

        if (!_coalescing.IsEmpty || Pause.IsPaused)
        {
            await DrainAsync(db).ConfigureAwait(false); // the claim opened a window, or the server refused the application
            return full;
        }

        if (_inFlight.Count < ClaimsInFlight && full && _lastComplete)
        {
            // A backlog: claim the next rows while these are on the wire. A claim that was not full is recorded first,
            // as before: rows committed meanwhile make a fuller claim then, where a claim of its own per commit would
            // spend a request on each of few events (measured behind 25 and 100 ms: fewer events a second, and later).
            // While the server fails, one claim at a time: a backlog then stays in the database, not in memory.
            return true;
        }

        await RecordOldestAsync(db).ConfigureAwait(false);
        if (Pause.IsPaused)
        {
            await DrainAsync(db).ConfigureAwait(false);
        }

        return _inFlight.Count > 0 || full;
    }

    /// <summary>Records every claim in flight, oldest first (the leadership or the stage changed, or the host stops).</summary>
    private async Task DrainAsync(DbContext db)
    {
        while (_inFlight.Count > 0)
        {
            await RecordOldestAsync(db).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for the oldest claim and records its outcome. When it did not go out in full, the claims after it were
    /// halted (<see cref="ClaimRun.Follow"/>): they are recorded too, and what was read ahead is dropped.
    /// </summary>
    private async Task RecordOldestAsync(DbContext db)
    {
        var claim = _inFlight.Dequeue();
        ClaimOutcome outcome;
        try
        {
            outcome = _publication.Finish(claim.Rows, await claim.Outcome.ConfigureAwait(false));
        }
        finally
        {
            claim.Fence.Dispose();
        }

        _lastComplete = outcome.Complete;
        await _outcomes.RecordAsync(db, _exclusive, claim.Rows, outcome).ConfigureAwait(false);
        await SettleCoalescingAsync(db, _exclusive, claim.Rows, outcome).ConfigureAwait(false);
        if (!outcome.Complete)
        {
            await DrainAsync(db).ConfigureAwait(false);
            await _exclusive.AbandonAsync().ConfigureAwait(false); // what was read ahead must not overtake a row that waits for a retry
        }
    }

    /// <summary>What a claim must skip besides what awaits its delivery record: held rows and rows on the wire.</summary>
    private IReadOnlyCollection<long> Excluded()
    {
        if (_inFlight.Count == 0)
        {
            return _coalescing.HeldRows;
        }

        var excluded = new HashSet<long>(_coalescing.HeldRows);
        foreach (var claim in _inFlight)
        {
            excluded.UnionWith(claim.Rows.Select(r => r.Id));
        }

        return excluded;
    }

    /// <summary>Records what is still in flight when the processor is disposed: what the server accepted is not published again.</summary>
    private async Task DrainOnDisposeAsync()
    {
        if (_inFlight.Count > 0)
        {
            await _context.RunAsync(async (db, _) => { await DrainAsync(db).ConfigureAwait(false); return true; }, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private sealed record ClaimInFlight(IReadOnlyList<OutboxMessage> Rows, Task<ClaimOutcome> Outcome, CancellationTokenSource Fence);
}
