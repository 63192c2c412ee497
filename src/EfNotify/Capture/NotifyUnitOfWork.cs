using System.Data.Common;
using EfNotify.Diagnostics;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking.Internal;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Update;
using SystemTransaction = System.Transactions.Transaction;

namespace EfNotify.Capture;

/// <summary>
/// The notifications of one DbContext's unit of work, and every change of their fate: a save begins, ends or fails,
/// a savepoint is made, rolled back to or released, a transaction commits or ends without a commit. It lives in the
/// context's own (EF internal) service scope, so a shared or pooled interceptor keeps no per-save state of its own;
/// EF resets it when a pooled context is returned.
/// </summary>
/// <remarks>
/// A save inside a transaction captures into <see cref="_saving"/>, which joins <see cref="_pending"/> only when the save
/// succeeded: whatever ends a save otherwise (a failure, a concurrency conflict, a cancellation, an interceptor throwing
/// before EF began) leaves the transaction's notifications as they were. A savepoint remembers how far
/// <see cref="_pending"/> and the queue had come; rolling back to it cuts both there.
/// </remarks>
internal sealed partial class NotifyUnitOfWork : IResettableService
{
    /// <summary>EF Core's own savepoint around each save inside a transaction.</summary>
    private const string SaveSavepointName = "__EFSavePoint";

    private readonly List<PendingNotification> _pending = [];
    private readonly List<PendingNotification> _saving = [];
    private readonly List<(IUpdateEntry Entry, ChangeKind Kind)> _deferred = [];
    private readonly List<QueuedNotification> _queued = [];
    private readonly List<(string? Name, int Pending, long Queued)> _savepoints = [];
    private DbTransaction? _transaction;
    private SaveKind _save;
    private AutoTransactionBehavior? _restoreBehavior;
    private long _queueSequence;
    private long _saveTakesQueuedUpTo;
    private int _written = -1;

    private enum SaveKind
    {
        None,
        Implicit,
        InTransaction,
        Direct,
    }

    /// <summary>
    /// Queues a <c>context.Notify(...)</c>: it belongs to the next save, and stands or falls with it; without a save,
    /// it joins the next commit.
    /// </summary>
    public void Queue(object? entity, IEntityType entityType, string action, DbTransaction? transaction)
        => _queued.Add(new(entity, entityType, action, transaction, ++_queueSequence));

    public void BeginSave(DbContext context, CaptureEnvironment environment)
    {
        SaveFailed(context); // if EF never ended the last save (an interceptor threw before it began), it failed

        var model = NotifyModel.Get(context.Model);
        if (model.IsEmpty && _queued.Count == 0)
        {
            return;
        }

        _saveTakesQueuedUpTo = _queued.Count > 0 ? _queueSequence : 0;

        var database = context.Database;
        if (database.CurrentTransaction is { } transaction)
        {
            Join(transaction.GetDbTransaction());
            _save = SaveKind.InTransaction;
        }
        else if (SystemTransaction.Current is not null)
        {
            Join(null);
            // No EF transaction will commit: the row is written right after the save, on the same connection, enlisted
            // in the ambient transaction.
            _save = SaveKind.Direct;
        }
        else if (database.AutoTransactionBehavior == AutoTransactionBehavior.Never)
        {
            throw new InvalidOperationException(
                $"EfNotify: SaveChanges on {context.GetType().Name} with Database.AutoTransactionBehavior = AutoTransactionBehavior.Never "
                + "runs outside any transaction, so the outbox row could not commit atomically with the data. Save inside a transaction "
                + "(Database.BeginTransaction, or a TransactionScope) or leave AutoTransactionBehavior at WhenNeeded or Always.");
        }
        else
        {
            Join(null);
            _save = SaveKind.Implicit;
            if (database.AutoTransactionBehavior == AutoTransactionBehavior.WhenNeeded && !StartOneTrip(context))
            {
                // A single-statement save opens no transaction; the outbox insert needs one to be atomic with the data.
                _restoreBehavior = AutoTransactionBehavior.WhenNeeded;
                database.AutoTransactionBehavior = AutoTransactionBehavior.Always;
            }

            return;
        }

        if (!model.IsEmpty)
        {
            if (context.ChangeTracker.AutoDetectChangesEnabled)
            {
                context.ChangeTracker.DetectChanges();
            }

            ChangeCapture.Tracked(context, model, environment.Context(), _saving, _deferred);
        }
    }

    /// <returns>What must be written outside an EF transaction now (ambient, or only queued notifications); else null.</returns>
    public List<PendingNotification>? SaveSucceeded(DbContext context, CaptureEnvironment environment)
    {
        var save = _save;
        _save = SaveKind.None;
        _saveTakesQueuedUpTo = 0;
        ResetBatch();
        if (save == SaveKind.Implicit)
        {
            RestoreBehavior(context);
            if (EndOneTrip() is > 0 and var written)
            {
                environment.Committed(written); // the save's single command committed its rows
            }

            // The queue is still there only if no transaction committed: the save had no changes of its own.
            return _queued.Count > 0 ? ResolveQueued(context, environment.Context(), _saving) : null;
        }

        if (save == SaveKind.None)
        {
            return null;
        }

        var capture = environment.Context();
        if (_deferred.Count > 0)
        {
            var model = NotifyModel.Get(context.Model);
            foreach (var (entry, kind) in _deferred)
            {
                ChangeCapture.Entry(entry, kind, model, capture, _saving);
            }

            _deferred.Clear();
        }

        ResolveQueued(context, capture, _saving);
        _queued.Clear();
        if (save == SaveKind.Direct)
        {
            return _saving.Count > 0 ? _saving : null;
        }

        _pending.AddRange(_saving);
        _saving.Clear();
        return null;
    }

    /// <summary>
    /// The save failed, was cancelled, hit a concurrency conflict or never began: none of its notifications stand, the
    /// <c>Notify</c> calls it took included.
    /// </summary>
    public void SaveFailed(DbContext context)
    {
        RestoreBehavior(context);
        ResetBatch();
        EndOneTrip();
        _save = SaveKind.None;
        if (_saveTakesQueuedUpTo > 0)
        {
            var upTo = _saveTakesQueuedUpTo;
            _queued.RemoveAll(q => q.Sequence <= upTo);
            _saveTakesQueuedUpTo = 0;
        }
        _saving.Clear();
        _deferred.Clear();
    }

    /// <summary>Written outside an EF transaction: counted and signalled now, or when the ambient transaction commits.</summary>
    public void WroteDirectly(int count, CaptureEnvironment environment)
    {
        _saving.Clear();
        _queued.Clear();
        if (SystemTransaction.Current is { } ambient)
        {
            ambient.TransactionCompleted += (_, e) =>
            {
                if (e.Transaction?.TransactionInformation.Status == System.Transactions.TransactionStatus.Committed)
                {
                    environment.Committed(count);
                }
            };
        }
        else
        {
            environment.Committed(count);
        }
    }

    /// <summary>
    /// Adds notifications captured outside SaveChanges (a set-based statement) to the explicit transaction that ran them:
    /// written when it commits, dropped when it rolls back.
    /// </summary>
    public void QueueInTransaction(DbTransaction transaction, List<PendingNotification> notifications)
    {
        Join(transaction);
        _pending.AddRange(notifications);
    }

    public void ResetState()
    {
        _pending.Clear();
        _saving.Clear();
        _deferred.Clear();
        _queued.Clear();
        _savepoints.Clear();
        _transaction = null;
        _save = SaveKind.None;
        _restoreBehavior = null;
        _saveTakesQueuedUpTo = 0;
        _written = -1;
        ResetBatch();
        EndOneTrip();
    }

    public Task ResetStateAsync(CancellationToken cancellationToken = default)
    {
        ResetState();
        return Task.CompletedTask;
    }

    private void RestoreBehavior(DbContext context)
    {
        if (_restoreBehavior is { } behavior)
        {
            context.Database.AutoTransactionBehavior = behavior;
            _restoreBehavior = null;
        }
    }

    private sealed record QueuedNotification(object? Entity, IEntityType EntityType, string Action, DbTransaction? Transaction, long Sequence);
}
