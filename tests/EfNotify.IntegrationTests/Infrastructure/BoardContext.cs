using Microsoft.EntityFrameworkCore;

namespace EfNotify.IntegrationTests.Infrastructure;

[Notify("changed")]
public class Card
{
    public int Id { get; set; }

    public string Title { get; set; } = "";

    public string Status { get; set; } = "todo";

    public string? Notes { get; set; }
}

public class Board
{
    public int Id { get; set; }

    public string Name { get; set; } = "";
}

[Notify("newComment", Via = nameof(Board), On = NotifyChanges.Added)]
public class Comment
{
    public int Id { get; set; }

    public int BoardId { get; set; }

    public Board Board { get; set; } = null!;

    public string Text { get; set; } = "";
}

/// <summary>Issue 15: an object that changes many times a second, coalesced by the attribute's window.</summary>
[Notify("changed", CoalesceMilliseconds = 250, IncludeValues = [nameof(Reading)])]
public class Gauge
{
    public int Id { get; set; }

    public int Reading { get; set; }
}

/// <summary>Issue 15: coalesced by the fluent window (10 s, in <see cref="BoardContext"/>).</summary>
public class Meter
{
    public int Id { get; set; }

    public int Reading { get; set; }
}

public class BoardContext(DbContextOptions<BoardContext> options) : DbContext(options)
{
    public DbSet<Card> Cards => Set<Card>();

    public DbSet<Board> Boards => Set<Board>();

    public DbSet<Comment> Comments => Set<Comment>();

    public DbSet<Gauge> Gauges => Set<Gauge>();

    public DbSet<Meter> Meters => Set<Meter>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // The test of oversized data opts in to the notes' value.
        modelBuilder.Entity<Card>().Notify("changed", n => n.IncludeValues(c => c.Notes));
        modelBuilder.Entity<Meter>().Notify("changed", n => n.Coalesce(TimeSpan.FromSeconds(10)).IncludeValues(m => m.Reading));
        modelBuilder.AddEfNotifyOutbox();
    }
}
