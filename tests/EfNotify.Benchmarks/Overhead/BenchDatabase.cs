using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Benchmarks.Overhead;

/// <summary>
/// A fresh SQLite file in its own temporary directory, seeded with <c>rows</c> items and a context that tracks them.
/// Both variants get the same connection string shape and SQLite defaults (rollback journal, synchronous=FULL);
/// the only difference is whether the context was configured with <c>UseEfNotify</c>.
/// </summary>
internal sealed class BenchDatabase : IDisposable
{
    private readonly string _directory;
    private readonly ServiceProvider _services;
    private readonly IServiceScope _scope;

    public BenchDatabase(bool efNotify, int rows)
    {
        _directory = Directory.CreateTempSubdirectory("efnotify-bench-").FullName;
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(_directory, "bench.db") }.ToString();

        var services = new ServiceCollection();
        if (efNotify)
        {
            services.AddEfNotify<BenchContext>(o => o.DispatcherEnabled = false);
            services.AddDbContext<BenchContext>((sp, o) => o.UseSqlite(ConnectionString).UseEfNotify(sp));
        }
        else
        {
            services.AddDbContext<BenchContext>(o => o.UseSqlite(ConnectionString));
        }

        _services = services.BuildServiceProvider();
        _scope = _services.CreateScope();
        Context = _scope.ServiceProvider.GetRequiredService<BenchContext>();
        Context.Database.EnsureCreated();

        // Seeded by a separate context so that the seeding itself writes no outbox rows.
        using (var seed = new BenchContext(new DbContextOptionsBuilder<BenchContext>().UseSqlite(ConnectionString).Options))
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

    public void Dispose()
    {
        _scope.Dispose();
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
