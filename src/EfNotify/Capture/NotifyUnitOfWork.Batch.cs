using System.Data.Common;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking.Internal;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace EfNotify.Capture;

/// <summary>
/// The unit of work's side of a save whose outbox rows travel with EF Core's own batch: a save without a transaction of
/// the user's own whose [Notify] entries all have their keys before the save (updates, deletes, inserts of keys the
/// application sets). Their rows are appended to the save's first command, in the save's transaction, so they cost no
/// round trip of their own. A save with a key the database generates is captured at the commit, as before.
/// </summary>
internal sealed partial class NotifyUnitOfWork
{
    private DbTransaction? _batchTransaction;
    private int _batchWritten = -1;

    /// <summary>
    /// At the first command of an implicit save in <paramref name="transaction"/>: the notifications to append to it,
    /// or null when there are none or they must wait for the commit (a key the database generates, a queued
    /// <c>Notify</c>, an unmapped outbox: the commit reports it). Asked once per transaction, and cheap for every other
    /// command of the save; a save that EF retries in a new transaction is captured again.
    /// </summary>
    public List<PendingNotification>? TakeBatch(DbContext context, DbTransaction transaction, CaptureEnvironment environment)
    {
        if (_save != SaveKind.Implicit || ReferenceEquals(_batchTransaction, transaction))
        {
            return null;
        }

        _batchTransaction = transaction;
        _batchWritten = -1;
        if (_queued.Count > 0 || context.Model.FindEntityType(typeof(OutboxMessage)) is null)
        {
            return null;
        }

        var model = NotifyModel.Get(context.Model);
        _saving.Clear();
        _deferred.Clear();
        var known = true;
        try
        {
            ChangeCapture.Tracked(context, model, environment.Context(), _saving, _deferred);
        }
        catch (InvalidOperationException)
        {
            // A notification that cannot be written (a key too long for a channel): the capture at the commit fails the
            // save with that error itself, not wrapped in the DbUpdateException of a failed command.
            known = false;
        }

        if (!known || _deferred.Count > 0)
        {
            _saving.Clear();
            _deferred.Clear();
            return null;
        }

        if (_saving.Count == 0)
        {
            _batchWritten = 0;
            return null;
        }

        return _saving;
    }

    /// <summary>The notifications <see cref="TakeBatch"/> gave were appended to the command: they commit with it.</summary>
    public void Appended(int count)
    {
        _saving.Clear();
        _batchWritten = count;
    }

    /// <summary>Whether <paramref name="transaction"/> already carries the save's rows; if so, they are counted at its commit.</summary>
    private bool WroteInBatch(DbTransaction transaction)
    {
        if (_batchWritten < 0 || !ReferenceEquals(_batchTransaction, transaction))
        {
            return false;
        }

        _pending.Clear();
        _written = _batchWritten > 0 ? _batchWritten : -1;
        return true;
    }

    /// <summary>EF began a transaction: rows appended before belong to another one (a provider may reuse its transaction object).</summary>
    public void TransactionStarted() => ResetBatch();

    private static bool IsSaving(DbContext context) => context.GetService<IStateManager>().SavingChanges;

    private List<PendingNotification> ResolveQueued(DbContext context, CaptureContext capture, List<PendingNotification> target)
    {
        foreach (var queued in _queued)
        {
            target.Add(ChangeCapture.Queued(context, queued.Entity, queued.EntityType, queued.Action, capture));
        }

        return target;
    }

    private void ResetBatch()
    {
        _batchTransaction = null;
        _batchWritten = -1;
    }
}
