using EfNotify.Tests.TestModel;
using Microsoft.EntityFrameworkCore;
using static EfNotify.Tests.Capture.SavepointCaptureTests;

namespace EfNotify.Tests.Capture;

/// <summary>
/// Issue 10: a save that ends in a concurrency conflict, a cancellation or another interceptor's exception drops
/// exactly its own notifications, so does a transaction disposed without a commit, and the context goes on working.
/// </summary>
public class UndoneSaveCaptureTests
{
    public static TheoryData<bool> Async => new() { false, true };

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_concurrency_conflict_in_a_transaction_drops_only_the_conflicting_save(bool async)
    {
        using var fixture = new ShopFixture();
        var existing = await SeedAsync(fixture);
        using var db = fixture.CreateContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var before = await AddAsync(db, "before", async);

        await ConflictAsync(db, existing.Id, async);
        db.ChangeTracker.Clear();
        var after = await AddAsync(db, "after", async);
        await Commit(transaction, async);

        Assert.Equal([$"private-Order.{before.Id}", $"private-Order.{after.Id}"], SavepointCaptureTests.Channels(fixture));
        using var check = fixture.CreateContext();
        Assert.Empty(check.Products);
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_concurrency_conflict_without_a_transaction_writes_nothing_and_the_context_goes_on(bool async)
    {
        using var fixture = new ShopFixture();
        var existing = await SeedAsync(fixture);
        using var db = fixture.CreateContext();

        await ConflictAsync(db, existing.Id, async);

        Assert.Empty(fixture.Rows());
        Assert.Equal(AutoTransactionBehavior.WhenNeeded, db.Database.AutoTransactionBehavior);
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var next = await AddAsync(db, "next", async);
        await Commit(transaction, async);
        Assert.Equal([$"private-Order.{next.Id}"], SavepointCaptureTests.Channels(fixture));
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_cancelled_save_drops_its_notifications_in_a_transaction_and_without_one(bool inTransaction)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        var transaction = inTransaction ? await db.Database.BeginTransactionAsync() : null;
        var before = inTransaction ? await AddAsync(db, "before", async: true) : null;

        db.Add(new Order { Title = "cancelled" });
        db.Add(new Product { Name = "cancelled" });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => db.SaveChangesAsync(new CancellationToken(canceled: true)));
        db.ChangeTracker.Clear();
        Assert.Equal(AutoTransactionBehavior.WhenNeeded, db.Database.AutoTransactionBehavior);

        await using var next = transaction ?? await db.Database.BeginTransactionAsync();
        var after = await AddAsync(db, "after", async: true);
        await next.CommitAsync();

        Assert.Equal(
            before is null ? [$"private-Order.{after.Id}"] : [$"private-Order.{before.Id}", $"private-Order.{after.Id}"],
            SavepointCaptureTests.Channels(fixture));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Another_interceptor_throwing_in_SavingChanges_drops_that_saves_notifications(bool async, bool inTransaction)
    {
        var refusing = new RefusingInterceptor();
        using var fixture = new ShopFixture(options: o => o.AddInterceptors(refusing));
        using var db = fixture.CreateContext();
        var transaction = inTransaction ? await db.Database.BeginTransactionAsync() : null;
        var before = inTransaction ? await AddAsync(db, "before", async) : null;

        refusing.Refuse = true;
        db.Add(new Order { Title = "refused" });
        db.Notify(db.Orders.Local.Single(o => o.Title == "refused"), "refusedToo");
        await Assert.ThrowsAsync<InvalidOperationException>(() => Save(db, async));
        refusing.Refuse = false;
        db.ChangeTracker.Clear();

        // The next transaction of the context, whatever it holds, publishes its own changes and nothing refused.
        await using var next = transaction ?? await db.Database.BeginTransactionAsync();
        var after = await AddAsync(db, "after", async);
        await Commit(next, async);

        Assert.Equal(AutoTransactionBehavior.WhenNeeded, db.Database.AutoTransactionBehavior);
        var expected = new List<string> { $"private-Order.{after.Id}" };
        if (before is not null)
        {
            expected.Insert(0, $"private-Order.{before.Id}");
        }

        Assert.Equal(expected, SavepointCaptureTests.Channels(fixture));
        Assert.All(fixture.Notifications(), n => Assert.Equal("changed", n.Event));
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task A_transaction_disposed_without_commit_drops_its_saves_and_notify_calls_before_a_plain_save(bool async)
    {
        using var fixture = new ShopFixture();
        var existing = await SeedAsync(fixture);
        using var db = fixture.CreateContext();
        await using (await db.Database.BeginTransactionAsync())
        {
            db.Notify(existing, "abandoned");
            await AddAsync(db, "abandoned", async);
        }

        db.ChangeTracker.Clear();
        var next = await AddAsync(db, "next", async);

        Assert.Equal([$"private-Order.{next.Id}"], SavepointCaptureTests.Channels(fixture));
        Assert.Equal(["changed"], fixture.Notifications().Select(n => n.Event));
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task AutoTransactionBehavior_Never_outside_a_transaction_is_refused_naming_the_setting_and_saves_nothing(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        db.Database.AutoTransactionBehavior = AutoTransactionBehavior.Never;
        db.Add(new Order { Title = "never" });

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => Save(db, async));

        Assert.Contains("AutoTransactionBehavior.Never", exception.Message, StringComparison.Ordinal);
        Assert.Empty(fixture.Rows());
        using var check = fixture.CreateContext();
        Assert.Empty(check.Orders);
    }

    [Theory]
    [MemberData(nameof(Async))]
    public async Task AutoTransactionBehavior_Never_inside_a_transaction_commits_the_row_with_the_data(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        db.Database.AutoTransactionBehavior = AutoTransactionBehavior.Never;
        await using var transaction = await db.Database.BeginTransactionAsync();
        var order = await AddAsync(db, "in a transaction", async);
        await Commit(transaction, async);

        Assert.Equal([$"private-Order.{order.Id}"], SavepointCaptureTests.Channels(fixture));
    }

    /// <summary>
    /// Deletes the existing order behind EF's back (in the same transaction, if any), then saves a change to it together
    /// with a new product: EF finds no row to update and throws a concurrency conflict.
    /// </summary>
    private static async Task ConflictAsync(ShopContext db, int orderId, bool async)
    {
        var order = await db.Orders.SingleAsync(o => o.Id == orderId);
        await db.Database.ExecuteSqlAsync($"DELETE FROM Orders WHERE Id = {orderId}");
        order.Total = 5;
        db.Add(new Product { Name = "with the conflict" });
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => Save(db, async));
    }
}
