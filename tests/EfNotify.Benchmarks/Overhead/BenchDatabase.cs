using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Benchmarks.Overhead;

/// <summary>
/// A fresh SQLite database seeded with <c>rows</c> items and a context that tracks them: a file in its own temporary
/// directory (WAL, as EF creates it, synchronous=FULL), or an in-memory database on one open connection, which leaves
/// out the disk and so shows EfNotify's own CPU cost. The only difference between the variants is <c>UseEfNotify</c>.
/// </summary>
internal sealed class BenchDatabase : IDisposable
{
    private readonly string _directory;
    private readonly ServiceProvider _services;
    private readonly IServiceScope _scope;
    private readonly SqliteConnection? _memory;

    public BenchDatabase(bool efNotify, int rows, bool inMemory = false)
    {
        _directory = Directory.CreateTempSubdirectory("efnotify-bench-").FullName;
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(_directory, "bench.db") }.ToString();
        if (inMemory)
        {
            _memory = new SqliteConnection("Data Source=:memory:");
            _memory.Open();
        }

        var services = new ServiceCollection();
        if (efNotify)
        {
            services.AddEfNotify<BenchContext>(o => o.DispatcherEnabled = false);
            services.AddDbContext<BenchContext>((sp, o) => Use(o).UseEfNotify(sp));
        }
        else
        {
            services.AddDbContext<BenchContext>(o => Use(o));
        }

        _services = services.BuildServiceProvider();
        _scope = _services.CreateScope();
        Context = _scope.ServiceProvider.GetRequiredService<BenchContext>();
        Context.Database.EnsureCreated();

        // Seeded by a separate context so that the seeding itself writes no outbox rows.
        using (var seed = new BenchContext(((DbContextOptionsBuilder<BenchContext>)Use(new DbContextOptionsBuilder<BenchContext>())).Options))
        {
            seed.Items.AddRange(Enumerable.Range(1, rows).Select(i => new BenchItem { Name = $"item {i}" }));
            seed.SaveChanges();
        }

        Items = [.. Context.Items.OrderBy(i => i.Id)];
    }

    public string ConnectionString { get; }

    public BenchContext Context { get; }

    /// <summary>The rows the benchmark modifies, tracked by <see cref="Context"/>.</summary>
    public BenchItem[] Items { get; }

    public int OutboxRows() => Context.Set<OutboxMessage>().Count();

    private DbContextOptionsBuilder Use(DbContextOptionsBuilder options)
        => _memory is not null ? options.UseSqlite(_memory) : options.UseSqlite(ConnectionString);

    public void Dispose()
    {
        _scope.Dispose();
        _services.Dispose();
        _memory?.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
