using System.Data.Common;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Capture;

/// <summary>The unit of work's side of transactions: savepoints, the commit, and a transaction that ends without one.</summary>
internal sealed partial class NotifyUnitOfWork
{
    public void SavepointCreated(DbContext context, DbTransaction transaction, string? name)
    {
        Join(transaction);
        _savepoints.Add((Named(context, name), _pending.Count, _queueSequence));
    }

    /// <summary>Everything captured or queued after the savepoint was made is undone; later savepoints are gone.</summary>
    public void RolledBackTo(DbContext context, DbTransaction transaction, string? name)
    {
        Join(transaction);
        var index = FindSavepoint(Named(context, name));
        var (_, pending, queued) = _savepoints[index];
        _pending.RemoveRange(pending, _pending.Count - pending);
        _queued.RemoveAll(q => q.Sequence > queued);
        _savepoints.RemoveRange(index + 1, _savepoints.Count - index - 1);
    }

    /// <summary>A released savepoint keeps what came after it; it and the savepoints after it are gone.</summary>
    public void Released(DbContext context, DbTransaction transaction, string? name)
    {
        Join(transaction);
        var index = FindSavepoint(Named(context, name));
        _savepoints.RemoveRange(index, _savepoints.Count - index);
    }

    /// <returns>The notifications to write in <paramref name="transaction"/> before it commits, or null for none.</returns>
    public List<PendingNotification>? PrepareCommit(DbContext context, DbTransaction transaction, CaptureEnvironment environment)
    {
        if (_save != SaveKind.None && !IsSaving(context))
        {
            SaveFailed(context); // a save EF never ended: an interceptor threw before it began
        }

        Join(transaction);
        var capture = environment.Context();
        if (_save == SaveKind.Implicit)
        {
            if (WroteInBatch(transaction))
            {
                return null;
            }

            // The save's own transaction: the commands have run, keys are known, entry states are intact.
            _pending.Clear();
            ChangeCapture.Tracked(context, NotifyModel.Get(context.Model), capture, _pending, deferred: null);
        }

        ResolveQueued(context, capture, _pending);
        return _pending.Count > 0 ? _pending : null;
    }

    public void Wrote(int count)
    {
        _pending.Clear();
        _written = count;
    }

    public void Committed(CaptureEnvironment environment)
    {
        if (_written >= 0)
        {
            environment.Committed(_written);
        }

        _queued.Clear();
        End();
    }

    /// <summary><paramref name="transaction"/> rolled back or failed: none of its notifications stand.</summary>
    public void Discard(DbContext context, DbTransaction transaction)
    {
        _written = -1;
        ResetBatch();
        if (_save == SaveKind.Implicit && IsSaving(context))
        {
            _pending.Clear(); // the save's own transaction: the save fails next
            return;
        }

        Join(transaction);
        _queued.RemoveAll(q => ReferenceEquals(q.Transaction, transaction));
        End();
    }

    /// <summary>A failed commit or rollback ends the transaction; a failed savepoint operation leaves it as it was.</summary>
    public void Failed(DbContext context, DbTransaction transaction, string action)
    {
        if (action is "Commit" or "Rollback")
        {
            Discard(context, transaction);
        }
    }

    /// <summary>
    /// The context works in <paramref name="transaction"/> (null: in none of its own) from now on. A transaction that
    /// still held notifications, or in which <c>Notify</c> was called, ended without a commit EF reported (it was
    /// disposed): they are dropped. A context has one transaction at a time.
    /// </summary>
    private void Join(DbTransaction? transaction)
    {
        if (_transaction is { } previous && !ReferenceEquals(previous, transaction))
        {
            End();
        }

        if (_queued.Count > 0)
        {
            _queued.RemoveAll(q => q.Transaction is not null && !ReferenceEquals(q.Transaction, transaction));
        }

        _transaction = transaction;
    }

    private void End()
    {
        _pending.Clear();
        _savepoints.Clear();
        _transaction = null;
        _written = -1;
    }

    /// <summary>Without a name from EF's transaction, a savepoint during a save is EF's own.</summary>
    private static string? Named(DbContext context, string? name) => name ?? (IsSaving(context) ? SaveSavepointName : null);

    private int FindSavepoint(string? name)
    {
        for (var i = _savepoints.Count - 1; i >= 0; i--)
        {
            if (name is not null ? _savepoints[i].Name == name : _savepoints.Count == 1)
            {
                return i;
            }
        }

        throw new InvalidOperationException(name is null
            ? "EfNotify cannot tell which savepoint was rolled back to or released: this database provider's transactions do not name "
              + "their savepoints to EfNotify. Call UseEfNotify after the provider's Use… call, or use one savepoint at a time."
            : $"EfNotify: the savepoint '{name}' was not created through EF Core in this transaction, so EfNotify cannot tell which "
              + "notifications it undoes. Create savepoints with Database.CurrentTransaction.CreateSavepoint.");
    }
}
