using EfNotify.Tests.TestModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace EfNotify.Tests.Capture;

/// <summary>
/// Issue 10: rolling back to a savepoint drops exactly the notifications of what came after it (nested savepoints
/// too); releasing one keeps them.
/// </summary>
public class SavepointCaptureTests
{
    public static TheoryData<bool> Async => new() { false, true };

    [Theory]
    [MemberData(nameof(Async))]
    public async Task Rolling_back_to_a_savepoint_drops_the_changes_saved_after_it(bool async)
    {
        using var fixture = new ShopFixture();
        var existing = await SeedAsync(fixture);
        using var db = fixture.CreateContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var before = new Order { Title = "before" };
        db.Add(before);
        await Save(db, async);

        await Savepoint(transaction, "s", async);
        var order = db.Orders.Single(o => o.Id == existing.Id);
        order.Total = 99;
        db.Add(new Product { Name = "rolled back" });
        db.Notify(order, "poked");
        await Save(db, async);
        await RollbackTo(transaction, "s", async);
        await Commit(transaction, async);

        Assert.Equal([$"private-Order.{before.Id}"], Channels(fixture));
        using var check = fixture.CreateContext();
        Assert.Equal(0, check.Orders.Single(o => o.Id == existing.Id).Total);
        Assert.Empty(check.Products);
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task Rolling_back_to_the_first_of_two_savepoints_drops_what_came_after_either(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var kept = await AddAsync(db, "kept", async);
        await Savepoint(transaction, "s1", async);
        await AddAsync(db, "after s1", async);
        await Savepoint(transaction, "s2", async);
        await AddAsync(db, "after s2", async);
        await RollbackTo(transaction, "s1", async);
        db.ChangeTracker.Clear(); // EF does not undo its own tracking: the rolled-back orders' ids are free again
        var last = await AddAsync(db, "after the rollback", async);
        await Commit(transaction, async);

        Assert.Equal([$"private-Order.{kept.Id}", $"private-Order.{last.Id}"], Channels(fixture));
        using var check = fixture.CreateContext();
        Assert.Equal(["after the rollback", "kept"], check.Orders.Select(o => o.Title).Order().ToList());
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task Rolling_back_to_the_inner_savepoint_keeps_what_came_before_it(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        await Savepoint(transaction, "s1", async);
        var first = await AddAsync(db, "after s1", async);
        await Savepoint(transaction, "s2", async);
        await AddAsync(db, "after s2", async);
        await RollbackTo(transaction, "s2", async);
        await RollbackTo(transaction, "s2", async); // a savepoint stays after a rollback to it
        await Commit(transaction, async);

        Assert.Equal([$"private-Order.{first.Id}"], Channels(fixture));
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_released_savepoint_keeps_what_came_after_it(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        await Savepoint(transaction, "s1", async);
        await AddAsync(db, "after s1", async);
        await Savepoint(transaction, "s2", async);
        db.Add(new Product { Name = "after s2" });
        await AddAsync(db, "after s2", async);
        if (async)
        {
            await transaction.ReleaseSavepointAsync("s2");
        }
        else
        {
            transaction.ReleaseSavepoint("s2");
        }

        await RollbackTo(transaction, "s1", async); // the release did not move what came after s2 before s1
        db.ChangeTracker.Clear();
        var third = await AddAsync(db, "after the rollback", async);
        await Savepoint(transaction, "s3", async);
        var fourth = await AddAsync(db, "after s3", async);
        if (async)
        {
            await transaction.ReleaseSavepointAsync("s3");
        }
        else
        {
            transaction.ReleaseSavepoint("s3");
        }

        await Commit(transaction, async);

        Assert.Equal([$"private-Order.{third.Id}", $"private-Order.{fourth.Id}"], Channels(fixture)); // no private-Product
        using var check = fixture.CreateContext();
        Assert.Equal(["after s3", "after the rollback"], check.Orders.Select(o => o.Title).Order().ToList());
        Assert.Empty(check.Products);
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_notify_queued_after_a_savepoint_is_dropped_by_rolling_back_to_it_and_one_queued_before_is_kept(bool async)
    {
        using var fixture = new ShopFixture();
        var existing = await SeedAsync(fixture);
        using var db = fixture.CreateContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        db.NotifyList<Order>("before");
        await Savepoint(transaction, "s", async);
        db.Notify(existing, "after");
        await RollbackTo(transaction, "s", async);
        await Commit(transaction, async);

        var notification = Assert.Single(fixture.Notifications());
        Assert.Equal(("private-Order", "before"), (notification.Channel, notification.Event));
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_context_reused_after_a_rollback_to_a_savepoint_publishes_its_next_transaction(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            await Savepoint(transaction, "s", async);
            await AddAsync(db, "gone", async);
            await RollbackTo(transaction, "s", async);
            await Commit(transaction, async);
        }

        db.ChangeTracker.Clear();
        var next = await AddAsync(db, "next", async);

        Assert.Equal([$"private-Order.{next.Id}"], Channels(fixture));
    }

    internal static async Task<Order> SeedAsync(ShopFixture fixture)
    {
        using var db = fixture.CreateContext();
        var order = new Order { Title = "existing" };
        db.Add(order);
        await db.SaveChangesAsync();
        using var clear = fixture.CreateContext();
        await clear.Set<OutboxMessage>().ExecuteDeleteAsync();
        return order;
    }

    internal static async Task<Order> AddAsync(DbContext db, string title, bool async)
    {
        var order = new Order { Title = title };
        db.Add(order);
        await Save(db, async);
        return order;
    }

    internal static List<string> Channels(ShopFixture fixture) => fixture.Notifications().Select(n => n.Channel).ToList();

    internal static Task Save(DbContext db, bool async) => TransactionalCaptureTests.Save(db, async);

    internal static async Task Commit(IDbContextTransaction transaction, bool async)
    {
        if (async)
        {
            await transaction.CommitAsync();
        }
        else
        {
            transaction.Commit();
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

    private static async Task RollbackTo(IDbContextTransaction transaction, string name, bool async)
    {
        if (async)
        {
            await transaction.RollbackToSavepointAsync(name);
        }
        else
        {
            transaction.RollbackToSavepoint(name);
        }
    }
}
