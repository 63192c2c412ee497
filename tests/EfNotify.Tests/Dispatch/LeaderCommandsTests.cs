using System.Text;
using EfNotify.Dispatch;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace EfNotify.Tests.Dispatch;

/// <summary>
/// The leading dispatcher's own SQL for its claim and delivery record: the same rows as the LINQ queries, on the table and
/// columns the application mapped.
/// </summary>
public sealed class LeaderCommandsTests : IDisposable
{
    private static readonly DateTime Now = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);
    private readonly SqliteConnection _connection = new("Data Source=:memory:");

    public LeaderCommandsTests() => _connection.Open();

    public void Dispose() => _connection.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_claim_skips_runs_and_single_ids_and_keeps_id_order(bool renamed)
    {
        await using var db = Create(renamed);
        var ids = Seed(db, 12);
        long[] excluded = [ids[0], ids[1], ids[2], ids[3], ids[5], ids[8], ids[9]];

        var claimed = await OutboxStore.ClaimAsync(db, owner: null, Now, TimeSpan.FromSeconds(30), batchSize: 4, excluded, CancellationToken.None);

        Assert.Equal([ids[4], ids[6], ids[7], ids[10]], claimed.Select(r => r.Id));
        Assert.All(claimed, r => Assert.Equal($"payload {r.Id}", r.Payload));
        Assert.Equal(Now.AddSeconds(-1), claimed[0].CreatedAt);
        Assert.Equal(3, claimed[0].Count);
        Assert.NotNull(LeaderCommands.For(db)); // the rows came from the leader's own SQL, not from LINQ
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_claim_that_continues_after_an_id_reads_only_the_rows_above_it(bool renamed)
    {
        await using var db = Create(renamed);
        var ids = Seed(db, 6);

        var claimed = await OutboxStore.ClaimAsync(
            db, owner: null, Now, TimeSpan.FromSeconds(30), batchSize: 2, [], CancellationToken.None, after: ids[2]);

        Assert.Equal([ids[3], ids[4]], claimed.Select(r => r.Id));
        Assert.Contains($" > {ids[2]}", LeaderCommands.For(db)!.ClaimSql(2, [], ids[2]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_claim_stops_at_a_row_that_waits_for_its_next_attempt(bool renamed)
    {
        await using var db = Create(renamed);
        var ids = Seed(db, 3);
        await db.Set<OutboxMessage>().Where(m => m.Id == ids[1])
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.NextAttemptAt, Now.AddMinutes(1)).SetProperty(m => m.Attempts, 2));

        var claimed = await OutboxStore.ClaimAsync(db, owner: null, Now, TimeSpan.FromSeconds(30), batchSize: 10, [], CancellationToken.None);

        Assert.Equal([ids[0]], claimed.Select(r => r.Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_delivery_record_marks_exactly_the_given_rows_as_EF_reads_them_and_cleanup_finds_them(bool renamed)
    {
        await using var db = Create(renamed);
        var ids = Seed(db, 8);
        await db.Set<OutboxMessage>().ExecuteUpdateAsync(s => s.SetProperty(m => m.LockedBy, "old").SetProperty(m => m.LockedUntil, Now));
        long[] delivered = [ids[0], ids[1], ids[2], ids[4], ids[6]];

        var marked = await OutboxStore.MarkDeliveredAsync(db, owner: null, delivered, Now, CancellationToken.None);

        Assert.Equal(5, marked);
        var rows = db.Set<OutboxMessage>().AsNoTracking().OrderBy(m => m.Id).ToList();
        Assert.Equal(delivered, rows.Where(r => r.Status == OutboxStatus.Delivered).Select(r => r.Id));
        Assert.All(rows.Where(r => r.Status == OutboxStatus.Delivered), r =>
        {
            Assert.Equal(Now, r.DeliveredAt);
            Assert.Null(r.LockedBy);
            Assert.Null(r.LockedUntil);
        });
        Assert.All(rows.Where(r => r.Status != OutboxStatus.Delivered), r => Assert.Equal("old", r.LockedBy));

        Assert.Equal(0, await OutboxStore.DeleteDeliveredAsync(db, Now, 100, CancellationToken.None));
        Assert.Equal(5, await OutboxStore.DeleteDeliveredAsync(db, Now.AddTicks(1), 2, CancellationToken.None));
        Assert.Equal(3, db.Set<OutboxMessage>().Count());
    }

    [Fact]
    public async Task Thousands_of_scattered_ids_stay_one_statement_of_bounded_depth()
    {
        await using var db = Create(renamed: false);
        var ids = Seed(db, 3000);
        var everyOther = ids.Where((_, i) => i % 2 == 0).ToArray();
        var runsOfThree = ids.Where((_, i) => i % 4 != 3).ToArray(); // 750 runs: most go into the IN list

        var claimed = await OutboxStore.ClaimAsync(db, owner: null, Now, TimeSpan.FromSeconds(30), batchSize: 2000, runsOfThree, CancellationToken.None);
        var marked = await OutboxStore.MarkDeliveredAsync(db, owner: null, everyOther, Now, CancellationToken.None);

        Assert.Equal(ids.Where((_, i) => i % 4 == 3), claimed.Select(r => r.Id));
        Assert.Equal(1500, marked);
    }

    [Fact]
    public async Task A_status_stored_as_text_is_compared_and_written_as_text()
    {
        await using var db = new TextStatusContext(new DbContextOptionsBuilder<TextStatusContext>().UseSqlite(_connection).Options);
        await db.Database.EnsureCreatedAsync();
        var ids = Seed(db, 3);

        var claimed = await OutboxStore.ClaimAsync(db, owner: null, Now, TimeSpan.FromSeconds(30), batchSize: 10, [ids[0]], CancellationToken.None);
        await OutboxStore.MarkDeliveredAsync(db, owner: null, [ids[1]], Now, CancellationToken.None);

        Assert.Equal([ids[1], ids[2]], claimed.Select(r => r.Id));
        Assert.Equal(OutboxStatus.Delivered, db.Set<OutboxMessage>().AsNoTracking().Single(m => m.Id == ids[1]).Status);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"SELECT \"Status\" FROM \"EfNotifyOutbox\" WHERE \"Id\" = {ids[1]}";
        await db.Database.OpenConnectionAsync();
        Assert.Equal("Delivered", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_mapping_with_a_value_converter_keeps_the_LINQ_queries_with_the_same_rows()
    {
        await using var db = new ConvertedContext(new DbContextOptionsBuilder<ConvertedContext>().UseSqlite(_connection).Options);
        await db.Database.EnsureCreatedAsync();
        var ids = Seed(db, 6);

        var skipping = await OutboxStore.ClaimAsync(db, owner: null, Now, TimeSpan.FromSeconds(30), batchSize: 2, [ids[0], ids[2]], CancellationToken.None);
        var continuing = await OutboxStore.ClaimAsync(db, owner: null, Now, TimeSpan.FromSeconds(30), batchSize: 2, [], CancellationToken.None, after: ids[3]);
        var marked = await OutboxStore.MarkDeliveredAsync(db, owner: null, [ids[0], ids[1]], Now, CancellationToken.None);

        Assert.Null(LeaderCommands.For(db));
        Assert.Equal([ids[1], ids[3]], skipping.Select(r => r.Id));
        Assert.Equal([ids[4], ids[5]], continuing.Select(r => r.Id));
        Assert.Equal(Now.AddSeconds(-1), skipping[0].CreatedAt);
        Assert.Equal(2, marked);
    }

    [Fact]
    public void Ids_become_ascending_runs()
    {
        Assert.Equal([(1L, 3L), (5L, 5L), (7L, 8L)], IdRanges.From([8, 2, 1, 3, 5, 7, 3]));
        Assert.Empty(IdRanges.From([]));
    }

    [Fact]
    public void A_condition_uses_BETWEEN_for_long_runs_and_one_IN_list_for_the_rest()
    {
        var sql = new StringBuilder();
        IdRanges.AppendCondition(sql, "\"Id\"", IdRanges.From([1, 2, 3, 4, 7, 9, 10]), negate: true);
        Assert.Equal("(\"Id\" NOT BETWEEN 1 AND 4 AND \"Id\" NOT IN (7, 9, 10))", sql.ToString());

        sql.Clear();
        IdRanges.AppendCondition(sql, "Id", IdRanges.From([5, 6, 7]), negate: false);
        Assert.Equal("(Id BETWEEN 5 AND 7)", sql.ToString());

        var runs = Enumerable.Range(0, IdRanges.MaxBetweenTerms + 2).SelectMany(r => new long[] { r * 10, r * 10 + 1, r * 10 + 2 });
        sql.Clear();
        IdRanges.AppendCondition(sql, "Id", IdRanges.From(runs), negate: false);
        Assert.Equal(IdRanges.MaxBetweenTerms, sql.ToString().Split(" BETWEEN ").Length - 1);
        Assert.EndsWith($"Id IN ({IdRanges.MaxBetweenTerms * 10}, {IdRanges.MaxBetweenTerms * 10 + 1}, {IdRanges.MaxBetweenTerms * 10 + 2}, "
                        + $"{IdRanges.MaxBetweenTerms * 10 + 10}, {IdRanges.MaxBetweenTerms * 10 + 11}, {IdRanges.MaxBetweenTerms * 10 + 12}))", sql.ToString());
        Assert.Throws<ArgumentException>(() => IdRanges.AppendCondition(sql, "Id", [], negate: false));
    }

    private DbContext Create(bool renamed)
    {
        DbContext db = renamed
            ? new RenamedOutboxContext(new DbContextOptionsBuilder<RenamedOutboxContext>().UseSqlite(_connection).Options)
            : new DefaultOutboxContext(new DbContextOptionsBuilder<DefaultOutboxContext>().UseSqlite(_connection).Options);
        db.Database.EnsureCreated();
        return db;
    }

    private static List<long> Seed(DbContext db, int count)
    {
        var rows = Enumerable.Range(0, count).Select(_ => new OutboxMessage
        {
            CreatedAt = Now.AddSeconds(-1), NextAttemptAt = Now, Payload = "", Count = 3, Status = OutboxStatus.Pending,
        }).ToList();
        db.AddRange(rows);
        db.SaveChanges();
        foreach (var row in rows)
        {
            row.Payload = $"payload {row.Id}";
        }

        db.SaveChanges();
        db.ChangeTracker.Clear();
        return rows.Select(r => r.Id).ToList();
    }

    /// <summary>Times stored as ticks: the leader's own SQL would read them wrongly, so LINQ keeps the claim.</summary>
    private sealed class ConvertedContext(DbContextOptions<ConvertedContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.AddEfNotifyOutbox();
            modelBuilder.Entity<OutboxMessage>(outbox =>
            {
                outbox.Property(m => m.CreatedAt).HasConversion(v => v.Ticks, v => new DateTime(v, DateTimeKind.Utc));
                outbox.Property(m => m.NextAttemptAt).HasConversion(v => v.Ticks, v => new DateTime(v, DateTimeKind.Utc));
            });
        }
    }

    private sealed class TextStatusContext(DbContextOptions<TextStatusContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.AddEfNotifyOutbox();
            modelBuilder.Entity<OutboxMessage>().Property(m => m.Status).HasConversion<string>();
        }
    }

    private sealed class DefaultOutboxContext(DbContextOptions<DefaultOutboxContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddEfNotifyOutbox();
    }

    /// <summary>The outbox under a table and column names of the application's choosing.</summary>
    private sealed class RenamedOutboxContext(DbContextOptions<RenamedOutboxContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.AddEfNotifyOutbox("notice queue");
            modelBuilder.Entity<OutboxMessage>(outbox =>
            {
                outbox.Property(m => m.Id).HasColumnName("notice_id");
                outbox.Property(m => m.Status).HasColumnName("state");
                outbox.Property(m => m.Payload).HasColumnName("body");
                outbox.Property(m => m.NextAttemptAt).HasColumnName("next attempt");
                outbox.Property(m => m.DeliveredAt).HasColumnName("delivered_at");
            });
        }
    }
}
