using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Postgres;

/// <summary>Issue 15: ExecuteUpdate and ExecuteDelete notify on PostgreSQL, with the keys its RETURNING gives.</summary>
public sealed class PostgresSetBasedTests : PostgresDatabaseTest
{
    [PostgresTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task ExecuteUpdate_without_a_transaction_notifies_each_changed_card_with_its_values(bool async, bool retrying)
    {
        await using var services = Services(retrying);
        var ids = await SeedAsync(services, "a", "b", "c");

        using (var scope = services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
            var query = db.Cards.Where(c => c.Title != "b");
            var affected = async
                ? await query.ExecuteUpdateAsync(s => s.SetProperty(c => c.Notes, c => c.Title + "!"))
                : query.ExecuteUpdate(s => s.SetProperty(c => c.Notes, c => c.Title + "!"));
            Assert.Equal(2, affected);
        }

        var events = Notifications(services);
        Assert.Equal([$"private-Card.{ids[0]}", $"private-Card.{ids[2]}"], events.Select(e => e.Channel).Order());
        Assert.Equal(["a!", "c!"], events.Select(e => Data(e).GetProperty("values").GetProperty("Notes").GetString()).Order());
        Assert.All(events, e => Assert.Equal("modified", Data(e).GetProperty("change").GetString()));
    }

    [PostgresFact]
    public async Task An_update_joined_to_another_table_returns_the_keys_of_the_changed_table()
    {
        await using var services = Services();
        var ids = await SeedAsync(services, "alpha", "beta");
        using (var scope = services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
            db.Boards.Add(new Board { Name = "beta" });
            await db.SaveChangesAsync();
            await db.Set<OutboxMessage>().ExecuteDeleteAsync();

            await db.Cards.Where(c => db.Boards.Any(b => b.Name == c.Title)).ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, "done"));
        }

        Assert.Equal([$"private-Card.{ids[1]}"], Notifications(services).Select(e => e.Channel));
    }

    [PostgresTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ExecuteDelete_in_a_transaction_notifies_after_the_commit_and_never_after_a_rollback(bool commit)
    {
        await using var services = Services();
        var ids = await SeedAsync(services, "a");
        using (var scope = services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            Assert.Equal(1, await db.Cards.ExecuteDeleteAsync());
            Assert.Empty(Notifications(services));
            if (commit)
            {
                await transaction.CommitAsync();
            }
            else
            {
                await transaction.RollbackAsync();
            }
        }

        Assert.Equal(commit ? [$"private-Card.{ids[0]}:deleted"] : [], Notifications(services).Select(e => $"{e.Channel}:{Data(e).GetProperty("change").GetString()}"));
    }

    private static async Task<int[]> SeedAsync(IServiceProvider services, params string[] titles)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        var cards = titles.Select(t => new Card { Title = t }).ToList();
        db.Cards.AddRange(cards);
        await db.SaveChangesAsync();
        await db.Set<OutboxMessage>().ExecuteDeleteAsync();
        return [.. cards.Select(c => c.Id)];
    }

    private static List<OutgoingEvent> Notifications(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        var rows = scope.ServiceProvider.GetRequiredService<BoardContext>().Set<OutboxMessage>().AsNoTracking().OrderBy(m => m.Id).ToList();
        return rows.SelectMany(r => EfNotify.Outbox.OutboxPayload.Read(r.Payload)).ToList();
    }

    private static JsonElement Data(OutgoingEvent e) => JsonDocument.Parse(e.Data).RootElement;
}
