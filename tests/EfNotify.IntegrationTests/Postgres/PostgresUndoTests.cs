using System.Transactions;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EfNotify.IntegrationTests.Postgres;

/// <summary>
/// Issue 10 on PostgreSQL: a connection lost in the middle of a transaction, an ambient transaction scope that is not
/// completed, nested savepoints and a concurrency conflict publish nothing that did not commit, and the context that
/// saw them goes on publishing what it commits next.
/// </summary>
public sealed class PostgresUndoTests : PostgresDatabaseTest
{
    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_connection_lost_mid_transaction_publishes_nothing_of_it_and_the_context_goes_on(bool async)
    {
        await using var services = Services();
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        var transaction = await db.Database.BeginTransactionAsync();
        var lost = new Card { Title = "lost" };
        db.Add(lost);
        await Save(db, async);
        db.Notify(lost, "lostToo");
        var backend = await db.Database.SqlQuery<int>($"SELECT pg_backend_pid() AS \"Value\"").SingleAsync();
        await using (var admin = new NpgsqlConnection(ConnectionString))
        {
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand($"SELECT pg_terminate_backend({backend})", admin);
            await kill.ExecuteScalarAsync();
        }

        db.Add(new Card { Title = "after the loss" });
        await Assert.ThrowsAnyAsync<Exception>(() => Save(db, async));
        await Assert.ThrowsAnyAsync<Exception>(() => async ? transaction.CommitAsync() : Task.Run(transaction.Commit));
        await DisposeQuietlyAsync(transaction);

        db.ChangeTracker.Clear();
        var kept = new Card { Title = "kept" };
        db.Add(kept);
        await Save(db, async); // a plain save, then a transaction of the same context
        var second = new Card { Title = "second" };
        await using (var next = await db.Database.BeginTransactionAsync())
        {
            db.Add(second);
            await Save(db, async);
            await next.CommitAsync();
        }

        Assert.Equal([$"private-Card.{kept.Id}", $"private-Card.{second.Id}"], Channels(services));
        Assert.Equal(["kept", "second"], Titles(services));
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_ambient_scope_that_is_not_completed_publishes_nothing_and_the_same_context_goes_on(bool async)
    {
        await using var services = Services();
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        using (new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            var dropped = new Card { Title = "not completed" };
            db.Add(dropped);
            db.NotifyList<Card>("droppedToo");
            await Save(db, async);
        }

        db.ChangeTracker.Clear();
        var completed = new Card { Title = "completed" };
        using (var transactionScope = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            db.Add(completed);
            await Save(db, async);
            transactionScope.Complete();
        }

        var plain = new Card { Title = "plain" };
        db.Add(plain);
        await Save(db, async);

        Assert.Equal([$"private-Card.{completed.Id}", $"private-Card.{plain.Id}"], Channels(services));
        Assert.Equal(["completed", "plain"], Titles(services));
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Rolling_back_to_the_first_of_two_savepoints_drops_what_came_after_either(bool async)
    {
        await using var services = Services();
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var first = await AddAsync(db, "first", async);
        await Savepoint(transaction, "s1", async);
        await AddAsync(db, "after s1", async);
        await Savepoint(transaction, "s2", async);
        await AddAsync(db, "after s2", async);
        if (async)
        {
            await transaction.RollbackToSavepointAsync("s1");
        }
        else
        {
            transaction.RollbackToSavepoint("s1");
        }

        var last = await AddAsync(db, "last", async);
        await transaction.CommitAsync();

        Assert.Equal([$"private-Card.{first.Id}", $"private-Card.{last.Id}"], Channels(services));
        Assert.Equal(["first", "last"], Titles(services));
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_concurrency_conflict_in_a_transaction_drops_only_the_conflicting_save(bool async)
    {
        await using var services = Services();
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
        var target = await AddAsync(db, "target", async: true);
        await using (var clear = services.CreateAsyncScope())
        {
            await clear.ServiceProvider.GetRequiredService<BoardContext>().Set<OutboxMessage>().ExecuteDeleteAsync();
        }

        await using var transaction = await db.Database.BeginTransactionAsync();
        var before = await AddAsync(db, "before", async);
        await db.Database.ExecuteSqlAsync($"DELETE FROM \"Cards\" WHERE \"Id\" = {target.Id}");
        target.Notes = "conflict";
        db.Add(new Card { Title = "with the conflict" });
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => Save(db, async));
        db.ChangeTracker.Clear();
        var after = await AddAsync(db, "after", async);
        await transaction.CommitAsync();

        Assert.Equal([$"private-Card.{before.Id}", $"private-Card.{after.Id}"], Channels(services));
        Assert.Equal(["after", "before"], Titles(services));
    }

    private ServiceProvider Services()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddEfNotify<BoardContext>(o => o.DispatcherEnabled = false);
        services.AddDbContext<BoardContext>((sp, o) => o.UseNpgsql(ConnectionString).UseEfNotify(sp));
        var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();
        scope.ServiceProvider.GetRequiredService<BoardContext>().Database.EnsureCreated();
        return provider;
    }

    private static List<string> Channels(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        var rows = scope.ServiceProvider.GetRequiredService<BoardContext>().Set<OutboxMessage>().AsNoTracking().OrderBy(m => m.Id).ToList();
        return rows.SelectMany(r => EfNotify.Outbox.OutboxPayload.Read(r.Payload)).Select(e => e.Channel).ToList();
    }

    private static List<string> Titles(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        return scope.ServiceProvider.GetRequiredService<BoardContext>().Cards.Select(c => c.Title).AsEnumerable().Order(StringComparer.Ordinal).ToList();
    }

    private static async Task<Card> AddAsync(BoardContext db, string title, bool async)
    {
        var card = new Card { Title = title };
        db.Add(card);
        await Save(db, async);
        return card;
    }

    private static async Task Save(DbContext db, bool async)
    {
        if (async)
        {
            await db.SaveChangesAsync();
        }
        else
        {
            db.SaveChanges();
        }
    }

    private static async Task Savepoint(IDbContextTransaction transaction, string name, bool async)
    {
        if (async)
        {
            await transaction.CreateSavepointAsync(name);
        }
        else
        {
            transaction.CreateSavepoint(name);
        }
    }

    private static async Task DisposeQuietlyAsync(IDbContextTransaction transaction)
    {
        try
        {
            await transaction.DisposeAsync();
        }
        catch (NpgsqlException)
        {
            // the connection is gone: there is nothing left to roll back
        }
    }
}
