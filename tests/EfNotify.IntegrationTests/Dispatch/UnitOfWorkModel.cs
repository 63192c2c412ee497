namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>One notification as a user would check it: where it went, what it says, what changed.</summary>
public readonly record struct Note(string Channel, string Action, string Change);

/// <summary>
/// What EfNotify promises about a unit of work, written down without EF: the rows as committed, the rows as the open
/// transaction sees them, and the notifications that committed. A save takes the <c>Notify</c> calls queued before it
/// and stands or falls with them; a savepoint rolled back to undoes rows, saves and queued calls that came after it;
/// a transaction that does not commit drops its saves and the calls queued in it.
/// </summary>
public sealed class UnitOfWorkModel
{
    private readonly List<Note> _saved = [];
    private readonly List<(Note Note, bool InTransaction, long Sequence)> _queued = [];
    private readonly List<(string Name, Dictionary<int, string?> Rows, int Saved, long Queued)> _savepoints = [];
    private Dictionary<int, string?>? _transaction;
    private long _sequence;

    /// <summary>The cards as committed: id → notes.</summary>
    public Dictionary<int, string?> Committed { get; private set; } = [];

    /// <summary>Every notification that committed, each transaction's coalesced as EfNotify does.</summary>
    public List<Note> Published { get; } = [];

    public bool InTransaction => _transaction is not null;

    /// <summary>The cards as the context sees them now.</summary>
    public IReadOnlyDictionary<int, string?> Rows => _transaction ?? Committed;

    public IReadOnlyList<string> Savepoints => _savepoints.Select(s => s.Name).ToList();

    public void Begin() => _transaction = new(Committed);

    public void Queue(Note note) => _queued.Add((note, InTransaction, ++_sequence));

    /// <summary>A row deleted behind EF's back (raw SQL): no notification.</summary>
    public void RawDelete(int id)
    {
        if (_transaction is not null)
        {
            _transaction.Remove(id);
        }
        else
        {
            Committed.Remove(id);
        }
    }

    public void SaveSucceeded(Dictionary<int, string?> rowsAfter, IEnumerable<Note> changes)
    {
        var notes = changes.Concat(_queued.Select(q => q.Note)).ToList();
        _queued.Clear();
        if (_transaction is not null)
        {
            _transaction = rowsAfter;
            _saved.AddRange(notes);
        }
        else
        {
            Committed = rowsAfter;
            Publish(notes);
        }
    }

    /// <summary>Failed, conflicted, cancelled or refused: nothing of it stands, the queued calls it took included.</summary>
    public void SaveFailed() => _queued.Clear();

    public void Savepoint(string name) => _savepoints.Add((name, new(_transaction!), _saved.Count, _sequence));

    public void RollbackTo(string name)
    {
        var index = _savepoints.FindLastIndex(s => s.Name == name);
        var (_, rows, saved, queued) = _savepoints[index];
        _transaction = new(rows);
        _saved.RemoveRange(saved, _saved.Count - saved);
        _queued.RemoveAll(q => q.Sequence > queued);
        _savepoints.RemoveRange(index + 1, _savepoints.Count - index - 1);
    }

    public void Release(string name)
    {
        var index = _savepoints.FindLastIndex(s => s.Name == name);
        _savepoints.RemoveRange(index, _savepoints.Count - index);
    }

    public void Commit()
    {
        Committed = _transaction!;
        Publish([.. _saved, .. _queued.Select(q => q.Note)]);
        _queued.Clear();
        End();
    }

    /// <summary>Rolled back or disposed without a commit.</summary>
    public void Rollback()
    {
        _queued.RemoveAll(q => q.InTransaction);
        End();
    }

    private void End()
    {
        _transaction = null;
        _saved.Clear();
        _savepoints.Clear();
    }

    /// <summary>One event per object and action: an insert followed by updates stays added, anything then deleted is deleted.</summary>
    private void Publish(List<Note> notes)
    {
        var order = new List<(string, string)>();
        var merged = new Dictionary<(string, string), string>();
        foreach (var note in notes)
        {
            var target = (note.Channel, note.Action);
            if (!merged.TryGetValue(target, out var change))
            {
                order.Add(target);
                merged[target] = note.Change;
                continue;
            }

            merged[target] = (change, note.Change) switch
            {
                (_, "deleted") => "deleted",
                ("added", _) => "added",
                _ => note.Change,
            };
        }

        Published.AddRange(order.Select(t => new Note(t.Item1, t.Item2, merged[t])));
    }
}
