using EfNotify.Dispatch;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.IntegrationTests.Postgres;

/// <summary>
/// The leading dispatcher's own claim and delivery record on PostgreSQL, with the outbox in a schema of its own and
/// renamed columns: the rows and the values EF Core reads back are those of the LINQ queries.
/// </summary>
public sealed class PostgresLeaderCommandsTests : PostgresDatabaseTest
{
    private static readonly DateTime Now = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_leader_claims_skipping_what_awaits_its_record_and_records_deliveries(bool renamed)
    {
        await using var db = renamed
            ? (DbContext)new RenamedContext(new DbContextOptionsBuilder<RenamedContext>().UseNpgsql(ConnectionString).Options)
            : new DefaultContext(new DbContextOptionsBuilder<DefaultContext>().UseNpgsql(ConnectionString).Options);
        await db.Database.EnsureCreatedAsync();
        var rows = Enumerable.Range(0, 10).Select(i => new OutboxMessage
        {
            CreatedAt = Now.AddSeconds(-i), NextAttemptAt = Now, Payload = $"payload {i}", Count = 1, Status = OutboxStatus.Pending,
        }).ToList();
        db.AddRange(rows);
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();
        var ids = rows.Select(r => r.Id).ToList();
        Assert.NotNull(LeaderCommands.For(db));

        var claimed = await OutboxStore.ClaimAsync(
            db, owner: null, Now, TimeSpan.FromSeconds(30), batchSize: 3, [ids[0], ids[1], ids[2], ids[4]], CancellationToken.None);
        var marked = await OutboxStore.MarkDeliveredAsync(db, owner: null, [ids[0], ids[1], ids[2], ids[4]], Now, CancellationToken.None);
        var next = await OutboxStore.ClaimAsync(db, owner: null, Now, TimeSpan.FromSeconds(30), batchSize: 3, [], CancellationToken.None);

        Assert.Equal([ids[3], ids[5], ids[6]], claimed.Select(r => r.Id));
        Assert.Equal(["payload 3", "payload 5", "payload 6"], claimed.Select(r => r.Payload));
        Assert.Equal(Now.AddSeconds(-3), claimed[0].CreatedAt);
        Assert.Equal(DateTimeKind.Utc, claimed[0].CreatedAt.Kind);
        Assert.Equal(4, marked);
        Assert.Equal([ids[3], ids[5], ids[6]], next.Select(r => r.Id));
        var delivered = await db.Set<OutboxMessage>().AsNoTracking().Where(m => m.Status == OutboxStatus.Delivered).OrderBy(m => m.Id).ToListAsync();
        Assert.Equal([ids[0], ids[1], ids[2], ids[4]], delivered.Select(r => r.Id));
        Assert.All(delivered, r => Assert.Equal(Now, r.DeliveredAt));
        Assert.Equal(4, await OutboxStore.DeleteDeliveredAsync(db, Now.AddTicks(10), 100, CancellationToken.None));
    }

    private sealed class DefaultContext(DbContextOptions<DefaultContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddEfNotifyOutbox();
    }

    private sealed class RenamedContext(DbContextOptions<RenamedContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.AddEfNotifyOutbox("Notice Queue", schema: "messaging");
            modelBuilder.Entity<OutboxMessage>(outbox =>
            {
                outbox.Property(m => m.Id).HasColumnName("notice_id");
                outbox.Property(m => m.Status).HasColumnName("state");
                outbox.Property(m => m.Payload).HasColumnName("body");
                outbox.Property(m => m.DeliveredAt).HasColumnName("delivered at");
            });
        }
    }
}
