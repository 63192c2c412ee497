using Microsoft.EntityFrameworkCore;

namespace EfNotify.Sample.Web.Data;

/// <summary>A demo user; its channel (private-Person.{name}) is where that user's toasts arrive.</summary>
public class Person
{
    public string UserName { get; set; } = "";
}

public class Room
{
    public int Id { get; set; }

    public string Name { get; set; } = "";

    public List<RoomMember> Members { get; set; } = [];
}

public class RoomMember
{
    public int RoomId { get; set; }

    public string UserName { get; set; } = "";
}

/// <summary>Chat: a new message notifies its room, so everyone with the room open sees it.</summary>
[Notify("newMessage", Via = nameof(Room), On = NotifyChanges.Added)]
public class ChatMessage
{
    public int Id { get; set; }

    public int RoomId { get; set; }

    public Room Room { get; set; } = null!;

    public string Author { get; set; } = "";

    public string Text { get; set; } = "";

    public DateTime At { get; set; }
}

/// <summary>
/// Asynchronous refresh: any change tells the board's list channel, so other viewers refetch.
/// Notification: a change tells the assignee's own channel, which shows a toast.
/// </summary>
[Notify("boardChanged", ToList = true)]
[Notify("assignedTaskChanged", Via = nameof(AssigneePerson))]
public class TaskCard
{
    public int Id { get; set; }

    public string Title { get; set; } = "";

    public string Status { get; set; } = "todo";

    public string? Assignee { get; set; }

    public Person? AssigneePerson { get; set; }
}

public class SampleContext(DbContextOptions<SampleContext> options) : DbContext(options)
{
    public static readonly string[] DemoUsers = ["alice", "bob", "carol"];

    public DbSet<Person> People => Set<Person>();

    public DbSet<Room> Rooms => Set<Room>();

    public DbSet<RoomMember> RoomMembers => Set<RoomMember>();

    public DbSet<ChatMessage> Messages => Set<ChatMessage>();

    public DbSet<TaskCard> Tasks => Set<TaskCard>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Person>().HasKey(p => p.UserName);
        modelBuilder.Entity<RoomMember>().HasKey(m => new { m.RoomId, m.UserName });
        modelBuilder.Entity<TaskCard>().HasOne(t => t.AssigneePerson).WithMany().HasForeignKey(t => t.Assignee);
        modelBuilder.AddEfNotifyOutbox();
    }

    public void Seed()
    {
        if (People.Any())
        {
            return;
        }

        People.AddRange(DemoUsers.Select(u => new Person { UserName = u }));
        Rooms.AddRange(
            new Room { Id = 1, Name = "General", Members = [.. DemoUsers.Select(u => new RoomMember { UserName = u })] },
            new Room { Id = 2, Name = "Project X (alice, bob)", Members = [new() { UserName = "alice" }, new() { UserName = "bob" }] });
        Tasks.AddRange(
            new TaskCard { Title = "Write the release notes", Assignee = "alice" },
            new TaskCard { Title = "Review the auth endpoint", Assignee = "bob", Status = "doing" },
            new TaskCard { Title = "Try the demo", Assignee = "carol" });
        SaveChanges();
    }
}
