using System.Data.Common;
using EfNotify.Diagnostics;
using EfNotify.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;
using SystemTransaction = System.Transactions.Transaction;

namespace EfNotify.Capture;

/// <summary>
/// Captures <c>ExecuteUpdate</c>/<c>ExecuteDelete</c> on the table of a [Notify] entity, which bypass SaveChanges. The
/// statement EF Core generated runs with <c>RETURNING</c> of the columns the notifications need (SQLite and PostgreSQL),
/// so the keys are those of the rows it changed, read in the same statement; the original execution is suppressed with
/// the same affected count. Inside an explicit transaction the notifications join the context's unit of work and are
/// written when it commits; without one, EfNotify opens a transaction around the statement and the outbox row.
/// </summary>
internal sealed class SetBasedInterceptor(
    EfNotifyInterceptor capture, TimeProvider time, IOutboxSignal signal, EfNotifyInstrumentation instrumentation, IOptions<EfNotifyOptions> options)
    : DbCommandInterceptor
{
    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
        => result.HasResult || Recognize(command, eventData) is not { } statement
            ? result
            : InterceptionResult<int>.SuppressWithResult(Execute(command, eventData.Context!, statement));

    public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        => result.HasResult || Recognize(command, eventData) is not { } statement
            ? result
            : InterceptionResult<int>.SuppressWithResult(await ExecuteAsync(command, eventData.Context!, statement, cancellationToken).ConfigureAwait(false));

    private static SetBasedStatement? Recognize(DbCommand command, CommandEventData eventData)
    {
        if (eventData.CommandSource is not (CommandSource.ExecuteUpdate or CommandSource.ExecuteDelete) || eventData.Context is not { } context
            || SetBasedTargets.Get(context).IsEmpty)
        {
            return null;
        }

        var statement = SetBasedStatement.TryParse(context, command.CommandText);
        if (statement is not null && context.Database.ProviderName is not (SetBasedStatement.SqliteProvider or SetBasedStatement.PostgresProvider))
        {
            throw new NotSupportedException(
                $"EfNotify: {eventData.CommandSource} on the [Notify] entity '{statement.Target.EntityType.DisplayName()}' needs UPDATE/DELETE … RETURNING, "
                + $"which EfNotify uses on SQLite and PostgreSQL only, not on {context.Database.ProviderName}. Use SaveChanges, or db.Notify after the statement.");
        }

        return statement;
    }

    private int Execute(DbCommand command, DbContext context, SetBasedStatement statement)
    {
        var own = command.Transaction is null && SystemTransaction.Current is null ? command.Connection!.BeginTransaction() : null;
        try
        {
            command.Transaction ??= own;
            var rows = new SetBasedRows(statement, options.Value.SetBasedRowLimit);
            var original = command.CommandText;
            command.CommandText = statement.WithReturning(original);
            try
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    rows.Read(reader);
                }
            }
            finally
            {
                command.CommandText = original;
            }

            var toWrite = Queue(context, command, own, rows.Notifications(capture.NewCaptureContext()));
            if (toWrite is not null)
            {
                OutboxWriter.Get(context).WriteAll(command.Connection!, command.Transaction, time.GetUtcNow().UtcDateTime, toWrite);
            }

            own?.Commit();
            Written(own, toWrite?.Sum(r => r.Count) ?? 0);
            return rows.Count;
        }
        finally
        {
            Release(command, own);
        }
    }

    private async Task<int> ExecuteAsync(DbCommand command, DbContext context, SetBasedStatement statement, CancellationToken cancellationToken)
    {
        var own = command.Transaction is null && SystemTransaction.Current is null
            ? await command.Connection!.BeginTransactionAsync(cancellationToken).ConfigureAwait(false)
            : null;
        try
        {
            command.Transaction ??= own;
            var rows = new SetBasedRows(statement, options.Value.SetBasedRowLimit);
            var original = command.CommandText;
            command.CommandText = statement.WithReturning(original);
            try
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        rows.Read(reader);
                    }
                }
            }
            finally
            {
                command.CommandText = original;
            }

            var toWrite = Queue(context, command, own, rows.Notifications(capture.NewCaptureContext()));
            if (toWrite is not null)
            {
                await OutboxWriter.Get(context).WriteAllAsync(command.Connection!, command.Transaction, time.GetUtcNow().UtcDateTime, toWrite, cancellationToken).ConfigureAwait(false);
            }

            if (own is not null)
            {
                await own.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            Written(own, toWrite?.Sum(r => r.Count) ?? 0);
            return rows.Count;
        }
        finally
        {
            if (own is not null)
            {
                await own.DisposeAsync().ConfigureAwait(false);
                command.Transaction = null;
            }
        }
    }

    /// <summary>
    /// In the application's own EF transaction the notifications wait in the unit of work for its commit (and go with a
    /// rollback); otherwise they are written now: in EfNotify's transaction, or enlisted in the ambient one.
    /// </summary>
    /// <returns>The rows to write now, or <see langword="null"/> when queued.</returns>
    private List<(string Payload, int Count)>? Queue(DbContext context, DbCommand command, DbTransaction? own, List<PendingNotification> pending)
    {
        if (pending.Count == 0)
        {
            return null;
        }

        if (own is null && command.Transaction is { } transaction)
        {
            EfNotifyInterceptor.UnitOfWork(context).QueueInTransaction(transaction, pending);
            return null;
        }

        return NotificationSerializer.Serialize(pending, time);
    }

    /// <param name="own">EfNotify's own transaction, committed by now.</param>
    /// <param name="count">How many notifications were written now; none when they wait for the application's commit.</param>
    private void Written(DbTransaction? own, int count)
    {
        if (count == 0)
        {
            return;
        }

        if (own is null && SystemTransaction.Current is { } ambient)
        {
            ambient.TransactionCompleted += (_, e) =>
            {
                if (e.Transaction?.TransactionInformation.Status == System.Transactions.TransactionStatus.Committed)
                {
                    instrumentation.Captured(count);
                    signal.Notify();
                }
            };
            return;
        }

        instrumentation.Captured(count);
        signal.Notify();
    }

    private static void Release(DbCommand command, DbTransaction? own)
    {
        if (own is not null)
        {
            own.Dispose(); // rolls back unless committed
            command.Transaction = null;
        }
    }
}
