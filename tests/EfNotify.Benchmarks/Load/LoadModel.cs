using Microsoft.EntityFrameworkCore;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// The object the load tools modify. <see cref="Seq"/> is copied into every notification, so the subscriber can tell
/// which commit a received event belongs to (the notification id is made inside EfNotify, unknown to the committer).
/// </summary>
[Notify("changed", IncludeValues = [nameof(Seq)])]
public class LoadItem
{
    public int Id { get; set; }

    public long Seq { get; set; }
}

public class LoadContext(DbContextOptions<LoadContext> options) : DbContext(options)
{
    public DbSet<LoadItem> Items => Set<LoadItem>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddEfNotifyOutbox();
}
