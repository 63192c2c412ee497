using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.AspNetCore.Tests.TestApp;

/// <summary>Tenant-scoped and soft-deletable: the query filter decides whether a project exists for the request's user.</summary>
[Notify("changed")]
public class Project
{
    public int Id { get; set; }

    public string Tenant { get; set; } = "";

    public string Owner { get; set; } = "";

    public bool Shared { get; set; }

    public bool Deleted { get; set; }

    public string Name { get; set; } = "";
}

/// <summary>Readable by its author, through the easy per-entity rule.</summary>
public class Note
{
    public Guid Id { get; set; }

    public string Author { get; set; } = "";
}

/// <summary>No rule and no authorization handler: never readable.</summary>
public class Secret
{
    public int Id { get; set; }
}

/// <summary>A composite key with text that needs escaping in a channel name.</summary>
public class Shipment
{
    public string Region { get; set; } = "";

    public int Number { get; set; }
}

public readonly record struct TicketId(int Value);

/// <summary>A key behind a value converter.</summary>
public class Ticket
{
    public TicketId Id { get; set; }
}

/// <summary>Named "foobar" in channels, so the protocol's test vector for private-foobar applies.</summary>
public class Foo
{
    public int Id { get; set; }
}

/// <summary>Its rule throws: the endpoint must still answer 403, not 500.</summary>
public class Explosive
{
    public int Id { get; set; }
}

public class AuthTestContext(DbContextOptions<AuthTestContext> options, IHttpContextAccessor http) : DbContext(options)
{
    public string? Tenant => http.HttpContext?.User.FindFirstValue(TestAuthHandler.TenantClaim);

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Project>().HasQueryFilter(p => p.Tenant == Tenant && !p.Deleted);
        modelBuilder.Entity<Note>();
        modelBuilder.Entity<Secret>();
        modelBuilder.Entity<Shipment>().HasKey(s => new { s.Region, s.Number });
        modelBuilder.Entity<Ticket>().Property(t => t.Id).HasConversion(id => id.Value, value => new TicketId(value));
        modelBuilder.Entity<Foo>().HasNotifyName("foobar");
        modelBuilder.Entity<Explosive>();
        modelBuilder.AddEfNotifyOutbox();
    }
}
