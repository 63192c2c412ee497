using System.Text.Json;
using System.Transactions;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Postgres;

/// <summary>The outbox commits with the data on PostgreSQL too, including with a retrying execution strategy.</summary>
public sealed class PostgresCaptureTests : PostgresDatabaseTest
{
    /// <summary>The committed notifications as the dispatcher would publish them.</summary>
    private static List<OutgoingEvent> Notifications(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        var rows = scope.ServiceProvider.GetRequiredService<BoardContext>().Set<OutboxMessage>().AsNoTracking().OrderBy(m => m.Id).ToList();
        return rows.SelectMany(r => EfNotify.Outbox.OutboxPayload.Read(r.Payload)).ToList();
    }

    private static IEnumerable<string> Channels(IServiceProvider services)
        => Notifications(services).Select(n => n.Channel);

    [PostgresTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task A_plain_save_writes_the_row_with_the_generated_key(bool async, bool retrying)
    {
        await using var services = Services(retrying);
        var card = new Card { Title = "pg" };
        using (var scope = services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
            db.Add(card);
            if (async)
            {
                await db.SaveChangesAsync();
            }
            else
            {
                db.SaveChanges();
            }
        }

        Assert.Equal([$"private-Card.{card.Id}"], Channels(services));
    }

    [PostgresFact]
    public async Task A_failed_save_inside_a_transaction_drops_only_its_own_notifications()
    {
        await using var services = Services();
        var kept = new Card { Title = "kept" };
        var board = new Board { Name = "b" };
        using (var scope = services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.AddRange(kept, board);
            await db.SaveChangesAsync();

            var orphan = new Comment { BoardId = int.MaxValue, Text = "no such board" };
            db.Add(orphan);
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
            db.Entry(orphan).State = EntityState.Detached;

            db.Add(new Comment { BoardId = board.Id, Text = "after" });
            await db.SaveChangesAsync();
            await transaction.CommitAsync();
        }

        Assert.Equal([$"private-Card.{kept.Id}", $"private-Board.{board.Id}"], Channels(services));
    }

    [PostgresFact]
    public async Task A_rolled_back_transaction_writes_nothing()
    {
        await using var services = Services();
        using (var scope = services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.Add(new Card { Title = "gone" });
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        }

        Assert.Empty(Notifications(services));
    }

    [PostgresFact]
    public async Task A_user_transaction_works_inside_the_retrying_strategy()
    {
        await using var services = Services(retrying: true);
        var card = new Card { Title = "retried" };
        using (var scope = services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
            await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
            {
                await using var transaction = await db.Database.BeginTransactionAsync();
                db.Add(card);
                await db.SaveChangesAsync();
                card.Status = "twice";
                await db.SaveChangesAsync();
                await transaction.CommitAsync();
            });
        }

        var notification = Assert.Single(Notifications(services));
        using var data = JsonDocument.Parse(notification.Data);
        Assert.Equal("added", data.RootElement.GetProperty("change").GetString());
    }

    [PostgresFact]
    public async Task An_ambient_transaction_scope_commits_the_row_with_the_data_and_drops_it_with_a_rollback()
    {
        await using var services = Services();
        var kept = new Card { Title = "completed" };
        using (var transactionScope = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            using var scope = services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
            db.Add(kept);
            await db.SaveChangesAsync();
            transactionScope.Complete();
        }

        using (new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            using var scope = services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
            db.Add(new Card { Title = "not completed" });
            await db.SaveChangesAsync();
        }

        Assert.Equal([$"private-Card.{kept.Id}"], Channels(services));
        using var check = services.CreateScope();
        Assert.Single(check.ServiceProvider.GetRequiredService<BoardContext>().Cards);
    }
}
