using EfNotify;
using Microsoft.EntityFrameworkCore;

namespace ScratchApp;

// Every [Notify] option, by attribute and fluently, in a model that `dotnet ef migrations add` scaffolds.
[Notify("changed")]
[Notify("shipped", On = NotifyChanges.Modified, WhenChanged = [nameof(Status)], IncludeValues = [nameof(Status)])]
public class Order
{
    public int Id { get; set; }

    public string Status { get; set; } = "new";
}

public class Room
{
    public int Id { get; set; }

    public string Name { get; set; } = "";
}

[Notify("newMessage", Via = nameof(Room), On = NotifyChanges.Added)]
public class Message
{
    public int Id { get; set; }

    public int RoomId { get; set; }

    public Room Room { get; set; } = null!;

    public string Text { get; set; } = "";
}

[Notify("changed")] // replaced by the fluent configuration of the same action (the list channel)
public class Product
{
    public int Id { get; set; }

    public string Name { get; set; } = "";
}

public abstract class ShopDb(DbContextOptions options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    public DbSet<Room> Rooms => Set<Room>();

    public DbSet<Message> Messages => Set<Message>();

    public DbSet<Product> Products => Set<Product>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddEfNotifyOutbox();
        modelBuilder.Entity<Room>().HasNotifyName("ChatRoom");
        modelBuilder.Entity<Product>().Notify("changed", n => n.ToList().IncludeValues(p => p.Name));
        modelBuilder.Entity<Message>().Notify("edited", n => n.Via(m => m.Room).On(NotifyChanges.Modified).WhenChanged(m => m.Text));
    }
}

// One context per provider, so that each has migrations of its own.
public sealed class SqliteShopDb(DbContextOptions<SqliteShopDb> options) : ShopDb(options);

public sealed class PostgresShopDb(DbContextOptions<PostgresShopDb> options) : ShopDb(options);
