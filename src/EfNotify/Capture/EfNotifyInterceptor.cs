using System.Data.Common;
using EfNotify.Diagnostics;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace EfNotify.Capture;

/// <summary>
/// Captures the changes to [Notify] entities and writes them to the outbox in the transaction that saves them.
/// Each hook tells the context's <see cref="NotifyUnitOfWork"/> what happened; the unit of work decides what stands.
/// </summary>
/// <remarks>
/// A save without a transaction of the user's own is made transactional, and its changes are read at
/// <c>TransactionCommitting</c>: the commands have run, generated keys are known and entry states are intact, and the
/// outbox insert joins the same transaction. Inside an explicit transaction each save is captured on its own (a save
/// that fails, conflicts or is cancelled drops only its notifications; a savepoint rolled back to drops what came after
/// it) and the outbox row is written once, when the user commits. The dispatcher is woken only after the database
/// reported the commit. On PostgreSQL a save of one inserted or updated row goes without a transaction, its outbox row
/// in the save's single command (<see cref="OneTripSave"/>); it is reported at <c>SavedChanges</c>.
/// </remarks>
internal sealed class EfNotifyInterceptor(
    TimeProvider time, INotifierContext notifier, IOutboxSignal signal, EfNotifyInstrumentation instrumentation)
    : SaveChangesInterceptor, IDbTransactionInterceptor
{
    private readonly CaptureEnvironment _environment = new(time, notifier, signal, instrumentation);

    /// <summary>The time and notifier of a capture now (also for set-based statements).</summary>
    internal CaptureContext NewCaptureContext() => _environment.Context();

    /// <summary>The clock, notifier and commit signal of every capture (also for a save's batch).</summary>
    internal CaptureEnvironment Environment => _environment;

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        UnitOfWork(eventData.Context!).BeginSave(eventData.Context!, _environment);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        => ValueTask.FromResult(SavingChanges(eventData, result));

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        OutboxRows.WriteAfterSave(eventData.Context!, UnitOfWork(eventData.Context!), _environment);
        return result;
    }

    public override async ValueTask<int> SavedChangesAsync(
        SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        await OutboxRows.WriteAfterSaveAsync(eventData.Context!, UnitOfWork(eventData.Context!), _environment, cancellationToken).ConfigureAwait(false);
        return result;
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => UnitOfWork(eventData.Context!).SaveFailed(eventData.Context!);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        SaveChangesFailed(eventData);
        return Task.CompletedTask;
    }

    public override void SaveChangesCanceled(DbContextEventData eventData) => UnitOfWork(eventData.Context!).SaveFailed(eventData.Context!);

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        SaveChangesCanceled(eventData);
        return Task.CompletedTask;
    }

    /// <remarks>EF calls no <c>SaveChangesFailed</c> for a concurrency conflict: the save ends here.</remarks>
    public override InterceptionResult ThrowingConcurrencyException(ConcurrencyExceptionEventData eventData, InterceptionResult result)
    {
        UnitOfWork(eventData.Context!).SaveFailed(eventData.Context!);
        return result;
    }

    public override ValueTask<InterceptionResult> ThrowingConcurrencyExceptionAsync(
        ConcurrencyExceptionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        => ValueTask.FromResult(ThrowingConcurrencyException(eventData, result));

    public DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        Find(eventData.Context)?.TransactionStarted();
        return result;
    }

    public ValueTask<DbTransaction> TransactionStartedAsync(
        DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
        => ValueTask.FromResult(TransactionStarted(connection, eventData, result));

    public InterceptionResult TransactionCommitting(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        OutboxRows.WriteBeforeCommit(eventData.Context, transaction, _environment);
        return result;
    }

    public async ValueTask<InterceptionResult> TransactionCommittingAsync(
        DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
    {
        await OutboxRows.WriteBeforeCommitAsync(eventData.Context, transaction, _environment, cancellationToken).ConfigureAwait(false);
        return result;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
        => Find(eventData.Context)?.Committed(_environment);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionCommitted(transaction, eventData);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData)
        => Find(eventData.Context)?.Discard(eventData.Context!, transaction);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionRolledBack(transaction, eventData);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData)
        => Find(eventData.Context)?.Failed(eventData.Context!, transaction, eventData.Action);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionFailed(transaction, eventData);
        return Task.CompletedTask;
    }

    public void CreatedSavepoint(DbTransaction transaction, TransactionEventData eventData)
        => Find(eventData.Context)?.SavepointCreated(eventData.Context!, transaction, NamedSavepointTransaction.NameIn(eventData.Context!));

    public Task CreatedSavepointAsync(DbTransaction transaction, TransactionEventData eventData, CancellationToken cancellationToken = default)
    {
        CreatedSavepoint(transaction, eventData);
        return Task.CompletedTask;
    }

    public void RolledBackToSavepoint(DbTransaction transaction, TransactionEventData eventData)
        => Find(eventData.Context)?.RolledBackTo(eventData.Context!, transaction, NamedSavepointTransaction.NameIn(eventData.Context!));

    public Task RolledBackToSavepointAsync(DbTransaction transaction, TransactionEventData eventData, CancellationToken cancellationToken = default)
    {
        RolledBackToSavepoint(transaction, eventData);
        return Task.CompletedTask;
    }

    public void ReleasedSavepoint(DbTransaction transaction, TransactionEventData eventData)
        => Find(eventData.Context)?.Released(eventData.Context!, transaction, NamedSavepointTransaction.NameIn(eventData.Context!));

    public Task ReleasedSavepointAsync(DbTransaction transaction, TransactionEventData eventData, CancellationToken cancellationToken = default)
    {
        ReleasedSavepoint(transaction, eventData);
        return Task.CompletedTask;
    }

    internal static NotifyUnitOfWork UnitOfWork(DbContext context) => context.GetService<NotifyUnitOfWork>();

    private static NotifyUnitOfWork? Find(DbContext? context) => context?.GetService<NotifyUnitOfWork>();
}
