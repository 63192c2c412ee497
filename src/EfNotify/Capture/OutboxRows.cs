using System.Data.Common;
using EfNotify.Diagnostics;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Update;

namespace EfNotify.Capture;

/// <summary>
/// Writes a unit of work's notifications as outbox rows with ADO.NET: before a transaction commits, on its own
/// connection and transaction, or right after a save that no EF transaction commits (ambient, or only queued
/// notifications), on the context's connection.
/// </summary>
internal static class OutboxRows
{
    public static void WriteBeforeCommit(DbContext? context, DbTransaction transaction, CaptureEnvironment environment)
    {
        if (context is not null && EfNotifyInterceptor.UnitOfWork(context) is var unitOfWork
            && unitOfWork.PrepareCommit(context, transaction, environment) is { } pending)
        {
            unitOfWork.Wrote(Write(context, transaction.Connection!, transaction, pending, environment.Time));
        }
    }

    public static async Task WriteBeforeCommitAsync(
        DbContext? context, DbTransaction transaction, CaptureEnvironment environment, CancellationToken cancellationToken)
    {
        if (context is not null && EfNotifyInterceptor.UnitOfWork(context) is var unitOfWork
            && unitOfWork.PrepareCommit(context, transaction, environment) is { } pending)
        {
            unitOfWork.Wrote(await WriteAsync(context, transaction.Connection!, transaction, pending, environment.Time, cancellationToken).ConfigureAwait(false));
        }
    }

    /// <summary>
    /// At a command of a save's batch: appends the save's rows to it when its keys are all known now (see
    /// <see cref="NotifyUnitOfWork.TakeBatch"/>), so that they travel in EF Core's own round trip; or, for a save EF Core
    /// sends as one command without a transaction, to that command on the condition that its change happened (see
    /// <see cref="OneTripSave"/>).
    /// </summary>
    public static void AppendToSave(DbCommand command, DbContext? context, CaptureEnvironment environment)
    {
        if (context is null)
        {
            return;
        }

        var unitOfWork = EfNotifyInterceptor.UnitOfWork(context);
        var transaction = command.Transaction;
        IUpdateEntry? entry = null;
        if ((transaction is not null ? unitOfWork.TakeBatch(context, transaction, environment) : unitOfWork.TakeOneTrip(context, environment, out entry))
            is not { } pending)
        {
            return;
        }

        using var activity = EfNotifyInstrumentation.StartCapture();
        var time = environment.Time;
        var condition = entry is null ? null : OneTripSave.Condition(command, entry, context);
        var written = OutboxWriter.Get(context).AppendTo(command, time.GetUtcNow().UtcDateTime, NotificationSerializer.Serialize(pending, time), condition);
        EfNotifyInstrumentation.CaptureWritten(activity, written);
        if (transaction is not null)
        {
            unitOfWork.Appended(written);
        }
        else
        {
            unitOfWork.AppendedOneTrip(written);
        }
    }

    public static void WriteAfterSave(DbContext context, NotifyUnitOfWork unitOfWork, CaptureEnvironment environment)
    {
        if (unitOfWork.SaveSucceeded(context, environment) is not { } pending)
        {
            return;
        }

        context.Database.OpenConnection();
        try
        {
            unitOfWork.WroteDirectly(Write(context, context.Database.GetDbConnection(), null, pending, environment.Time), environment);
        }
        finally
        {
            context.Database.CloseConnection();
        }
    }

    public static async Task WriteAfterSaveAsync(
        DbContext context, NotifyUnitOfWork unitOfWork, CaptureEnvironment environment, CancellationToken cancellationToken)
    {
        if (unitOfWork.SaveSucceeded(context, environment) is not { } pending)
        {
            return;
        }

        await context.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var written = await WriteAsync(context, context.Database.GetDbConnection(), null, pending, environment.Time, cancellationToken).ConfigureAwait(false);
            unitOfWork.WroteDirectly(written, environment);
        }
        finally
        {
            await context.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Writes the notifications as outbox rows on the given connection; returns how many.</summary>
    private static int Write(DbContext context, DbConnection connection, DbTransaction? transaction, List<PendingNotification> pending, TimeProvider time)
    {
        using var activity = EfNotifyInstrumentation.StartCapture();
        try
        {
            var written = OutboxWriter.Get(context).WriteAll(connection, transaction, time.GetUtcNow().UtcDateTime, NotificationSerializer.Serialize(pending, time));
            EfNotifyInstrumentation.CaptureWritten(activity, written);
            return written;
        }
        catch (Exception exception)
        {
            EfNotifyInstrumentation.Failed(activity, exception);
            throw;
        }
    }

    /// <inheritdoc cref="Write"/>
    private static async Task<int> WriteAsync(
        DbContext context, DbConnection connection, DbTransaction? transaction, List<PendingNotification> pending, TimeProvider time,
        CancellationToken cancellationToken)
    {
        using var activity = EfNotifyInstrumentation.StartCapture();
        try
        {
            var written = await OutboxWriter.Get(context)
                .WriteAllAsync(connection, transaction, time.GetUtcNow().UtcDateTime, NotificationSerializer.Serialize(pending, time), cancellationToken)
                .ConfigureAwait(false);
            EfNotifyInstrumentation.CaptureWritten(activity, written);
            return written;
        }
        catch (Exception exception)
        {
            EfNotifyInstrumentation.Failed(activity, exception);
            throw;
        }
    }
}
