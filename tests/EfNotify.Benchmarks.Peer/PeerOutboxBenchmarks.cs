using System.Globalization;
using BenchmarkDotNet.Attributes;

namespace EfNotify.Benchmarks.Peer;

/// <summary>
/// One save of N modified tracked rows, three ways. Each invocation sets <see cref="PeerItem.Version"/> of the same N
/// tracked rows to a new value and saves them in one transaction:
/// <see cref="Plain"/> with no outbox, <see cref="EfNotify"/> with <c>UseEfNotify</c> (one outbox row per save),
/// <see cref="Wolverine"/> with Wolverine's EF Core outbox (N published messages, one envelope row each).
/// </summary>
public class PeerOutboxBenchmarks
{
    private PeerDatabase? _database;
    private int _version;
    private long _handledBefore;

    [Params(1, 10, 100)]
    public int N { get; set; }

    [GlobalSetup(Target = nameof(Plain))]
    public void SetupPlain() => Setup(OutboxKind.Plain);

    [GlobalSetup(Target = nameof(EfNotify))]
    public void SetupEfNotify() => Setup(OutboxKind.EfNotify);

    [GlobalSetup(Target = nameof(Wolverine))]
    public void SetupWolverine() => Setup(OutboxKind.Wolverine);

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_database is null)
        {
            return;
        }

        if (_database.IsWolverine)
        {
            // Evidence that the measured saves really went through Wolverine's store: every published message is a
            // row of its incoming envelope table (until it expires after handling), and the local queue's handler
            // has seen them or is catching up.
            var rows = _database.ScalarAsync("SELECT count(*) FROM wolverine_incoming_envelopes").GetAwaiter().GetResult();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// wolverine N={N}: saves={_version} published={(long)_version * N} envelope_rows={rows} handled_so_far={ItemChangedHandler.Handled - _handledBefore}"));
        }

        _database.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _database = null;
    }

    [Benchmark(Baseline = true)]
    public Task<int> Plain() => _database!.ModifyAndSaveAsync(++_version);

    [Benchmark]
    public Task<int> EfNotify() => _database!.ModifyAndSaveAsync(++_version);

    [Benchmark]
    public Task<int> Wolverine() => _database!.ModifyAndSaveAsync(++_version);

    private void Setup(OutboxKind kind)
    {
        _version = 0;
        _handledBefore = ItemChangedHandler.Handled;
        _database = PeerDatabase.CreateAsync(kind, N).GetAwaiter().GetResult();

        // One save before BenchmarkDotNet's pilot: in the Wolverine case the first publish and the first handling
        // generate and compile code at run time, which must not land in a measured iteration.
        _database.ModifyAndSaveAsync(++_version).GetAwaiter().GetResult();
        if (kind == OutboxKind.Wolverine)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (ItemChangedHandler.Handled - _handledBefore < N && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }
}
