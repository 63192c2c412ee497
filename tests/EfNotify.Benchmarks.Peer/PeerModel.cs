using Microsoft.EntityFrameworkCore;

namespace EfNotify.Benchmarks.Peer;

[Notify("changed")]
public class PeerItem
{
    public int Id { get; set; }

    public string Name { get; set; } = "";

    public int Version { get; set; }
}

/// <summary>
/// One model for all three cases. EfNotify's outbox table is mapped in every case so that the EF Core schema is the
/// same; the Wolverine case additionally has Wolverine's envelope tables in the same file.
/// </summary>
public class PeerContext(DbContextOptions<PeerContext> options) : DbContext(options)
{
    public DbSet<PeerItem> Items => Set<PeerItem>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddEfNotifyOutbox();
}

/// <summary>The message the Wolverine case publishes once per changed row.</summary>
public record ItemChanged(int Id, int Version);

/// <summary>
/// The handler behind the durable local queue the Wolverine case routes <see cref="ItemChanged"/> to. It only counts,
/// so that a run can show the messages went all the way through.
/// </summary>
public static class ItemChangedHandler
{
    private static long s_handled;

    public static long Handled => Interlocked.Read(ref s_handled);

    public static void Handle(ItemChanged message) => Interlocked.Increment(ref s_handled);
}
