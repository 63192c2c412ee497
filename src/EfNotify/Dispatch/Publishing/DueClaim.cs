using EfNotify.Outbox;

namespace EfNotify.Dispatch;

/// <summary>Held events whose window ended, with their rows (re-indexed: <c>Event.Row</c> is the place in <c>Rows</c>).</summary>
internal sealed record DueClaim(IReadOnlyList<OutboxMessage> Rows, IReadOnlyList<RowState> States, List<PlannedEvent> Events);

/// <summary>A row with held events (<see cref="CoalescingStage"/>): how many, and how far its other events got.</summary>
internal sealed class HeldRow(OutboxMessage row)
{
    public OutboxMessage Row { get; } = row;

    public int Count { get; set; }

    /// <summary>How far the row's other events got; <see langword="null"/> while its claim is being published.</summary>
    public RowState? State { get; set; }
}
