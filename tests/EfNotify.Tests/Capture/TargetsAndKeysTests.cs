using System.Text.RegularExpressions;
using EfNotify.Tests.TestModel;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Tests.Capture;

/// <summary>Which channel a change reaches, and what the message says.</summary>
public partial class TargetsAndKeysTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_new_message_in_a_new_room_notifies_the_room_with_its_generated_key(bool async)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        var room = new Room { Name = "lobby" };
        var message = new Message { Room = room, Text = "hi" };
        db.Add(message);
        await TransactionalCaptureTests.Save(db, async);

        var notification = Assert.Single(fixture.Notifications());
        Assert.Equal($"private-Room.{room.Id}", notification.Channel);
        Assert.Equal("newMessage", notification.Event);
        Assert.Equal("Room", notification.Data.Entity);
        Assert.Equal(room.Id, notification.Data.Key.GetInt32());
        Assert.Equal("Message", notification.Data.Source!.Entity);
        Assert.Equal(message.Id, notification.Data.Source.Key.GetInt32());
    }

    [Fact]
    public async Task A_new_message_in_an_explicit_transaction_notifies_the_room_with_its_generated_key()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var room = new Room { Name = "lobby" };
        db.Add(new Message { Room = room, Text = "hi" });
        await db.SaveChangesAsync();
        await transaction.CommitAsync();

        Assert.Equal($"private-Room.{room.Id}", Assert.Single(fixture.Notifications()).Channel);
    }

    [Fact]
    public async Task Editing_a_message_does_not_notify_when_only_added_is_configured()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        var message = new Message { Room = new Room { Name = "r" }, Text = "hi" };
        db.Add(message);
        await db.SaveChangesAsync();
        message.Text = "edited";
        await db.SaveChangesAsync();

        Assert.Single(fixture.Notifications());
    }

    [Fact]
    public async Task List_notifications_go_to_the_type_channel()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        db.Add(new Product { Name = "p" });
        await db.SaveChangesAsync();

        var notification = Assert.Single(fixture.Notifications());
        Assert.Equal("private-Product", notification.Channel);
        Assert.Equal("Product", notification.Data.Entity);
    }

    [Fact]
    public async Task WhenChanged_fires_only_for_the_named_properties_and_includes_opted_in_values()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        var task = new TaskItem { Title = "t" };
        db.Add(task);
        await db.SaveChangesAsync(); // Added is not configured
        task.Title = "renamed";
        await db.SaveChangesAsync(); // Title is not watched
        task.Status = "done";
        await db.SaveChangesAsync();

        var notification = Assert.Single(fixture.Notifications());
        Assert.Equal("statusChanged", notification.Event);
        Assert.Equal("done", notification.Data.Values!["Status"].GetString());
    }

    [Fact]
    public async Task Messages_hold_no_property_values_unless_opted_in()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        db.Add(new Order { Title = "secret title", Total = 99 });
        await db.SaveChangesAsync();

        var payload = Assert.Single(fixture.Rows()).Payload;
        Assert.DoesNotContain("secret title", payload, StringComparison.Ordinal);
        Assert.Null(Assert.Single(fixture.Notifications()).Data.Values);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("with space/and.dots,commas;semi=eq")]
    [InlineData("ünïcødé ✓ 日本")]
    [InlineData("private-Order.1")]
    [InlineData("=41")]
    public async Task String_keys_of_any_characters_give_valid_channels_that_map_back(string path)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        db.Add(new Document { Path = path });
        await db.SaveChangesAsync();

        var notification = Assert.Single(fixture.Notifications());
        Assert.Matches(PusherChannel(), notification.Channel);
        Assert.True(ChannelNames.TryParse(notification.Channel, out var entity, out var parts));
        Assert.Equal("Document", entity);
        Assert.Equal([path], parts!);
        Assert.Equal(path, notification.Data.Key.GetString());
    }

    [Fact]
    public async Task Composite_keys_join_their_parts()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        db.Add(new OrderLine { OrderId = 7, LineNo = 3 });
        await db.SaveChangesAsync();

        var notification = Assert.Single(fixture.Notifications());
        Assert.Equal("private-OrderLine.7,3", notification.Channel);
        Assert.Equal([7, 3], notification.Data.Key.EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public async Task Guid_keys_are_written_in_canonical_form()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        var ticket = new Ticket { Id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e") };
        db.Add(ticket);
        await db.SaveChangesAsync();

        Assert.Equal("private-Ticket.0f8fad5b-d9cb-469f-a165-70867728950e", Assert.Single(fixture.Notifications()).Channel);
    }

    [Fact]
    public async Task A_key_too_long_for_a_channel_fails_the_save_with_a_clear_error_and_writes_nothing()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        db.Add(new Document { Path = new string('ü', 100) });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
        Assert.Contains("Document", error.Message, StringComparison.Ordinal);
        Assert.Contains("164", error.Message, StringComparison.Ordinal);
        Assert.Empty(fixture.Rows());
        using var check = fixture.CreateContext();
        Assert.Empty(check.Documents); // the data did not commit without its notification
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Notify_queues_a_notification_that_the_next_save_commits(bool async)
    {
        using var fixture = new ShopFixture();
        int id;
        using (var db = fixture.CreateContext())
        {
            var order = new Order { Title = "o" };
            db.Add(order);
            await db.SaveChangesAsync();
            id = order.Id;
        }

        using (var db = fixture.CreateContext())
        {
            var order = db.Orders.AsNoTracking().Single();
            db.Notify(order, "shipped");
            db.NotifyList<Order>("refresh");
            await TransactionalCaptureTests.Save(db, async); // nothing changed: the row is written on its own
        }

        var notifications = fixture.Notifications();
        Assert.Equal(["changed", "shipped", "refresh"], notifications.Select(n => n.Event));
        Assert.Equal($"private-Order.{id}", notifications[1].Channel);
        Assert.Equal("notified", notifications[1].Data.Change);
        Assert.Equal("private-Order", notifications[2].Channel);
    }

    [Fact]
    public async Task Notify_in_a_rolled_back_transaction_sends_nothing()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        var room = new Room { Name = "r" };
        db.Add(room);
        await db.SaveChangesAsync();
        var before = fixture.Rows().Count;

        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            db.Notify(room, "closed");
            await transaction.RollbackAsync();
        }

        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            db.Notify(room, "opened");
            await transaction.CommitAsync();
        }

        Assert.Equal(["opened"], fixture.Notifications().Skip(before).Select(n => n.Event));
    }

    [Fact]
    public void Notify_rejects_an_invalid_action_name()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        Assert.Throws<ArgumentException>(() => db.Notify(new Room(), ""));
        Assert.Throws<ArgumentException>(() => db.Notify(new Room(), new string('a', 201)));
        Assert.Throws<ArgumentException>(() => db.Notify(new object(), "x"));
    }

    [Theory] // issue 15: db.Notify applies the rules the model applies to [Notify] actions
    [InlineData("pusher:subscribe")]
    [InlineData("pusher_internal:member_added")]
    [InlineData("   ")]
    public async Task Notify_rejects_the_action_names_the_model_rejects_naming_the_problem_and_queues_nothing(string action)
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();

        var single = Assert.Throws<ArgumentException>(() => db.Notify(new Room { Id = 1 }, action));
        var list = Assert.Throws<ArgumentException>(() => db.NotifyList<Room>(action));

        Assert.Contains(action.Trim().Length == 0 ? "empty action name" : "reserved by Pusher", single.Message, StringComparison.Ordinal);
        Assert.Equal(single.Message, list.Message);
        db.NotifyList<Room>("sentinel");
        await db.SaveChangesAsync();
        Assert.Equal(["sentinel"], fixture.Notifications().Select(n => n.Event));
    }

    [Fact]
    public async Task AutoTransactionBehavior_Never_is_left_as_the_application_set_it_after_a_refused_save()
    {
        using var fixture = new ShopFixture();
        using var db = fixture.CreateContext();
        db.Database.AutoTransactionBehavior = AutoTransactionBehavior.Never;
        db.Add(new Order { Title = "n" });
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync()); // issue 10: never silently non-atomic

        Assert.Empty(fixture.Notifications());
        Assert.Equal(AutoTransactionBehavior.Never, db.Database.AutoTransactionBehavior);
    }

    [GeneratedRegex("^[-a-zA-Z0-9_=@,.;]{1,164}$")]
    private static partial Regex PusherChannel();
}
