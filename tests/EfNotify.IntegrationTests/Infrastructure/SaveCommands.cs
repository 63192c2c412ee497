using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>
/// The text of every command a save sent through EF Core, as it was executed (so with what EfNotify appended to it), and
/// whether it ran in a transaction: Npgsql sends the BEGIN with the command, and the COMMIT is a round trip of its own.
/// </summary>
public sealed class SaveCommands : DbCommandInterceptor
{
    public List<string> Texts { get; } = [];

    public List<(string Text, bool InTransaction)> Sent { get; } = [];

    public void Clear()
    {
        Texts.Clear();
        Sent.Clear();
    }

    public override DbDataReader ReaderExecuted(DbCommand command, CommandExecutedEventData eventData, DbDataReader result)
    {
        Record(command, eventData);
        return result;
    }

    public override ValueTask<DbDataReader> ReaderExecutedAsync(
        DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        Record(command, eventData);
        return ValueTask.FromResult(result);
    }

    private void Record(DbCommand command, CommandEventData eventData)
    {
        if (eventData.CommandSource == CommandSource.SaveChanges)
        {
            Texts.Add(command.CommandText);
            Sent.Add((command.CommandText, command.Transaction is not null));
        }
    }
}
