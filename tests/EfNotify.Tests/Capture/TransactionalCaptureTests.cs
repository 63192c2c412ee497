using EfNotify.Tests.TestModel;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace EfNotify.Tests.Capture;

/// <summary>The outbox row commits with the data, carries the real keys, and exists for committed changes only.</summary>
public class TransactionalCaptureTests
{
    public static TheoryData<bool, bool> AsyncAndStorage => new() { { false, false }, { true, false }, { false, true }, { true, true } };

    public static TheoryData<bool> Async => new() { false, true };

    [Theory]
    [MemberData(nameof(AsyncAndStorage))]
    public async Task Single_statement_save_writes_one_row_with_the_generated_key(bool async, bool inMemory)
    {
        using var fixture = new ShopFixture(inMemory);
        using var db = fixture.CreateContext();
        var order = new Order { Title = "first" };
        db.Orders.Add(order);

        await Save(db, async);

        var rows = fixture.Rows();
        Assert.Single(rows);
        Assert.Equal(OutboxStatus.Pending, rows[0].Status);
        var notification = Assert.Single(fixture.Notifications());
        Assert.Equal($"private-Order.{order.Id}", notification.Channel);
        Assert.True(order.Id > 0);
        Assert.Equal("changed", notification.Event);
        Assert.Equal("Order", notification.Data.Entity);
        Assert.Equal(order.Id, notification.Data.Key.GetInt32());
        Assert.Equal("added", notification.Data.Change);
        Assert.Equal(fixture.Time.GetUtcNow().UtcDateTime, notification.Data.At);
        Assert.NotEqual(Guid.Empty, notification.Data.Id);
        Assert.Equal(AutoTransactionBehavior.WhenNeeded, db.Database.AutoTransactionBehavior);
    }

    [Theory]
    [MemberData(nameof(AsyncAndStorage))]
    public async Task Several_entities_in_one_save_share_one_row_with_every_key(bool async, bool inMemory)
    {
        using var fixture = new ShopFixture(inMemory);
        using var db = fixture.CreateContext();
        var orders = Enumerable.Range(0, 5).Select(i => new Order { Title = $"o{i}" }).ToList();
        db.Orders.AddRange(orders);
        db.AuditEntries.Add(new AuditEntry { Text = "not notified" });

        await Save(db, async);

        var row = Assert.Single(fixture.Rows());
        Assert.Equal(5, row.Count);
        Assert.Equal(orders.Select(o => $"private-Order.{o.Id}").Order(), fixture.Notifications().Select(n => n.Channel).Order());
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task Modified_and_deleted_entities_are_captured_with_their_change_kind(bool async)
    {
        using var fixture = new ShopFixture();
        int id;
        using (var db = fixture.CreateContext())
        {
            var order = new Order { Title = "a" };
            db.Add(order);
            await Save(db, async);
            id = order.Id;
        }

        using (var db = fixture.CreateContext())
        {
            var order = db.Orders.Single();
            order.Total = 10;
            await Save(db, async);
            db.Remove(order);
            await Save(db, async);
        }

        Assert.Equal(["added", "modified", "deleted"], fixture.Notifications().Select(n => n.Data.Change));
        Assert.All(fixture.Notifications(), n => Assert.Equal($"private-Order.{id}", n.Channel));
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task Explicit_transaction_writes_nothing_before_commit_and_one_row_at_commit(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using var transaction = async ? await db.Database.BeginTransactionAsync() : db.Database.BeginTransaction();
        var first = new Order { Title = "first" };
        db.Add(first);
        await Save(db, async);
        var second = new Order { Title = "second" };
        db.Add(second);
        await Save(db, async);

        Assert.Empty(fixture.Rows());
        Assert.False(await fixture.Signal.WaitAsync(TimeSpan.Zero, TimeProvider.System, default));

        if (async)
        {
            await transaction.CommitAsync();
        }
        else
        {
            transaction.Commit();
        }

        var row = Assert.Single(fixture.Rows());
        Assert.Equal(2, row.Count);
        Assert.Equal([$"private-Order.{first.Id}", $"private-Order.{second.Id}"], fixture.Notifications().Select(n => n.Channel));
        Assert.True(await fixture.Signal.WaitAsync(TimeSpan.Zero, TimeProvider.System, default));
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task Rolled_back_transaction_writes_nothing(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using (var transaction = async ? await db.Database.BeginTransactionAsync() : db.Database.BeginTransaction())
        {
            db.Add(new Order { Title = "gone" });
            await Save(db, async);
            if (async)
            {
                await transaction.RollbackAsync();
            }
            else
            {
                transaction.Rollback();
            }
        }

        Assert.Empty(fixture.Rows());
        Assert.False(await fixture.Signal.WaitAsync(TimeSpan.Zero, TimeProvider.System, default));
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task Transaction_disposed_without_commit_leaves_nothing_for_the_next_one(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            db.Add(new Order { Title = "abandoned" });
            await Save(db, async);
        }

        db.ChangeTracker.Clear();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            db.Add(new Product { Name = "kept" });
            await Save(db, async);
            await transaction.CommitAsync();
        }

        Assert.Equal(["private-Product"], fixture.Notifications().Select(n => n.Channel));
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task Failed_save_in_a_transaction_drops_only_its_own_notifications(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var kept = new Order { Title = "kept" };
        db.Add(kept);
        await Save(db, async);

        var duplicate = new Order { Title = "kept" }; // violates the unique index on Title
        db.Add(duplicate);
        await Assert.ThrowsAsync<DbUpdateException>(() => Save(db, async));
        db.Entry(duplicate).State = EntityState.Detached;

        var after = new Product { Name = "after" };
        db.Add(after);
        await Save(db, async);
        await transaction.CommitAsync();

        Assert.Equal([$"private-Order.{kept.Id}", "private-Product"], fixture.Notifications().Select(n => n.Channel));
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task Failed_plain_save_writes_nothing(bool async)
    {
        using var fixture = new ShopFixture();
        using (var db = fixture.CreateContext())
        {
            db.Add(new Order { Title = "taken" });
            await Save(db, async);
        }

        using (var db = fixture.CreateContext())
        {
            db.Add(new Order { Title = "taken" });
            db.Add(new Product { Name = "with it" });
            await Assert.ThrowsAsync<DbUpdateException>(() => Save(db, async));
            Assert.Equal(AutoTransactionBehavior.WhenNeeded, db.Database.AutoTransactionBehavior);
        }

        Assert.Single(fixture.Rows());
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task Changes_to_one_object_in_one_transaction_coalesce(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var order = new Order { Title = "x" };
        db.Add(order);
        await Save(db, async);
        order.Total = 1;
        await Save(db, async);
        order.Total = 2;
        await Save(db, async);
        await transaction.CommitAsync();

        var notification = Assert.Single(fixture.Notifications());
        Assert.Equal("added", notification.Data.Change);
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task Explicit_transaction_keeps_notifications_of_entries_detached_before_commit(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var order = new Order { Title = "detached later" };
        db.Add(order);
        await Save(db, async);
        db.ChangeTracker.Clear();
        await transaction.CommitAsync();

        Assert.Equal($"private-Order.{order.Id}", Assert.Single(fixture.Notifications()).Channel);
    }

    [Fact]
    public async Task Other_transactions_on_the_context_write_nothing()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            await db.Database.ExecuteSqlRawAsync("UPDATE Orders SET Total = 0");
            await transaction.CommitAsync();
        }

        Assert.Empty(fixture.Rows());
    }

    [Theory]
    [InlineData("pool")]
    [InlineData("factory")]
    public async Task Pooled_and_factory_contexts_capture_and_reset_between_uses(string registration)
    {
        using var fixture = new ShopFixture(registration: registration);
        for (var i = 0; i < 3; i++)
        {
            await using var db = fixture.CreateContext();
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.Add(new Order { Title = $"t{i}" });
            await db.SaveChangesAsync();
            if (i == 1)
            {
                await transaction.RollbackAsync();
            }
            else
            {
                await transaction.CommitAsync();
            }
        }

        Assert.Equal(2, fixture.Notifications().Count);
    }

    [Fact]
    public async Task Notifier_name_and_socket_id_travel_with_the_notification()
    {
        using var fixture = new ShopFixture();
        fixture.Notifier.UserName = "alice";
        fixture.Notifier.SocketId = "123.456";
        using var db = fixture.CreateContext();
        db.Add(new Order { Title = "mine" });
        await db.SaveChangesAsync();

        var notification = Assert.Single(fixture.Notifications());
        Assert.Equal("alice", notification.Data.By);
        Assert.Equal("123.456", notification.SocketId);
    }

    [Theory]
    [InlineData("not-a-socket")]
    [InlineData("123.456\n")]
    [InlineData("١٢٣.٤٥٦")]
    public async Task A_malformed_socket_id_is_not_passed_on(string socketId)
    {
        using var fixture = new ShopFixture();
        fixture.Notifier.SocketId = socketId;
        using var db = fixture.CreateContext();
        db.Add(new Order { Title = "mine" });
        await db.SaveChangesAsync();

        Assert.Null(Assert.Single(fixture.Notifications()).SocketId);
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_large_transaction_is_split_into_bounded_rows_in_order(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        var orders = Enumerable.Range(0, 300).Select(i => new Order { Title = $"bulk {i}" }).ToList();
        db.AddRange(orders);
        await Save(db, async);

        Assert.Equal([128, 128, 44], fixture.Rows().Select(r => r.Count));
        Assert.Equal(
            orders.Select(o => $"private-Order.{o.Id}").Order(),
            fixture.Notifications().Select(n => n.Channel).Order());
        Assert.Equal(300, fixture.Notifications().Select(n => n.Data.Id).Distinct().Count());
    }

    [Fact]
    public async Task Unmarked_entities_write_no_row()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        db.Add(new AuditEntry { Text = "quiet" });
        await db.SaveChangesAsync();

        Assert.Empty(fixture.Rows());
    }

    internal static async Task Save(DbContext db, bool async)
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
}
