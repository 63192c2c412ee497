using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Postgres;

/// <summary>
/// Issue 13: where every key is known before the save (updates, deletes), the outbox row travels in EF Core's own batch,
/// so the save costs no round trip more than without EfNotify; a generated key still has it written before the commit.
/// Either way the row commits with the data and only with it. A save of one inserted or updated row, which EF Core sends as
/// one command without a transaction, takes its outbox row along in that command: one round trip, as without EfNotify
/// (the conflicts of that path: PostgresOneTripConflictTests).
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

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_single_update_is_one_command_without_a_transaction_and_its_row_commits_with_it(bool async)
    {
        var commands = new SaveCommands();
        await using var services = Services(interceptor: commands);
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        var card = new Card { Title = "one" };
        db.Add(card);
        await Save(db, async);
        commands.Clear();

        card.Status = "done"; // found by EF Core's own DetectChanges, after SaveChanges began
        await Save(db, async);

        var (text, inTransaction) = Assert.Single(commands.Sent); // one round trip: no BEGIN with it, no COMMIT after it
        Assert.False(inTransaction);
        Assert.Contains("UPDATE", text, StringComparison.Ordinal);
        Assert.Contains(OutboxInsert, text, StringComparison.Ordinal);
        Assert.Equal([(Channel(card), "added"), (Channel(card), "modified")], Published(services));
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_single_insert_of_a_key_set_by_the_application_is_one_command_without_a_transaction(bool async)
    {
        var commands = new SaveCommands();
        await using var services = Services(interceptor: commands);
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        var card = new Card { Id = 4_242, Title = "known key" };
        db.Add(card);
        await Save(db, async);

        var (text, inTransaction) = Assert.Single(commands.Sent);
        Assert.False(inTransaction);
        Assert.Contains(OutboxInsert, text, StringComparison.Ordinal);
        Assert.Equal([(Channel(card), "added")], Published(services));
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_single_delete_keeps_its_transaction_and_a_change_without_notifications_needs_none(bool async)
    {
        var commands = new SaveCommands();
        await using var services = Services(interceptor: commands);
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        var card = new Card { Title = "gone" };
        var board = new Board { Name = "plain" };
        db.AddRange(card, board);
        await Save(db, async);
        commands.Clear();

        db.Remove(card); // a deleted row leaves nothing to condition the outbox row on: BEGIN, DELETE and INSERT, then COMMIT
        await Save(db, async);
        board.Name = "renamed"; // no notification: EF Core's own single statement, autocommitted
        await Save(db, async);

        Assert.Equal([true, false], commands.Sent.Select(c => c.InTransaction));
        Assert.Contains(OutboxInsert, commands.Sent[0].Text, StringComparison.Ordinal);
        Assert.DoesNotContain(OutboxInsert, commands.Sent[1].Text, StringComparison.Ordinal);
        Assert.Equal([(Channel(card), "added"), (Channel(card), "deleted")], Published(services));
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
}
