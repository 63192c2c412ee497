using System.Data.Common;
using System.Text.RegularExpressions;
using EfNotify.Diagnostics;
using EfNotify.Dispatch;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking.Internal;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Update;
using SystemTransaction = System.Transactions.Transaction;

namespace EfNotify.Capture;

/// <summary>
/// Captures the changes to [Notify] entities and writes them to the outbox in the transaction that saves them.
/// </summary>
/// <remarks>
/// A save without a transaction of the user's own is made transactional, and its changes are read at
/// <c>TransactionCommitting</c>: the commands have run, generated keys are known and entry states are intact, and the
/// outbox insert joins the same transaction. Inside an explicit transaction each save is captured on its own (a failed
/// save drops only its notifications) and the outbox row is written once, when the user commits. The dispatcher is woken
/// only after the database reported the commit.
/// </remarks>
internal sealed partial class EfNotifyInterceptor(
    TimeProvider time, INotifierContext notifier, OutboxSignal signal, EfNotifyInstrumentation instrumentation)
    : SaveChangesInterceptor, IDbTransactionInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        BeginSave(eventData.Context!);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        BeginSave(eventData.Context!);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (EndSave(eventData.Context!) is { } direct)
        {
            WriteDirect(eventData.Context!, direct);
        }

        return result;
    }

    public override async ValueTask<int> SavedChangesAsync(
        SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (EndSave(eventData.Context!) is { } direct)
        {
            await WriteDirectAsync(eventData.Context!, direct, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => FailSave(eventData.Context!);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        FailSave(eventData.Context!);
        return Task.CompletedTask;
    }

    public InterceptionResult TransactionCommitting(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        if (eventData.Context is { } context && PrepareCommit(context, transaction) is { } unitOfWork)
        {
            FinishWrite(unitOfWork, WriteRows(context, transaction.Connection!, transaction, unitOfWork));
        }

        return result;
    }

    public async ValueTask<InterceptionResult> TransactionCommittingAsync(
        DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context && PrepareCommit(context, transaction) is { } unitOfWork)
        {
            FinishWrite(unitOfWork, await WriteRowsAsync(context, transaction.Connection!, transaction, unitOfWork, cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Committed(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Committed(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Discard(eventData.Context, transaction);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Discard(eventData.Context, transaction);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Discard(eventData.Context, transaction);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Discard(eventData.Context, transaction);
        return Task.CompletedTask;
    }

    internal static NotifyUnitOfWork UnitOfWork(DbContext context)
        => context.GetService<NotifyUnitOfWork>();

    private void BeginSave(DbContext context)
    {
        var unitOfWork = UnitOfWork(context);
        var model = NotifyModel.Get(context.Model);
        if (model.IsEmpty && unitOfWork.Manual.Count == 0)
        {
            return;
        }

        var database = context.Database;
        if (database.CurrentTransaction is { } transaction)
        {
            var dbTransaction = transaction.GetDbTransaction();
            if (!ReferenceEquals(unitOfWork.PendingTransaction, dbTransaction))
            {
                unitOfWork.Pending.Clear(); // left by a transaction that was disposed without commit
                unitOfWork.PendingTransaction = dbTransaction;
            }

            unitOfWork.SaveStart = unitOfWork.Pending.Count;
            CaptureBeforeSave(context, unitOfWork, model);
        }
        else if (SystemTransaction.Current is not null || database.AutoTransactionBehavior == AutoTransactionBehavior.Never)
        {
            // No EF transaction will commit: the row is written right after the save, on the same connection
            // (enlisted in the ambient transaction, if there is one).
            unitOfWork.AmbientSave = true;
            unitOfWork.Pending.Clear();
            unitOfWork.SaveStart = 0;
            CaptureBeforeSave(context, unitOfWork, model);
        }
        else
        {
            unitOfWork.ImplicitSave = true;
            if (database.AutoTransactionBehavior == AutoTransactionBehavior.WhenNeeded)
            {
                // A single-statement save opens no transaction; the outbox insert needs one to be atomic with the data.
                unitOfWork.RestoreBehavior = AutoTransactionBehavior.WhenNeeded;
                database.AutoTransactionBehavior = AutoTransactionBehavior.Always;
            }
        }
    }

    private void CaptureBeforeSave(DbContext context, NotifyUnitOfWork unitOfWork, NotifyModel model)
    {
        if (model.IsEmpty)
        {
            return;
        }

        if (context.ChangeTracker.AutoDetectChangesEnabled)
        {
            context.ChangeTracker.DetectChanges();
        }

        var captureContext = NewCaptureContext();
        foreach (var entry in context.GetService<IStateManager>().Entries)
        {
            if (Kind(entry.EntityState) is not { } kind)
            {
                continue;
            }

            if (NotifyUnitOfWork.HasTemporaryKey(entry, model))
            {
                unitOfWork.Deferred.Add((entry, kind));
            }
            else
            {
                unitOfWork.Capture(entry, kind, model, captureContext);
            }
        }
    }

    /// <returns>The unit of work when its notifications must be written outside an EF transaction.</returns>
    private NotifyUnitOfWork? EndSave(DbContext context)
    {
        var unitOfWork = UnitOfWork(context);
        if (unitOfWork.ImplicitSave)
        {
            RestoreBehavior(context, unitOfWork);
            unitOfWork.ImplicitSave = false;

            // Nothing committed a transaction: no changes were saved (only notifications queued by Notify), or the
            // application set AutoTransactionBehavior.Never. The row is then written on its own.
            if (unitOfWork.Manual.Count > 0)
            {
                ResolveManual(context, unitOfWork);
                return unitOfWork;
            }

            return null;
        }

        if (unitOfWork.SaveStart < 0)
        {
            return null;
        }

        unitOfWork.SaveStart = -1;
        if (unitOfWork.Deferred.Count > 0)
        {
            var model = NotifyModel.Get(context.Model);
            var captureContext = NewCaptureContext();
            foreach (var (entry, kind) in unitOfWork.Deferred)
            {
                unitOfWork.Capture(entry, kind, model, captureContext);
            }

            unitOfWork.Deferred.Clear();
        }

        if (unitOfWork.AmbientSave)
        {
            unitOfWork.AmbientSave = false;
            ResolveManual(context, unitOfWork);
            if (unitOfWork.Pending.Count > 0)
            {
                return unitOfWork;
            }
        }

        return null;
    }

    private static void FailSave(DbContext context)
    {
        var unitOfWork = UnitOfWork(context);
        RestoreBehavior(context, unitOfWork);
        unitOfWork.ImplicitSave = false;
        unitOfWork.AmbientSave = false;
        if (unitOfWork.SaveStart >= 0)
        {
            // EF rolled back to the save's savepoint: the earlier saves of the transaction stand, this one does not.
            unitOfWork.Pending.RemoveRange(unitOfWork.SaveStart, unitOfWork.Pending.Count - unitOfWork.SaveStart);
            unitOfWork.SaveStart = -1;
        }

        unitOfWork.Deferred.Clear();
    }

    private NotifyUnitOfWork? PrepareCommit(DbContext context, DbTransaction transaction)
    {
        var unitOfWork = UnitOfWork(context);
        if (unitOfWork.ImplicitSave)
        {
            unitOfWork.Pending.Clear();
            var model = NotifyModel.Get(context.Model);
            if (!model.IsEmpty)
            {
                var captureContext = NewCaptureContext();
                foreach (var entry in context.GetService<IStateManager>().Entries)
                {
                    if (Kind(entry.EntityState) is { } kind)
                    {
                        unitOfWork.Capture(entry, kind, model, captureContext);
                    }
                }
            }
        }
        else if (!ReferenceEquals(unitOfWork.PendingTransaction, transaction))
        {
            unitOfWork.Pending.Clear(); // another transaction (EnsureCreated, migrations) or one disposed without commit
        }

        ResolveManual(context, unitOfWork);
        unitOfWork.PendingTransaction = null;
        return unitOfWork.Pending.Count > 0 ? unitOfWork : null;
    }

    private static void FinishWrite(NotifyUnitOfWork unitOfWork, int count)
    {
        unitOfWork.Pending.Clear();
        unitOfWork.Wrote = true;
        unitOfWork.WrittenCount = count;
    }

    private void Committed(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        var unitOfWork = UnitOfWork(context);
        unitOfWork.Manual.Clear();
        if (unitOfWork.Wrote)
        {
            unitOfWork.Wrote = false;
            instrumentation.Captured(unitOfWork.WrittenCount);
            unitOfWork.WrittenCount = 0;
            signal.Notify();
        }
    }

    private static void Discard(DbContext? context, DbTransaction transaction)
    {
        if (context is null)
        {
            return;
        }

        var unitOfWork = UnitOfWork(context);
        unitOfWork.Wrote = false;
        unitOfWork.WrittenCount = 0;
        unitOfWork.Manual.Clear();
        if (ReferenceEquals(unitOfWork.PendingTransaction, transaction) || unitOfWork.ImplicitSave)
        {
            unitOfWork.Pending.Clear();
            unitOfWork.PendingTransaction = null;
        }
    }

    private void WriteDirect(DbContext context, NotifyUnitOfWork unitOfWork)
    {
        context.Database.OpenConnection();
        try
        {
            AfterDirectWrite(unitOfWork, WriteRows(context, context.Database.GetDbConnection(), null, unitOfWork));
        }
        finally
        {
            context.Database.CloseConnection();
        }
    }

    private async Task WriteDirectAsync(DbContext context, NotifyUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        await context.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var written = await WriteRowsAsync(context, context.Database.GetDbConnection(), null, unitOfWork, cancellationToken).ConfigureAwait(false);
            AfterDirectWrite(unitOfWork, written);
        }
        finally
        {
            await context.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Writes the pending notifications as outbox rows on the given connection; returns how many.</summary>
    private int WriteRows(DbContext context, DbConnection connection, DbTransaction? transaction, NotifyUnitOfWork unitOfWork)
    {
        using var activity = EfNotifyInstrumentation.StartCapture();
        try
        {
            var writer = OutboxWriter.Get(context);
            var now = time.GetUtcNow().UtcDateTime;
            var written = 0;
            foreach (var (payload, count) in NotificationSerializer.Serialize(unitOfWork.Pending, time))
            {
                writer.Write(connection, transaction, now, payload, count);
                written += count;
            }

            EfNotifyInstrumentation.CaptureWritten(activity, written);
            return written;
        }
        catch (Exception exception)
        {
            EfNotifyInstrumentation.Failed(activity, exception);
            throw;
        }
    }

    /// <inheritdoc cref="WriteRows"/>
    private async Task<int> WriteRowsAsync(
        DbContext context, DbConnection connection, DbTransaction? transaction, NotifyUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        using var activity = EfNotifyInstrumentation.StartCapture();
        try
        {
            var writer = OutboxWriter.Get(context);
            var now = time.GetUtcNow().UtcDateTime;
            var written = 0;
            foreach (var (payload, count) in NotificationSerializer.Serialize(unitOfWork.Pending, time))
            {
                await writer.WriteAsync(connection, transaction, now, payload, count, cancellationToken).ConfigureAwait(false);
                written += count;
            }

            EfNotifyInstrumentation.CaptureWritten(activity, written);
            return written;
        }
        catch (Exception exception)
        {
            EfNotifyInstrumentation.Failed(activity, exception);
            throw;
        }
    }

    private void AfterDirectWrite(NotifyUnitOfWork unitOfWork, int count)
    {
        unitOfWork.Pending.Clear();
        unitOfWork.Manual.Clear();
        if (SystemTransaction.Current is { } ambient)
        {
            // Counted and published only if the ambient transaction commits, as rows of EF transactions are.
            ambient.TransactionCompleted += (_, e) =>
            {
                if (e.Transaction?.TransactionInformation.Status == System.Transactions.TransactionStatus.Committed)
                {
                    instrumentation.Captured(count);
                    signal.Notify();
                }
            };
        }
        else
        {
            instrumentation.Captured(count);
            signal.Notify();
        }
    }

    private void ResolveManual(DbContext context, NotifyUnitOfWork unitOfWork)
    {
        if (unitOfWork.Manual.Count == 0)
        {
            return;
        }

        var captureContext = NewCaptureContext();
        foreach (var (entity, entityType, action) in unitOfWork.Manual)
        {
            unitOfWork.CaptureManual(entity, entityType, action, context, captureContext);
        }
    }

    private static void RestoreBehavior(DbContext context, NotifyUnitOfWork unitOfWork)
    {
        if (unitOfWork.RestoreBehavior is { } behavior)
        {
            context.Database.AutoTransactionBehavior = behavior;
            unitOfWork.RestoreBehavior = null;
        }
    }

    internal CaptureContext NewCaptureContext()
    {
        var socketId = notifier.SocketId;
        return new CaptureContext(time.GetUtcNow(), notifier.UserName, socketId is not null && SocketIdRegex().IsMatch(socketId) ? socketId : null);
    }

    private static ChangeKind? Kind(EntityState state) => state switch
    {
        EntityState.Added => ChangeKind.Added,
        EntityState.Modified => ChangeKind.Modified,
        EntityState.Deleted => ChangeKind.Deleted,
        _ => null,
    };

    [GeneratedRegex(@"^[0-9]{1,20}\.[0-9]{1,20}\z")]
    private static partial Regex SocketIdRegex();
}
