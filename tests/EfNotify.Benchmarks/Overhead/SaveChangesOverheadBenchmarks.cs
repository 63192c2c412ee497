using BenchmarkDotNet.Attributes;

namespace EfNotify.Benchmarks.Overhead;

/// <summary>
/// The cost EfNotify adds to a save: each invocation sets a property of the same N tracked [Notify] rows to a new
/// value and calls SaveChanges (<see cref="BenchDatabase.ModifyAndSave"/>). <see cref="Plain"/> is the same context
/// without EfNotify; with EfNotify each save also writes one outbox row holding N notifications, in the same transaction.
/// </summary>
public class SaveChangesOverheadBenchmarks
{
    private DirectoryInfo? _directory;
    private BenchDatabase? _database;

    [Params(1, 10, 100, 1000)]
    public int N { get; set; }

    /// <summary>
    /// "file": a synced SQLite file, the real thing. "memory": no disk, so only CPU work is compared. "postgres": a
    /// throwaway database on the server named by EFNOTIFY_TEST_POSTGRES, only when it is set.
    /// </summary>
    [ParamsSource(nameof(Storages))]
    public string Storage { get; set; } = BenchStorage.File;

    public static IEnumerable<string> Storages => BenchStorage.Available;

    [GlobalSetup(Target = nameof(Plain))]
    public void SetupPlain() => Setup(efNotify: false);

    [GlobalSetup(Target = nameof(WithEfNotify))]
    public void SetupWithEfNotify() => Setup(efNotify: true);

    [GlobalCleanup]
    public void Cleanup()
    {
        _database?.Dispose();
        _database = null;
        _directory?.Delete(recursive: true);
        _directory = null;
    }

    [Benchmark(Baseline = true)]
    public int Plain() => _database!.ModifyAndSave();

    [Benchmark]
    public int WithEfNotify() => _database!.ModifyAndSave();

    private void Setup(bool efNotify)
    {
        _directory = Directory.CreateTempSubdirectory("efnotify-bench-");
        _database = new BenchDatabase(efNotify, N, BenchStorage.Create(Storage, _directory.FullName, efNotify ? "efnotify" : "plain"));
    }
}
