using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace EfNotify.Capture;

/// <summary>
/// Appends a save's outbox rows to the first command of its batch, when its keys are all known before it (see
/// <see cref="NotifyUnitOfWork.TakeBatch"/>): the rows then cost no round trip of their own. A save of one row that EF
/// Core sends without a transaction takes them in its only command (<see cref="OneTripSave"/>).
/// </summary>
/// <remarks>
/// A command interceptor is called for every command of the context, so it is registered only where a round trip costs
/// something: not on SQLite, which has no network and sends one command per statement (there the row is written at
/// <c>TransactionCommitting</c>, as for a generated key).
/// </remarks>
internal sealed class SaveBatchInterceptor(EfNotifyInterceptor capture) : DbCommandInterceptor
{
    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        if (eventData.CommandSource == CommandSource.SaveChanges && !result.HasResult)
        {
            OutboxRows.AppendToSave(command, eventData.Context, capture.Environment);
        }

        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        => ValueTask.FromResult(ReaderExecuting(command, eventData, result));

    /// <summary>Whether the provider configured so far is one where the batch saves a round trip (any but SQLite).</summary>
    public static bool Helps(Microsoft.EntityFrameworkCore.DbContextOptions options)
    {
        foreach (var extension in options.Extensions)
        {
            if (extension.GetType().Assembly.GetName().Name == SetBasedStatement.SqliteProvider)
            {
                return false;
            }
        }

        return true;
    }
}
