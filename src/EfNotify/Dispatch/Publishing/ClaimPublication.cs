using EfNotify.Outbox;
using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>How far the notifications of one claimed row got.</summary>
internal sealed class RowState
{
    public int Delivered { get; set; }

    /// <summary>The row's notifications not yet accepted or refused: the row is judged once none is left.</summary>
    public int Pending { get; set; }

    public List<(string Item, string Reason)> Refused { get; } = [];

    /// <summary>Whether an event of the row is held (<see cref="CoalescingStage"/>): the row stays pending, unrecorded.</summary>
    public bool Held { get; set; }
}

/// <summary>
/// The outcome of publishing one claim, row by row: <c>Stopped</c> is the row that waits for a later attempt after a
/// transient failure; a row with notifications still pending was not finished (a pause, the host stopping, a row
/// postponed before it) and is released. Rows are judged each on their own state, so completions need not arrive in id
/// order.
/// </summary>
internal sealed record ClaimOutcome(IReadOnlyList<RowState> States, (int Row, string Reason)? Stopped)
{
    public bool Complete => Stopped is null && States.All(s => s.Pending == 0);

    /// <summary>The run that published the claim: recording its outcome ends its hold on later claims (<see cref="LaneChain"/>).</summary>
    public ClaimRun? Run { get; init; }
}

/// <summary>
/// Publishes the rows of one claim in batches the transport accepts, with up to
/// <see cref="EfNotifyOptions.MaxRequestsInFlight"/> requests at once: each channel keeps to one lane
/// (<see cref="LaneChain.Place"/>), whose batches go one after the other in id order, so each channel's events arrive
/// in order. Numbers the events per channel (<see cref="ChannelSequences"/>), sends each batch
/// (<see cref="BatchPublisher"/>) and, when the server refuses a batch, sends its events one by one so that only the
/// refused ones are dead-lettered. What the lanes share is a <see cref="ClaimRun"/>. Events of hot channels pass the
/// <see cref="CoalescingStage"/> first. A claim may be started while earlier ones are still on the wire
/// (<see cref="Start"/>): its lanes follow theirs (<see cref="LaneChain"/>).
/// </summary>
internal sealed partial class ClaimPublication(
    BatchPublisher publisher, ChannelSequences sequences, CoalescingStage coalescing, PauseGate pause, int lanes, ILogger logger)
{
    private readonly LaneChain _chain = new(lanes);

    public async Task<ClaimOutcome> PublishAsync(IReadOnlyList<OutboxMessage> rows, bool full, CancellationToken stoppingToken)
        => Finish(rows, await Start(rows, full, stoppingToken).ConfigureAwait(false));

    /// <summary>
    /// Starts publishing a claim, after the claims started before it, and returns when its lanes are done; call
    /// <see cref="Finish"/> with the outcome before recording it. Called by one caller at a time (the dispatcher loop).
    /// A <paramref name="full"/> claim (more rows wait) is spread over every lane, not only over those its requests
    /// fill: the claims read while it is on the wire keep its channels in its lanes.
    /// </summary>
    public Task<ClaimOutcome> Start(IReadOnlyList<OutboxMessage> rows, bool full, CancellationToken stoppingToken)
    {
        var states = new RowState[rows.Count];
        var events = new List<PlannedEvent>(rows.Count);
        var maxDataBytes = publisher.MaxEventDataBytes - ChannelSequences.MaxAddedBytes - CoalescingStage.MaxAddedBytes;
        for (var r = 0; r < rows.Count; r++)
        {
            states[r] = new RowState();
            var plan = PublishPlanner.PlanRow(r, rows[r].Payload, maxDataBytes);
            states[r].Refused.AddRange(plan.Refused);
            events.AddRange(plan.Events);
            foreach (var (_, size) in plan.Shrunk)
            {
                LogShrunk(logger, rows[r].Id, size, maxDataBytes);
            }
        }

        return PublishAsync(rows, states, coalescing.Admit(rows, events), full, stoppingToken);
    }

    /// <summary>Publishes held events whose window ended (<see cref="CoalescingStage.TakeDue"/>).</summary>
    public async Task<ClaimOutcome> PublishDueAsync(DueClaim due, CancellationToken stoppingToken)
        => Finish(due.Rows, await PublishAsync(due.Rows, [.. due.States], due.Events, full: false, stoppingToken).ConfigureAwait(false));

    /// <summary>
    /// Marks the rows whose events the <see cref="CoalescingStage"/> holds, on the caller's side of the stage, as the
    /// outcome is about to be recorded: the claims read after it no longer follow it.
    /// </summary>
    public ClaimOutcome Finish(IReadOnlyList<OutboxMessage> rows, ClaimOutcome outcome)
    {
        _chain.Recorded(outcome.Run);
        for (var r = 0; r < rows.Count; r++)
        {
            outcome.States[r].Held = coalescing.Holds(rows[r].Id);
        }

        return outcome;
    }

    private async Task<ClaimOutcome> PublishAsync(
        IReadOnlyList<OutboxMessage> rows, RowState[] states, List<PlannedEvent> events, bool full, CancellationToken stoppingToken)
    {
        // A row is recorded as a whole, so a stop requested by the host is honoured only before a row's first
        // notification goes out: a row already partly published is finished, else its first notifications would be
        // published again by the next dispatcher. Rows not begun are released untouched (no attempt is counted).
        foreach (var state in states)
        {
            state.Pending = 0; // held events are not published now: a row waits only for the events of this publish
        }

        foreach (var planned in events)
        {
            states[planned.Row].Pending++;
        }

        var run = new ClaimRun(states, pause.IsPaused, stoppingToken);
        // A claim that is not full fills only the lanes its requests need; a full one all of them (see Start).
        var fill = full ? _chain.Lanes : (events.Count + publisher.MaxBatchSize - 1) / publisher.MaxBatchSize;
        var byLane = _chain.Place(events, fill);
        _chain.Append(run);
        var work = new List<Task>(byLane.Length);
        for (var i = 0; i < byLane.Length; i++)
        {
            if (byLane[i] is { } lane)
            {
                work.Add(_chain.Chain(i, () => PublishLaneAsync(rows, run, lane)));
            }
        }

        await Task.WhenAll(work).ConfigureAwait(false);
        if (run.Pause is { } refusal)
        {
            pause.Refused(refusal); // once per claim, after every lane's answer: no event is at fault, the rows stay pending
        }

        return run.Outcome();
    }

    /// <summary>Publishes the events of one lane in order, one request at a time, until they are done or the run stops them.</summary>
    /// <returns>Whether every event of the lane got its answer (the same lane of a later claim may go on).</returns>
    private async Task<bool> PublishLaneAsync(IReadOnlyList<OutboxMessage> rows, ClaimRun run, List<PlannedEvent> lane)
    {
        try
        {
            for (var start = 0; ;)
            {
                var (end, token) = await run.NextAsync(lane, start, publisher.MaxBatchSize).ConfigureAwait(false);
                if (end == start)
                {
                    return start == lane.Count;
                }

                var batch = lane.GetRange(start, end - start);
                start = end;
                Stamp(batch);
                var failure = await publisher.PublishAsync(rows, batch, token).ConfigureAwait(false);
                var goOn = await OnOutcomeAsync(rows, run, batch, failure).ConfigureAwait(false);
                run.Answered();
                if (!goOn)
                {
                    return false; // the lane's later events must not overtake the one that waits
                }
            }
        }
        catch
        {
            run.Halt(null); // a fault of the loop: the other lanes begin nothing more
            run.Answered();
            throw;
        }
    }

    /// <returns>Whether the lane goes on.</returns>
    private async Task<bool> OnOutcomeAsync(IReadOnlyList<OutboxMessage> rows, ClaimRun run, List<PlannedEvent> batch, PublishFailure? failure)
    {
        switch (PublishPlanner.OnOutcome(failure, batch.Count))
        {
            case BatchAction.Published:
                run.Delivered(batch);
                return true;
            case BatchAction.Pause:
                Unstamp(batch, 0);
                run.Halt(failure); // this row and those after it stay pending, untouched
                return false;
            case BatchAction.Postpone:
                Unstamp(batch, 0);
                run.Postpone(batch[0].Row, failure!.Reason);
                return false;
            case BatchAction.DeadLetter:
                run.Refused(batch[0], OutboxPayload.Alone(rows[batch[0].Row].Payload, batch[0].Index), failure!.Reason);
                return true;
            default:
                return await PublishOneByOneAsync(rows, run, batch).ConfigureAwait(false);
        }
    }

    /// <summary>The server refused the batch: find the notifications it refuses one by one, so the others still go.</summary>
    private async Task<bool> PublishOneByOneAsync(IReadOnlyList<OutboxMessage> rows, ClaimRun run, List<PlannedEvent> batch)
    {
        for (var k = 0; k < batch.Count; k++)
        {
            if (!run.Allows(batch[k].Row))
            {
                Unstamp(batch, k);
                return false;
            }

            // Every row of the batch is under way: its notifications are finished even when the host stops.
            var failure = await publisher.PublishAsync(rows, [batch[k]], CancellationToken.None).ConfigureAwait(false);
            if (PublishPlanner.OnOutcome(failure, 1) is BatchAction.Postpone or BatchAction.Pause)
            {
                Unstamp(batch, k + 1); // the rest of the batch goes again later; this event's number is given back below
            }

            if (!await OnOutcomeAsync(rows, run, [batch[k]], failure).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Numbers the events of a batch per channel and action (see <see cref="ChannelSequences"/>).</summary>
    private void Stamp(List<PlannedEvent> batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            if (!batch[i].Unnumbered)
            {
                var stamped = sequences.Stamp(batch[i].Event, out var seq);
                batch[i] = batch[i] with { Event = stamped, Seq = seq };
            }
        }
    }

    /// <summary>Gives back the numbers of the batch's events from <paramref name="from"/> on: they go again later.</summary>
    private void Unstamp(List<PlannedEvent> batch, int from)
    {
        for (var i = batch.Count - 1; i >= from; i--)
        {
            sequences.Unstamp(batch[i].Event, batch[i].Seq);
        }
    }

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "A notification of outbox row {Id} has {Size} bytes of data, over the limit of {Limit}; it is sent in its minimal form")]
    private static partial void LogShrunk(ILogger logger, long id, int size, int limit);
}
