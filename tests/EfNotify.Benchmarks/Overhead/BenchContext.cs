using Microsoft.EntityFrameworkCore;

namespace EfNotify.Benchmarks.Overhead;

[Notify("changed")]
public class BenchItem
{
    public int Id { get; set; }

    public string Name { get; set; } = "";

    public int Version { get; set; }
}

/// <summary>The same model with and without EfNotify: the outbox table is mapped in both, so the schemas are identical.</summary>
public class BenchContext(DbContextOptions<BenchContext> options) : DbContext(options)
{
    public DbSet<BenchItem> Items => Set<BenchItem>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddEfNotifyOutbox();
}
