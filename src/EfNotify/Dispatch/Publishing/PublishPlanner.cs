using System.Text;
using System.Text.Json;
using EfNotify.Outbox;

namespace EfNotify.Dispatch;

/// <summary>Notification <c>Index</c> of claimed row <c>Row</c>, as it goes on the wire.</summary>
internal sealed record PlannedEvent(int Row, int Index, OutgoingEvent Event, long Seq = 0)
{
    /// <summary>An event of a row in the first payload format: published as written, without a sequence number.</summary>
    public bool Unnumbered { get; init; }

    /// <summary>The coalescing window of its channel and action (<see cref="CoalescingStage"/>); zero for none.</summary>
    public TimeSpan Window { get; init; }
}

/// <summary>The notifications of one outbox row that fit the transport, and those refused before any request.</summary>
internal sealed record RowPlan(IReadOnlyList<PlannedEvent> Events, IReadOnlyList<(string Item, string Reason)> Refused, IReadOnlyList<(int Index, int Size)> Shrunk);

/// <summary>What to do after a request: the answer to a failure, by its kind and the size of the batch.</summary>
internal enum BatchAction
{
    /// <summary>Accepted: the events count as published.</summary>
    Published,

    /// <summary>Leave the row of the first event for a later attempt (and every row after it).</summary>
    Postpone,

    /// <summary>Pause publishing: this row and those after it stay pending, untouched.</summary>
    Pause,

    /// <summary>Dead-letter the one event of the batch.</summary>
    DeadLetter,

    /// <summary>The server refused a batch of several: send its events one by one, so only the refused ones are dead-lettered.</summary>
    Split,
}

/// <summary>
/// Publish planning, without I/O: the events of a row and the size guard, the batches, and what a failure means for a
/// batch. The batch publisher carries the plans out.
/// </summary>
internal static class PublishPlanner
{
    /// <summary>
    /// Reads the notifications of a row. Data over <paramref name="maxDataBytes"/> is sent in its minimal form
    /// (<see cref="OutboxPayload.Minimal"/>); a notification still over it, or a payload that cannot be read, is refused.
    /// </summary>
    public static RowPlan PlanRow(int row, string payload, int maxDataBytes)
    {
        List<OutgoingEvent> read;
        List<TimeSpan> windows = [];
        try
        {
            read = OutboxPayload.Read(payload, windows);
        }
        catch (JsonException exception)
        {
            // Damaged, or written by a newer version: retrying cannot help, and the rows behind it must not wait.
            return new RowPlan([], [(payload, $"the payload cannot be read: {exception.Message}")], []);
        }

        var unnumbered = payload.AsSpan().TrimStart().StartsWith("[", StringComparison.Ordinal); // first format: published exactly as written
        var events = new List<PlannedEvent>(read.Count);
        List<(string, string)>? refused = null; // made only for a row that has some: nearly every row has none
        List<(int, int)>? shrunk = null;
        for (var index = 0; index < read.Count; index++)
        {
            var outgoing = read[index];
            var size = Encoding.UTF8.GetByteCount(outgoing.Data);
            if (size > maxDataBytes)
            {
                var data = OutboxPayload.Minimal(payload, index);
                var minimalSize = Encoding.UTF8.GetByteCount(data);
                if (minimalSize > maxDataBytes)
                {
                    (refused ??= []).Add((OutboxPayload.Alone(payload, index), $"event data is {minimalSize} bytes even in its minimal form; the transport accepts at most {maxDataBytes}"));
                    continue;
                }

                (shrunk ??= []).Add((index, size));
                outgoing = outgoing with { Data = data };
            }

            events.Add(new PlannedEvent(row, index, outgoing) { Unnumbered = unnumbered, Window = windows[index] });
        }

        return new RowPlan(events, refused ?? (IReadOnlyList<(string, string)>)[], shrunk ?? (IReadOnlyList<(int, int)>)[]);
    }

    /// <summary>
    /// The end (exclusive) of the batch that starts at <paramref name="start"/>: at most <paramref name="batchSize"/>
    /// events (at least one), all of rows before <paramref name="rowLimit"/>; <paramref name="start"/> itself when the
    /// first is not (the rows from the limit on are not to be begun: a pause, a postponed row, the host stopping).
    /// </summary>
    public static int BatchEnd(IReadOnlyList<PlannedEvent> events, int start, int batchSize, int rowLimit)
    {
        var end = Math.Min(start + Math.Max(1, batchSize), events.Count);
        var last = start;
        while (last < end && events[last].Row < rowLimit)
        {
            last++;
        }

        return last;
    }

    /// <summary>What a request's outcome means for its batch of <paramref name="batchCount"/> events.</summary>
    public static BatchAction OnOutcome(PublishFailure? failure, int batchCount) => failure?.Kind switch
    {
        null => BatchAction.Published,
        FailureKind.Transient => BatchAction.Postpone,
        FailureKind.Pause => BatchAction.Pause,
        _ => batchCount == 1 ? BatchAction.DeadLetter : BatchAction.Split,
    };
}
