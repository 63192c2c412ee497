using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Postgres;

/// <summary>
/// Issue 13: the condition of a single update's outbox row names the table and key columns EF Core updated: a table in a
/// schema of its own with a key of two columns goes in one command and conflicts cleanly; an entity of a table-per-type
/// hierarchy, whose update may touch either of its tables, keeps the transactional save.
/// </summary>
public sealed class PostgresOneTripMappingTests : PostgresDatabaseTest
{
    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_entity_in_a_schema_with_a_key_of_two_columns_is_updated_in_one_command_and_conflicts_write_nothing(bool async)
    {
        var commands = new SaveCommands();
        await using var services = VenueServices(commands);
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<VenueContext>();
        var kept = new Seat { Row = "A", Number = 1, Holder = "" };
        var gone = new Seat { Row = "A", Number = 2, Holder = "" };
        db.AddRange(kept, gone);
        await Save(db, async);
        await Other(services).Seats.Where(s => s.Row == "A" && s.Number == 2).ExecuteDeleteAsync();
        commands.Clear();

        kept.Holder = "ann";
        await Save(db, async);
        gone.Holder = "bob";
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => Save(db, async));

        Assert.Equal([false, false], commands.Sent.Select(c => c.InTransaction));
        Assert.Equal(["private-Seat.A,1/added", "private-Seat.A,2/added", "private-Seat.A,1/modified"], Published(services));
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_entity_of_a_table_per_type_hierarchy_keeps_the_transactional_save(bool async)
    {
        var commands = new SaveCommands();
        await using var services = VenueServices(commands);
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<VenueContext>();
        var truck = new Truck { Id = 7, Name = "t", Load = 1 };
        db.Add(truck);
        await Save(db, async);
        commands.Clear();

        truck.Load = 2; // a column of the derived table only
        await Save(db, async);
        truck.Name = "renamed"; // a column of the base table only
        await Save(db, async);

        Assert.Equal([true, true], commands.Sent.Select(c => c.InTransaction));
        Assert.Equal(["private-Truck.7/added", "private-Truck.7/modified", "private-Truck.7/modified"], Published(services));
    }

    private static Task Save(DbContext db, bool async) => async ? db.SaveChangesAsync() : Task.FromResult(db.SaveChanges());

    private static VenueContext Other(IServiceProvider services) => services.CreateScope().ServiceProvider.GetRequiredService<VenueContext>();

    private static List<string> Published(IServiceProvider services)
        => Other(services).Set<OutboxMessage>().AsNoTracking().OrderBy(m => m.Id).ToList()
            .SelectMany(r => EfNotify.Outbox.OutboxPayload.Read(r.Payload))
            .Select(e => e.Channel + "/" + System.Text.Json.JsonDocument.Parse(e.Data).RootElement.GetProperty("change").GetString()).ToList();

    private ServiceProvider VenueServices(IInterceptor interceptor)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddEfNotify<VenueContext>(o => o.DispatcherEnabled = false);
        services.AddDbContext<VenueContext>((sp, o) => o.UseNpgsql(ConnectionString).UseEfNotify(sp).AddInterceptors(interceptor));
        var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();
        scope.ServiceProvider.GetRequiredService<VenueContext>().Database.EnsureCreated();
        return provider;
    }

    [Notify("changed")]
    public sealed class Seat
    {
        public string Row { get; set; } = "";

        public int Number { get; set; }

        public string Holder { get; set; } = "";
    }

    [Notify("changed")]
    public class Vehicle
    {
        public int Id { get; set; }

        public string Name { get; set; } = "";
    }

    public sealed class Truck : Vehicle
    {
        public int Load { get; set; }
    }

    public sealed class VenueContext(DbContextOptions<VenueContext> options) : DbContext(options)
    {
        public DbSet<Seat> Seats => Set<Seat>();

        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.Entity<Seat>().ToTable("Seats", "venue").HasKey(s => new { s.Row, s.Number });
            modelBuilder.Entity<Vehicle>().UseTptMappingStrategy().Property(v => v.Id).ValueGeneratedNever();
            modelBuilder.Entity<Truck>().ToTable("Trucks");
            modelBuilder.AddEfNotifyOutbox();
        }
    }
}
