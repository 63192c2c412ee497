using JasperFx.Resources;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.EntityFrameworkCore;
using Wolverine.Sqlite;

namespace EfNotify.Benchmarks.Peer;

public enum OutboxKind
{
    /// <summary>No outbox: the baseline.</summary>
    Plain,

    /// <summary>The context configured with <c>UseEfNotify</c>: one outbox row per save holding N notifications.</summary>
    EfNotify,

    /// <summary>Wolverine's EF Core outbox: N published messages, persisted in the save's transaction.</summary>
    Wolverine,
}

/// <summary>
/// A fresh SQLite file in its own temporary directory, seeded with <c>rows</c> items, and a context that tracks them,
/// configured for one <see cref="OutboxKind"/>.
/// </summary>
/// <remarks>
/// The EF Core connection string carries <c>Pooling=True</c> in every case. The Wolverine case's message store opens
/// its own connections with the plain <c>Data Source=...</c> string and sets <c>synchronous=NORMAL</c> on them; a
/// different connection string is a different ADO.NET pool, so EF Core's connections (the ones the measured save runs
/// on) never reuse one of those and keep SQLite's default <c>synchronous=FULL</c> in all three cases.
/// The journal mode is a property of the file and is the same in all three: EF Core's SQLite provider creates the file
/// in WAL mode (<c>EnsureCreated</c>), and Wolverine's store leaves it so.
/// </remarks>
public sealed class PeerDatabase : IAsyncDisposable
{
    private readonly string _directory;
    private readonly ServiceProvider? _services;
    private readonly IHost? _host;
    private readonly IServiceScope _scope;

    private PeerDatabase(string directory, ServiceProvider? services, IHost? host, IServiceScope scope, string storeConnectionString)
    {
        _directory = directory;
        _services = services;
        _host = host;
        _scope = scope;
        StoreConnectionString = storeConnectionString;
        Context = scope.ServiceProvider.GetRequiredService<PeerContext>();
    }

    /// <summary>The connection string without <c>Pooling=True</c>: the one Wolverine's message store uses.</summary>
    public string StoreConnectionString { get; }

    public PeerContext Context { get; }

    /// <summary>Whether saves go through Wolverine's outbox.</summary>
    public bool IsWolverine => _host is not null;

    /// <summary>The rows the benchmark modifies, tracked by <see cref="Context"/>.</summary>
    public PeerItem[] Items { get; private set; } = [];

    public static async Task<PeerDatabase> CreateAsync(OutboxKind kind, int rows, Action<DbContextOptionsBuilder>? extra = null, SqlTrace? storeTrace = null)
    {
        var directory = Directory.CreateTempSubdirectory("efnotify-peer-").FullName;
        var file = Path.Combine(directory, "bench.db");
        var storeConnectionString = new SqliteConnectionStringBuilder { DataSource = file }.ToString();
        var efConnectionString = new SqliteConnectionStringBuilder { DataSource = file, Pooling = true }.ToString();

        // Schema and rows first, by a context with no outbox, so the seeding writes no outbox rows or envelopes.
        var seedOptions = new DbContextOptionsBuilder<PeerContext>().UseSqlite(efConnectionString).Options;
        await using (var seed = new PeerContext(seedOptions))
        {
            await seed.Database.EnsureCreatedAsync();

            seed.Items.AddRange(Enumerable.Range(1, rows).Select(i => new PeerItem { Name = $"item {i}" }));
            await seed.SaveChangesAsync();
        }

        void Configure(IServiceProvider? sp, DbContextOptionsBuilder o)
        {
            o.UseSqlite(efConnectionString);
            if (sp is not null)
            {
                o.UseEfNotify(sp);
            }

            extra?.Invoke(o);
        }

        PeerDatabase database;
        switch (kind)
        {
            case OutboxKind.Plain:
            {
                var services = new ServiceCollection();
                services.AddDbContext<PeerContext>(o => Configure(null, o));
                var provider = services.BuildServiceProvider();
                database = new PeerDatabase(directory, provider, null, provider.CreateScope(), storeConnectionString);
                break;
            }

            case OutboxKind.EfNotify:
            {
                var services = new ServiceCollection();
                services.AddEfNotify<PeerContext>(o => o.DispatcherEnabled = false);
                services.AddDbContext<PeerContext>((sp, o) => Configure(sp, o));
                var provider = services.BuildServiceProvider();
                database = new PeerDatabase(directory, provider, null, provider.CreateScope(), storeConnectionString);
                break;
            }

            default:
            {
                var host = await StartWolverineAsync(storeConnectionString, o => Configure(null, o), storeTrace);
                database = new PeerDatabase(directory, null, host, host.Services.CreateScope(), storeConnectionString);
                break;
            }
        }

        database.Items = [.. await database.Context.Items.OrderBy(i => i.Id).ToListAsync()];
        return database;
    }

    private static async Task<IHost> StartWolverineAsync(string storeConnectionString, Action<DbContextOptionsBuilder> configure, SqlTrace? storeTrace)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseWolverine(opts =>
        {
            opts.ApplicationAssembly = typeof(ItemChangedHandler).Assembly;
            opts.Durability.Mode = DurabilityMode.Solo;
            if (storeTrace is null)
            {
                opts.PersistMessagesWithSqlite(storeConnectionString);
            }
            else
            {
                opts.PersistMessagesWithSqlite(new TracingSqliteDataSource(storeConnectionString, storeTrace));
            }

            opts.UseEntityFrameworkCoreTransactions();
            opts.PublishMessage<ItemChanged>().ToLocalQueue("item-changes").UseDurableInbox();
        });
        builder.Services.AddDbContextWithWolverineIntegration<PeerContext>(configure);
        builder.Services.AddResourceSetupOnStartup();

        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>Sets <see cref="PeerItem.Version"/> of every tracked row to <paramref name="version"/> and saves.</summary>
    public async Task<int> ModifyAndSaveAsync(int version)
    {
        if (_host is null)
        {
            foreach (var item in Items)
            {
                item.Version = version;
            }

            return await Context.SaveChangesAsync();
        }

        // One outbox per save, as one per request or handler would be: an outbox delivers only the messages of its
        // first flush (later ones are stored but never reach the queue), so it cannot be kept across saves.
        await using var scope = _host.Services.CreateAsyncScope();
        var outbox = scope.ServiceProvider.GetRequiredService<IDbContextOutbox>();
        outbox.Enroll(Context);
        foreach (var item in Items)
        {
            item.Version = version;
            await outbox.PublishAsync(new ItemChanged(item.Id, version));
        }

        await outbox.SaveChangesAndFlushMessagesAsync();
        ForgetEnvelopes();
        return Items.Length;
    }

    /// <summary>
    /// The outbox saves each envelope as an entity of the context, which stays tracked afterwards. A context per
    /// request would be thrown away; this one lives for the whole run, so without this every save would also
    /// re-scan all envelopes of the saves before it.
    /// </summary>
    private void ForgetEnvelopes()
    {
        var tracker = Context.ChangeTracker;
        tracker.AutoDetectChangesEnabled = false;
        try
        {
            foreach (var entry in tracker.Entries().ToList())
            {
                if (entry.Entity is not PeerItem)
                {
                    entry.State = EntityState.Detached;
                }
            }
        }
        finally
        {
            tracker.AutoDetectChangesEnabled = true;
        }
    }

    /// <summary>Runs <paramref name="sql"/> (a single-value query) on a fresh connection of Wolverine's pool.</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection(StoreConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _scope.Dispose();
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }

        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
