using System.ComponentModel.DataAnnotations.Schema;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Tests.TestModel;

[Notify("changed")]
public class Order
{
    public int Id { get; set; }

    public string Title { get; set; } = "";

    public string Status { get; set; } = "new";

    public decimal Total { get; set; }
}

[Notify("statusChanged", On = NotifyChanges.Modified, WhenChanged = [nameof(Status)], IncludeValues = [nameof(Status)])]
public class TaskItem
{
    public int Id { get; set; }

    public string Title { get; set; } = "";

    public string Status { get; set; } = "todo";
}

public class Room
{
    public int Id { get; set; }

    public string Name { get; set; } = "";

    public List<Message> Messages { get; } = [];
}

[Notify("newMessage", Via = nameof(Room), On = NotifyChanges.Added)]
public class Message
{
    public int Id { get; set; }

    public int RoomId { get; set; }

    public Room Room { get; set; } = null!;

    public string Text { get; set; } = "";
}

[Notify("changed", ToList = true)]
public class Product
{
    public int Id { get; set; }

    public string Name { get; set; } = "";
}

[Notify("changed")]
public class Document
{
    [DatabaseGenerated(DatabaseGeneratedOption.None)]
    public string Path { get; set; } = "";

    public string Body { get; set; } = "";
}

[Notify("changed")]
public class OrderLine
{
    public int OrderId { get; set; }

    public int LineNo { get; set; }

    public int Quantity { get; set; }
}

[Notify("changed")]
public class Ticket
{
    public Guid Id { get; set; }

    public string Subject { get; set; } = "";
}

/// <summary>Not marked: its changes never notify.</summary>
public class AuditEntry
{
    public int Id { get; set; }

    public string Text { get; set; } = "";
}

public class ShopContext(DbContextOptions<ShopContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    public DbSet<TaskItem> Tasks => Set<TaskItem>();

    public DbSet<Room> Rooms => Set<Room>();

    public DbSet<Message> Messages => Set<Message>();

    public DbSet<Product> Products => Set<Product>();

    public DbSet<Document> Documents => Set<Document>();

    public DbSet<OrderLine> OrderLines => Set<OrderLine>();

    public DbSet<Ticket> Tickets => Set<Ticket>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<OrderLine>().HasKey(l => new { l.OrderId, l.LineNo });
        modelBuilder.Entity<Document>().HasKey(d => d.Path);
        modelBuilder.Entity<Order>().HasIndex(o => o.Title).IsUnique();
        modelBuilder.AddEfNotifyOutbox();
    }
}
