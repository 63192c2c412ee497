using System.Globalization;
using EfNotify.Outbox;

namespace EfNotify.Dispatch;

/// <summary>
/// Coalesces the events of hot channels, for notifications configured with a window (<c>CoalesceMilliseconds</c>, carried
/// in the outbox payload): the first event of a quiet channel and action goes out at once; a later one within the window
/// after it is held, and a newer one takes the held one's place, so when the window ends one event goes out, the latest,
/// with <c>"merged"</c> (how many changes it stands for). Without I/O: the dispatcher asks for what is due.
/// </summary>
/// <remarks>
/// A held event's row stays pending in the outbox, kept out of claims (<see cref="HeldRows"/>) and out of the delivery
/// record until its last held event is published, so a stop or a crash loses no final state: the next dispatcher
/// publishes it. A row whose held events were all superseded is recorded as delivered (<see cref="TakeSuperseded"/>): a
/// later row, pending until published, carries the state. Held events take no sequence number, so a browser sees no gap.
/// </remarks>
internal sealed class CoalescingStage(TimeProvider time)
{
    /// <summary>The most bytes <c>,"merged":N</c> adds to an event's data; the dispatcher keeps data this far below the limit.</summary>
    public const int MaxAddedBytes = 24;

    /// <summary>Channels remembered at most before quiet ones are forgotten (a forgotten channel is quiet).</summary>
    private const int MaxSlots = 10_000;

    /// <summary>Longer than any window: a channel that sent nothing for this long is quiet whatever its window.</summary>
    private static readonly TimeSpan QuietAfter = TimeSpan.FromMinutes(1);

    private readonly Dictionary<(string Channel, string Name), Slot> _slots = [];
    private readonly Dictionary<long, HeldRow> _rows = [];
    private readonly List<HeldRow> _superseded = [];

    /// <summary>Rows with a held event: claims must not take them again.</summary>
    public IReadOnlyCollection<long> HeldRows => _rows.Keys;

    /// <summary>Whether an event of the row is held.</summary>
    public bool Holds(long rowId) => _rows.ContainsKey(rowId);

    /// <summary>Whether no window is open: nothing is held and no channel is being coalesced.</summary>
    public bool IsEmpty => _rows.Count == 0 && _slots.Count == 0;

    /// <summary>When the earliest held event is due, or <see langword="null"/> when none is held.</summary>
    public DateTimeOffset? NextDue()
    {
        DateTimeOffset? next = null;
        foreach (var slot in _slots.Values)
        {
            if (slot.Held is { } held && (next is null || held.Due < next))
            {
                next = held.Due;
            }
        }

        return next;
    }

    /// <summary>The events of a claim to send now; the others are held (or take the place of a held one).</summary>
    public List<PlannedEvent> Admit(IReadOnlyList<OutboxMessage> rows, List<PlannedEvent> events)
    {
        if (_rows.Count == 0 && events.TrueForAll(e => e.Window <= TimeSpan.Zero))
        {
            return events;
        }

        var now = time.GetUtcNow();
        var send = new List<PlannedEvent>(events.Count);
        foreach (var planned in events)
        {
            var key = (planned.Event.Channel, planned.Event.Name);
            _slots.TryGetValue(key, out var slot);
            var (merged, mixed, due) = (1, false, (DateTimeOffset?)null);
            if (slot?.Held is { } held)
            {
                merged += held.Merged;
                mixed = held.MixedAuthors || !string.Equals(held.Event.Event.SocketId, planned.Event.SocketId, StringComparison.Ordinal);
                due = held.Due;
                slot.Held = null;
                Unhold(held.Row.Id, superseded: true);
            }
            else if (slot is not null && now < slot.LastSent + planned.Window)
            {
                due = slot.LastSent + planned.Window;
            }

            if (planned.Window > TimeSpan.Zero && due is { } until)
            {
                slot!.Held = new Held(rows[planned.Row], planned, merged, mixed, until);
                Hold(rows[planned.Row]);
                continue;
            }

            send.Add(Merged(planned, merged, mixed));
            if (planned.Window > TimeSpan.Zero || slot is not null)
            {
                _slots[key] = slot ??= new Slot();
                slot.LastSent = now;
            }
        }

        Prune(now);
        return send;
    }

    /// <summary>Takes the held events whose window ended, in row order, to be published now as a claim of their own.</summary>
    public DueClaim TakeDue()
    {
        var now = time.GetUtcNow();
        var due = new List<Held>();
        foreach (var slot in _slots.Values)
        {
            if (slot.Held is { } held && held.Due <= now)
            {
                due.Add(held);
                slot.Held = null;
                slot.LastSent = now;
            }
        }

        due.Sort((a, b) => a.Row.Id != b.Row.Id ? a.Row.Id.CompareTo(b.Row.Id) : a.Event.Index.CompareTo(b.Event.Index));
        var rows = new List<OutboxMessage>();
        var states = new List<RowState>();
        var events = new List<PlannedEvent>(due.Count);
        foreach (var held in due)
        {
            if (rows.Count == 0 || rows[^1].Id != held.Row.Id)
            {
                rows.Add(held.Row);
                states.Add(_rows[held.Row.Id].State ?? new RowState());
            }

            events.Add(Merged(held.Event, held.Merged, held.MixedAuthors) with { Row = rows.Count - 1 });
            Unhold(held.Row.Id, superseded: false);
        }

        return new DueClaim(rows, states, events);
    }

    /// <summary>
    /// After a claim's outcome is recorded: a held row keeps how far its other events got (recorded with its last held
    /// event); the holds of rows left for later (a retry, a pause, a stop) are dropped, since those rows are claimed again.
    /// </summary>
    public void Settle(IReadOnlyList<OutboxMessage> rows, ClaimOutcome outcome)
    {
        for (var r = 0; r < rows.Count; r++)
        {
            if (!_rows.TryGetValue(rows[r].Id, out var hold))
            {
                continue;
            }

            if (outcome.States[r].Pending > 0 || (outcome.Stopped is { } stop && r == stop.Row))
            {
                Forget(rows[r].Id);
            }
            else
            {
                hold.State = outcome.States[r];
            }
        }
    }

    /// <summary>Rows of earlier claims whose held events were all superseded, with how far their other events got.</summary>
    public List<(OutboxMessage Row, RowState? State)> TakeSuperseded()
    {
        var taken = _superseded.Select(h => (h.Row, h.State)).ToList();
        _superseded.Clear();
        return taken;
    }

    /// <summary>Forgets everything: after standing by, the leader publishes the rows that were held.</summary>
    public void Reset()
    {
        _slots.Clear();
        _rows.Clear();
        _superseded.Clear();
    }

    /// <summary>The event as it goes out for <paramref name="merged"/> changes; to everyone when several authors made them.</summary>
    private static PlannedEvent Merged(PlannedEvent planned, int merged, bool mixedAuthors)
    {
        if (merged < 2)
        {
            return planned;
        }

        var data = planned.Event.Data;
        var text = string.Concat(data.AsSpan(0, data.Length - 1), string.Create(CultureInfo.InvariantCulture, $",\"merged\":{merged}}}"));
        return planned with { Event = planned.Event with { Data = text, SocketId = mixedAuthors ? null : planned.Event.SocketId } };
    }

    private void Hold(OutboxMessage row)
    {
        if (!_rows.TryGetValue(row.Id, out var hold))
        {
            _rows[row.Id] = hold = new HeldRow(row);
        }

        hold.Count++;
    }

    private void Unhold(long rowId, bool superseded)
    {
        var hold = _rows[rowId];
        if (--hold.Count == 0)
        {
            _rows.Remove(rowId);
            if (superseded && hold.State is not null)
            {
                _superseded.Add(hold); // a row of an earlier claim: the current claim's rows are judged with it
            }
        }
    }

    private void Forget(long rowId)
    {
        _rows.Remove(rowId);
        foreach (var slot in _slots.Values)
        {
            if (slot.Held?.Row.Id == rowId)
            {
                slot.Held = null;
            }
        }
    }

    private void Prune(DateTimeOffset now)
    {
        if (_slots.Count > MaxSlots)
        {
            foreach (var (key, slot) in _slots.Where(s => s.Value.Held is null && now - s.Value.LastSent > QuietAfter).ToList())
            {
                _slots.Remove(key);
            }
        }
    }

    private sealed record Held(OutboxMessage Row, PlannedEvent Event, int Merged, bool MixedAuthors, DateTimeOffset Due);

    private sealed class Slot
    {
        public DateTimeOffset LastSent { get; set; }

        public Held? Held { get; set; }
    }
}
