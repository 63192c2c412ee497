using EfNotify.Tests.TestModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Tests.Capture;

/// <summary>
/// Issue 15: ExecuteUpdate and ExecuteDelete bypass SaveChanges, yet every object they change is notified after the
/// commit, with the keys the statement itself returned, and nothing is written for a statement that rolls back.
/// </summary>
public sealed class SetBasedCaptureTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExecuteUpdate_without_a_transaction_notifies_each_changed_object_and_commits_with_the_data(bool async)
    {
        using var fixture = new ShopFixture(configure: CaptureSetBased);
        var ids = Seed(fixture, 3);

        using var db = fixture.CreateContext();
        var query = db.Orders.Where(o => o.Id != ids[1]);
        var affected = async
            ? await query.ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, "shipped"))
            : query.ExecuteUpdate(s => s.SetProperty(o => o.Status, "shipped"));

        Assert.Equal(2, affected);
        var notifications = fixture.Notifications();
        Assert.Equal([$"private-Order.{ids[0]}", $"private-Order.{ids[2]}"], notifications.Select(n => n.Channel));
        Assert.All(notifications, n => Assert.Equal(("changed", "modified"), (n.Event, n.Data.Change)));
        using var check = fixture.CreateContext();
        Assert.Equal(["new", "shipped", "shipped"], check.Orders.OrderBy(o => o.Status).Select(o => o.Status).ToList());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExecuteDelete_notifies_each_deleted_object_with_change_deleted(bool async)
    {
        using var fixture = new ShopFixture(configure: CaptureSetBased);
        var ids = Seed(fixture, 2);

        using var db = fixture.CreateContext();
        var affected = async ? await db.Orders.ExecuteDeleteAsync() : db.Orders.ExecuteDelete();

        Assert.Equal(2, affected);
        Assert.Equal(ids.Select(id => ($"private-Order.{id}", "deleted")), fixture.Notifications().Select(n => (n.Channel, n.Data.Change)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Inside_a_transaction_nothing_is_written_before_the_commit_and_nothing_at_all_after_a_rollback(bool commit)
    {
        using var fixture = new ShopFixture(configure: CaptureSetBased);
        var ids = Seed(fixture, 1);

        using (var db = fixture.CreateContext())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await db.Orders.ExecuteUpdateAsync(s => s.SetProperty(o => o.Title, "renamed"));
            Assert.Empty(fixture.Notifications());
            if (commit)
            {
                await transaction.CommitAsync();
            }
            else
            {
                await transaction.RollbackAsync();
            }
        }

        Assert.Equal(commit ? [$"private-Order.{ids[0]}"] : [], fixture.Notifications().Select(n => n.Channel));
        using var check = fixture.CreateContext();
        Assert.Equal(commit ? "renamed" : "order 0", check.Orders.Single().Title);
    }

    [Fact]
    public async Task A_statement_that_fails_writes_nothing_and_changes_nothing()
    {
        using var fixture = new ShopFixture(configure: CaptureSetBased);
        Seed(fixture, 2);

        using var db = fixture.CreateContext();
        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => db.Orders.ExecuteUpdateAsync(s => s.SetProperty(o => o.Title, "same"))); // unique titles

        Assert.Empty(fixture.Notifications());
        Assert.Equal(["order 0", "order 1"], fixture.CreateContext().Orders.OrderBy(o => o.Title).Select(o => o.Title).ToList());
    }

    [Fact]
    public async Task WhenChanged_is_honoured_from_the_columns_the_statement_sets_and_values_come_from_the_changed_rows()
    {
        using var fixture = new ShopFixture(configure: CaptureSetBased);
        using (var seed = fixture.CreateContext())
        {
            seed.Tasks.AddRange(new TaskItem { Title = "a" }, new TaskItem { Title = "b" });
            await seed.SaveChangesAsync();
        }

        using var db = fixture.CreateContext();
        await db.Tasks.ExecuteUpdateAsync(s => s.SetProperty(t => t.Title, t => t.Title + "!"));
        Assert.Empty(fixture.Notifications());

        await db.Tasks.Where(t => t.Title == "a!").ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, "done").SetProperty(t => t.Title, "a?"));

        var notification = Assert.Single(fixture.Notifications());
        Assert.Equal("statusChanged", notification.Event);
        Assert.Equal("done", notification.Data.Values!["Status"].GetString());
    }

    [Fact]
    public async Task A_list_channel_gets_one_event_with_the_number_of_rows()
    {
        using var fixture = new ShopFixture(configure: CaptureSetBased);
        using (var seed = fixture.CreateContext())
        {
            seed.Products.AddRange(new Product { Name = "a" }, new Product { Name = "b" }, new Product { Name = "c" });
            await seed.SaveChangesAsync();
        }

        var before = fixture.Notifications().Count;
        using var db = fixture.CreateContext();
        await db.Products.ExecuteUpdateAsync(s => s.SetProperty(p => p.Name, "x"));

        var notification = Assert.Single(fixture.Notifications().Skip(before));
        Assert.Equal("private-Product", notification.Channel);
        Assert.Equal(3, notification.Data.Count);
    }

    [Fact]
    public async Task Above_the_row_limit_only_one_event_with_the_count_goes_to_the_types_list_channel()
    {
        using var fixture = new ShopFixture(configure: s => s.Configure<EfNotifyOptions>(o => { o.CaptureSetBasedChanges = true; o.SetBasedRowLimit = 2; }));
        Seed(fixture, 3);

        using var db = fixture.CreateContext();
        await db.Orders.ExecuteDeleteAsync();

        var notification = Assert.Single(fixture.Notifications());
        Assert.Equal(("private-Order", "changed", "deleted"), (notification.Channel, notification.Event, notification.Data.Change));
        Assert.Equal(3, notification.Data.Count);
    }

    [Fact]
    public async Task Guid_keys_name_the_same_channel_as_a_SaveChanges_of_that_object()
    {
        using var fixture = new ShopFixture(configure: CaptureSetBased);
        using (var seed = fixture.CreateContext())
        {
            seed.Tickets.Add(new Ticket { Id = Guid.NewGuid(), Subject = "s" });
            await seed.SaveChangesAsync();
        }

        using var db = fixture.CreateContext();
        await db.Tickets.ExecuteUpdateAsync(s => s.SetProperty(t => t.Subject, "t"));

        var channels = fixture.Notifications().Select(n => n.Channel).ToList();
        Assert.Equal(2, channels.Count);
        Assert.Equal(channels[0], channels[1]);
    }

    [Fact]
    public async Task A_table_that_is_not_notified_is_left_alone()
    {
        using var fixture = new ShopFixture(configure: CaptureSetBased);
        using var db = fixture.CreateContext();
        db.AuditEntries.Add(new AuditEntry { Text = "a" });
        await db.SaveChangesAsync();

        Assert.Equal(1, await db.AuditEntries.ExecuteUpdateAsync(s => s.SetProperty(a => a.Text, "b")));
        Assert.Empty(fixture.Notifications());
    }

    private static int[] Seed(ShopFixture fixture, int count)
    {
        using var db = fixture.CreateContext();
        var orders = Enumerable.Range(0, count).Select(i => new Order { Title = $"order {i}" }).ToList();
        db.Orders.AddRange(orders);
        db.SaveChanges();
        db.Set<OutboxMessage>().ExecuteDelete(); // start from an empty outbox
        return [.. orders.Select(o => o.Id)];
    }

    private static void CaptureSetBased(IServiceCollection services)
        => services.Configure<EfNotifyOptions>(o => o.CaptureSetBasedChanges = true);
}
