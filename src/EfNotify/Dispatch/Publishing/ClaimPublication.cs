using EfNotify.Outbox;
using Microsoft.Extensions.Logging;

namespace EfNotify.Dispatch;

/// <summary>How far the notifications of one claimed row got.</summary>
internal sealed class RowState
{
    public int Delivered { get; set; }

    /// <summary>Whether a notification of the row reached the server (accepted or refused).</summary>
    public bool Started { get; set; }

    public List<(string Item, string Reason)> Refused { get; } = [];

    /// <summary>Whether an event of the row is held (<see cref="CoalescingStage"/>): the row stays pending, unrecorded.</summary>
    public bool Held { get; set; }
}

/// <summary>
/// The outcome of publishing one claim, row by row: <c>Stopped</c> is the row that waits for a later attempt after a
/// transient failure, <c>Unsent</c> the first row not begun (a pause, or the host stopping). Rows are judged each on their
/// own state, so completions need not arrive in id order.
/// </summary>
internal sealed record ClaimOutcome(IReadOnlyList<RowState> States, (int Row, string Reason)? Stopped, int Unsent)
{
    public bool Complete => Stopped is null && Unsent == States.Count;
}

/// <summary>
/// Publishes the rows of one claim in id order, in batches the transport accepts: numbers their events per channel
/// (<see cref="ChannelSequences"/>), sends each batch (<see cref="BatchPublisher"/>) and, when the server refuses a
/// batch, sends its events one by one so that only the refused ones are dead-lettered. Events of hot channels pass the
/// <see cref="CoalescingStage"/> first.
/// </summary>
internal sealed partial class ClaimPublication(
    BatchPublisher publisher, ChannelSequences sequences, CoalescingStage coalescing, PauseGate pause, ILogger logger)
{
    public Task<ClaimOutcome> PublishAsync(IReadOnlyList<OutboxMessage> rows, CancellationToken stoppingToken)
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

        return PublishAsync(rows, states, coalescing.Admit(rows, events), stoppingToken);
    }

    /// <summary>Publishes held events whose window ended (<see cref="CoalescingStage.TakeDue"/>).</summary>
    public Task<ClaimOutcome> PublishDueAsync(DueClaim due, CancellationToken stoppingToken)
        => PublishAsync(due.Rows, [.. due.States], due.Events, stoppingToken);

    private async Task<ClaimOutcome> PublishAsync(
        IReadOnlyList<OutboxMessage> rows, RowState[] states, List<PlannedEvent> events, CancellationToken stoppingToken)
    {
        // A row is recorded as a whole, so a stop requested by the host is honoured only before a row's first
        // notification goes out: a row already partly published is finished, else its first notifications would be
        // published again by the next dispatcher. Rows not begun are released untouched (no attempt is counted).
        (int Row, string Reason)? stopped = null;
        var unsent = rows.Count;
        for (var start = 0; start < events.Count && stopped is null && unsent == rows.Count;)
        {
            var first = events[start].Row;
            var stopping = stoppingToken.IsCancellationRequested;
            if (stopping && !states[first].Started)
            {
                unsent = first;
                break;
            }

            var end = PublishPlanner.BatchEnd(events, start, publisher.MaxBatchSize, finishRowOnly: stopping);
            var batch = events.GetRange(start, end - start);
            start = end;
            Stamp(batch);
            var failure = await publisher.PublishAsync(rows, batch, Token(states[first], stoppingToken)).ConfigureAwait(false);
            switch (PublishPlanner.OnOutcome(failure, batch.Count))
            {
                case BatchAction.Published:
                    Delivered(states, batch);
                    break;
                case BatchAction.Pause:
                    pause.Refused(failure!); // no event is at fault: this row and those after it stay pending, untouched
                    unsent = first;
                    break;
                case BatchAction.Postpone:
                    stopped = (first, failure!.Reason);
                    Unstamp(batch, 0);
                    break;
                case BatchAction.DeadLetter:
                    Refused(rows, states, batch[0], failure!.Reason);
                    break;
                case BatchAction.Split:
                    (stopped, unsent) = await PublishOneByOneAsync(rows, states, batch, stoppingToken).ConfigureAwait(false);
                    break;
            }
        }

        for (var r = 0; r < rows.Count; r++)
        {
            states[r].Held = coalescing.Holds(rows[r].Id);
        }

        return new ClaimOutcome(states, stopped, unsent);
    }

    /// <summary>The server refused the batch: find the notifications it refuses one by one, so the others still go.</summary>
    private async Task<((int Row, string Reason)? Stopped, int Unsent)> PublishOneByOneAsync(
        IReadOnlyList<OutboxMessage> rows, RowState[] states, List<PlannedEvent> batch, CancellationToken stoppingToken)
    {
        for (var k = 0; k < batch.Count; k++)
        {
            var planned = batch[k];
            if (stoppingToken.IsCancellationRequested && !states[planned.Row].Started)
            {
                Unstamp(batch, k);
                return (null, planned.Row);
            }

            var failure = await publisher.PublishAsync(rows, [planned], Token(states[planned.Row], stoppingToken)).ConfigureAwait(false);
            switch (PublishPlanner.OnOutcome(failure, 1))
            {
                case BatchAction.Published:
                    Delivered(states, [planned]);
                    break;
                case BatchAction.Postpone:
                    Unstamp(batch, k);
                    return ((planned.Row, failure!.Reason), rows.Count);
                case BatchAction.Pause:
                    pause.Refused(failure!);
                    return (null, planned.Row);
                default:
                    Refused(rows, states, planned, failure!.Reason);
                    break;
            }
        }

        return (null, rows.Count);
    }

    /// <summary>A row under way is finished even when the host stops; one not begun may be cancelled while it waits for a retry.</summary>
    private static CancellationToken Token(RowState state, CancellationToken stoppingToken) => state.Started ? CancellationToken.None : stoppingToken;

    private static void Delivered(RowState[] states, IReadOnlyList<PlannedEvent> batch)
    {
        foreach (var planned in batch)
        {
            states[planned.Row].Delivered++;
            states[planned.Row].Started = true;
        }
    }

    private static void Refused(IReadOnlyList<OutboxMessage> rows, RowState[] states, PlannedEvent planned, string reason)
    {
        states[planned.Row].Refused.Add((OutboxPayload.Alone(rows[planned.Row].Payload, planned.Index), reason));
        states[planned.Row].Started = true;
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
