using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Tests.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Postgres;

/// <summary>
/// Issue 13: a save of one row goes as EF Core sends it, one command without a transaction, its outbox INSERT appended
/// (PostgresRoundTripTests). PostgreSQL commits the statements of that command together or not at all, and the INSERT of
/// an update's notifications is conditional on the row having been written by that transaction: so a save that fails or
/// conflicts leaves neither its change nor its outbox row, and nothing is counted or signalled for it.
/// </summary>
public sealed class PostgresOneTripConflictTests : PostgresDatabaseTest
{
    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_update_with_a_stale_concurrency_token_writes_no_outbox_row_and_signals_nothing(bool async)
    {
        await using var services = TicketServices();
        using var captured = new MeasurementRecorder(services.GetRequiredService<IMeterFactory>());
        var ticket = await Create(services, async);
        await Other(services).Tickets.Where(t => t.Id == ticket.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.Version, 2));

        await Fails<DbUpdateConcurrencyException>(services, db => { db.Attach(ticket); ticket.Title = "stale"; }, async);

        OnlyTheFirstSaveStands(services, captured, ["new"], ["added"]);
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_update_of_a_row_deleted_meanwhile_writes_no_outbox_row_and_signals_nothing(bool async)
    {
        await using var services = TicketServices();
        using var captured = new MeasurementRecorder(services.GetRequiredService<IMeterFactory>());
        var ticket = await Create(services, async);
        await Other(services).Tickets.Where(t => t.Id == ticket.Id).ExecuteDeleteAsync(); // not captured: set-based capture is off

        await Fails<DbUpdateConcurrencyException>(services, db => { db.Attach(ticket); ticket.Title = "too late"; }, async);

        OnlyTheFirstSaveStands(services, captured, [], ["added"]);
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_delete_that_conflicts_writes_no_outbox_row_and_signals_nothing(bool async)
    {
        await using var services = TicketServices();
        using var captured = new MeasurementRecorder(services.GetRequiredService<IMeterFactory>());
        var stale = await Create(services, async);
        var gone = await Create(services, async);
        await Other(services).Tickets.Where(t => t.Id == stale.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.Version, 2));
        await Other(services).Tickets.Where(t => t.Id == gone.Id).ExecuteDeleteAsync();

        await Fails<DbUpdateConcurrencyException>(services, db => db.Remove(stale), async);
        await Fails<DbUpdateConcurrencyException>(services, db => db.Remove(gone), async);

        OnlyTheFirstSaveStands(services, captured, ["new"], ["added", "added"]);
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_insert_that_violates_a_unique_key_leaves_neither_its_row_nor_its_outbox_row(bool async)
    {
        await using var services = TicketServices();
        using var captured = new MeasurementRecorder(services.GetRequiredService<IMeterFactory>());
        var first = await Create(services, async);

        await Fails<DbUpdateException>(services, db => db.Add(new Ticket { Id = first.Id, Title = "twice" }), async);

        OnlyTheFirstSaveStands(services, captured, ["new"], ["added"]);
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_update_whose_outbox_row_fails_is_rolled_back_with_it(bool async)
    {
        await using var services = TicketServices();
        using var captured = new MeasurementRecorder(services.GetRequiredService<IMeterFactory>());
        var ticket = await Create(services, async);
        // The outbox refuses every further row: the INSERT is the command's last statement, after EF Core's UPDATE.
        await Other(services).Database.ExecuteSqlRawAsync("ALTER TABLE \"EfNotifyOutbox\" ADD CONSTRAINT refuse CHECK (false) NOT VALID");

        await Fails<DbUpdateException>(services, db => { db.Attach(ticket); ticket.Title = "not without its notification"; }, async);

        OnlyTheFirstSaveStands(services, captured, ["new"], ["added"]);
    }

    /// <summary>A save of its own, of what <paramref name="change"/> does, fails with <typeparamref name="TException"/>.</summary>
    private static async Task Fails<TException>(IServiceProvider services, Action<TicketContext> change, bool async)
        where TException : Exception
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketContext>();
        change(db);
        await Assert.ThrowsAsync<TException>(() => Save(db, async));
    }

    /// <summary>The database holds the tickets as created, the outbox only their "added", and only those were counted.</summary>
    private static void OnlyTheFirstSaveStands(IServiceProvider services, MeasurementRecorder captured, string[] titles, string[] changes)
    {
        Assert.Equal(titles, Other(services).Tickets.Select(t => t.Title).ToList());
        Assert.Equal(changes, Changes(services));
        Assert.Equal(changes.Length, captured.Sum(EfNotifyDiagnostics.CapturedCounterName));
    }

    /// <summary>A ticket saved on its own (one command, no transaction): its "added" is counted once committed.</summary>
    private static async Task<Ticket> Create(IServiceProvider services, bool async)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketContext>();
        var ticket = new Ticket { Id = Guid.NewGuid(), Title = "new", Version = 1 };
        db.Add(ticket);
        await Save(db, async);
        return new Ticket { Id = ticket.Id, Title = ticket.Title, Version = ticket.Version };
    }

    private static TicketContext Other(IServiceProvider services) => services.CreateScope().ServiceProvider.GetRequiredService<TicketContext>();

    private static List<string> Changes(IServiceProvider services)
        => Other(services).Set<OutboxMessage>().AsNoTracking().OrderBy(m => m.Id).ToList()
            .SelectMany(r => EfNotify.Outbox.OutboxPayload.Read(r.Payload))
            .Select(e => System.Text.Json.JsonDocument.Parse(e.Data).RootElement.GetProperty("change").GetString()!).ToList();

    private static Task Save(DbContext db, bool async) => async ? db.SaveChangesAsync() : Task.FromResult(db.SaveChanges());

    private ServiceProvider TicketServices()
    {
        var services = new ServiceCollection().AddLogging().AddMetrics();
        services.AddEfNotify<TicketContext>(o => o.DispatcherEnabled = false);
        services.AddDbContext<TicketContext>((sp, o) => o.UseNpgsql(ConnectionString).UseEfNotify(sp));
        var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();
        scope.ServiceProvider.GetRequiredService<TicketContext>().Database.EnsureCreated();
        return provider;
    }

    [Notify("changed")]
    public sealed class Ticket
    {
        public Guid Id { get; set; }

        public string Title { get; set; } = "";

        [ConcurrencyCheck]
        public int Version { get; set; }
    }

    public sealed class TicketContext(DbContextOptions<TicketContext> options) : DbContext(options)
    {
        public DbSet<Ticket> Tickets => Set<Ticket>();

        protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddEfNotifyOutbox();
    }
}
