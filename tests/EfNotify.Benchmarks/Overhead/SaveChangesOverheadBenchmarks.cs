using BenchmarkDotNet.Attributes;

namespace EfNotify.Benchmarks.Overhead;

/// <summary>
/// The cost EfNotify adds to a save: each invocation sets a property of the same N tracked [Notify] rows to a new
/// value and calls SaveChanges. <see cref="Plain"/> is the same context without EfNotify; with EfNotify each save
/// also writes one outbox row holding N notifications, in the same transaction.
/// </summary>
public class SaveChangesOverheadBenchmarks
{
    private BenchDatabase? _database;
    private BenchItem[] _items = [];
    private int _version;

    [Params(1, 10, 100, 1000)]
    public int N { get; set; }

    /// <summary>"file": a synced SQLite file, the real thing. "memory": no disk, so only CPU work is compared.</summary>
    [Params("file", "memory")]
    public string Storage { get; set; } = "file";

    [GlobalSetup(Target = nameof(Plain))]
    public void SetupPlain() => Setup(efNotify: false);

    [GlobalSetup(Target = nameof(WithEfNotify))]
    public void SetupWithEfNotify() => Setup(efNotify: true);

    [GlobalCleanup]
    public void Cleanup()
    {
        _database?.Dispose();
        _database = null;
    }

    [Benchmark(Baseline = true)]
    public int Plain() => ModifyAndSave();

    [Benchmark]
    public int WithEfNotify() => ModifyAndSave();

    private void Setup(bool efNotify)
    {
        _database = new BenchDatabase(efNotify, N, inMemory: Storage == "memory");
        _items = _database.Items;
        _version = 0;
    }

    private int ModifyAndSave()
    {
        var version = ++_version;
        foreach (var item in _items)
        {
            item.Version = version;
        }

        return _database!.Context.SaveChanges();
    }
}
