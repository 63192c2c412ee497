using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Benchmarks.Overhead;

/// <summary>
/// A fresh database (see <see cref="BenchStorage"/>) seeded with <c>rows</c> items and a context that tracks them, and
/// the operation every overhead measurement times: <see cref="ModifyAndSave"/>. The only difference between the plain
/// and the EfNotify variant is <c>UseEfNotify</c>. Owns its storage: disposing the database removes it.
/// </summary>
internal sealed class BenchDatabase : IDisposable
{
    private readonly BenchStorage _storage;
    private readonly ServiceProvider _services;
    private readonly IServiceScope _scope;
    private int _version;

    public BenchDatabase(bool efNotify, int rows, BenchStorage storage, bool captureSetBased = false)
    {
        _storage = storage;
        var services = new ServiceCollection();
        if (efNotify)
        {
            services.AddEfNotify<BenchContext>(o => { o.DispatcherEnabled = false; o.CaptureSetBasedChanges = captureSetBased; });
            services.AddDbContext<BenchContext>((sp, o) => storage.Use(o).UseEfNotify(sp));
        }
        else
        {
            services.AddDbContext<BenchContext>(o => storage.Use(o));
        }

        _services = services.BuildServiceProvider();
        _scope = _services.CreateScope();
        Context = _scope.ServiceProvider.GetRequiredService<BenchContext>();
        Context.Database.EnsureCreated();

        // Seeded by a separate context so that the seeding itself writes no outbox rows.
        using (var seed = new BenchContext(((DbContextOptionsBuilder<BenchContext>)storage.Use(new DbContextOptionsBuilder<BenchContext>())).Options))
        {
            seed.Items.AddRange(Enumerable.Range(1, rows).Select(i => new BenchItem { Name = $"item {i}" }));
            seed.SaveChanges();
        }

        Items = [.. Context.Items.OrderBy(i => i.Id)];
    }

    public BenchContext Context { get; }

    /// <summary>The rows the benchmark modifies, tracked by <see cref="Context"/>.</summary>
    public BenchItem[] Items { get; }

    /// <summary>The measured operation: one integer property of every tracked row set to a new value, one SaveChanges.</summary>
    public int ModifyAndSave()
    {
        var version = ++_version;
        foreach (var item in Items)
        {
            item.Version = version;
        }

        return Context.SaveChanges();
    }

    /// <summary>The set-based operation: one ExecuteUpdate setting the same integer property of every row, tracked or not.</summary>
    public int ExecuteUpdate()
    {
        var version = ++_version;
        return Context.Items.ExecuteUpdate(s => s.SetProperty(i => i.Version, version));
    }

    /// <summary>The outbox's rows and the notifications they hold.</summary>
    public (int Rows, long Notifications) Outbox()
    {
        var outbox = Context.Set<OutboxMessage>();
        return (outbox.Count(), outbox.Sum(m => (long)m.Count));
    }

    /// <inheritdoc cref="BenchStorage.Settings"/>
    public string Settings() => _storage.Settings(Context);

    public void Dispose()
    {
        _scope.Dispose();
        _services.Dispose();
        _storage.Dispose();
    }
}
