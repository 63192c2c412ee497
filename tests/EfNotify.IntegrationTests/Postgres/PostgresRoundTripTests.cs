using System.Data.Common;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Postgres;

/// <summary>
/// Issue 13: where every key is known before the save (updates, deletes), the outbox row travels in EF Core's own batch,
/// so the save costs no round trip more than without EfNotify; a generated key still has it written before the commit.
/// Either way the row commits with the data and only with it.
/// </summary>
public sealed class PostgresRoundTripTests : PostgresDatabaseTest
{
    private const string OutboxInsert = "INSERT INTO \"EfNotifyOutbox\"";

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_update_save_sends_the_outbox_row_in_the_command_of_its_updates(bool async)
    {
        var commands = new SaveCommands();
        await using var services = Services(interceptor: commands);
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        var cards = Enumerable.Range(0, 5).Select(i => new Card { Title = $"c{i}" }).ToList();
        db.AddRange(cards);
        await Save(db, async);
        Assert.All(commands.Texts, text => Assert.DoesNotContain(OutboxInsert, text, StringComparison.Ordinal)); // generated keys: after the batch
        commands.Texts.Clear();

        cards.ForEach(c => c.Status = "done");
        db.Remove(cards[4]);
        await Save(db, async);

        var batch = Assert.Single(commands.Texts);
        Assert.Contains("UPDATE", batch, StringComparison.Ordinal);
        Assert.Contains("DELETE", batch, StringComparison.Ordinal);
        Assert.Contains(OutboxInsert, batch, StringComparison.Ordinal);
        Assert.Equal(
            [.. cards.Select(c => (Channel(c), "added")), .. cards.Take(4).Select(c => (Channel(c), "modified")), (Channel(cards[4]), "deleted")],
            Published(services));
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_update_that_conflicts_writes_nothing_and_the_next_save_is_written_once(bool async)
    {
        await using var services = Services(interceptor: new SaveCommands());
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        var gone = new Card { Title = "gone" };
        var kept = new Card { Title = "kept" };
        db.AddRange(gone, kept);
        await Save(db, async);
        using (var other = services.CreateScope())
        {
            await other.ServiceProvider.GetRequiredService<BoardContext>().Cards.Where(c => c.Id == gone.Id).ExecuteDeleteAsync();
        }

        gone.Status = "too late";
        kept.Status = "not saved";
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => Save(db, async)); // "deleted" came from ExecuteDelete
        db.Entry(gone).State = EntityState.Detached;
        await Save(db, async);

        Assert.Equal(
            [(Channel(gone), "added"), (Channel(kept), "added"), (Channel(gone), "deleted"), (Channel(kept), "modified")],
            Published(services));
    }

    private static string Channel(Card card) => $"private-Card.{card.Id}";

    private static List<(string Channel, string Change)> Published(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        var rows = scope.ServiceProvider.GetRequiredService<BoardContext>().Set<OutboxMessage>().AsNoTracking().OrderBy(m => m.Id).ToList();
        return rows.SelectMany(r => EfNotify.Outbox.OutboxPayload.Read(r.Payload))
            .Select(e => (e.Channel, System.Text.Json.JsonDocument.Parse(e.Data).RootElement.GetProperty("change").GetString()!)).ToList();
    }

    private static Task Save(DbContext db, bool async) => async ? db.SaveChangesAsync() : Task.FromResult(db.SaveChanges());

    /// <summary>The text of every command a save sent through EF Core, as it was executed.</summary>
    private sealed class SaveCommands : DbCommandInterceptor
    {
        public List<string> Texts { get; } = [];

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
            }
        }
    }
}
