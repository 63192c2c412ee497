using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using EfNotify.Dispatch;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// <c>wake [--postgres CONN]</c>: the ways an instance can wake the leader after a commit, side by side. On PostgreSQL,
/// eight writers commit as fast as they can with no signal, with <c>NOTIFY</c> inside their transaction, and with
/// EfNotify's coalesced <c>NOTIFY</c> after the commit; then one writer at 200 commits/s gives the commit → wake
/// latency (polling wakes after half its interval on average, by construction). On a SQLite file: the CPU an idle
/// leader spends watching the wake file, against polling <c>PRAGMA data_version</c> every millisecond, and the
/// latency of each. See README.md.
/// </summary>
internal static class WakeCommand
{
    private const int Writers = 8;
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(5);

    public static int Run(string[] args)
    {
        if (!Args.TakePostgres(ref args, "wake [--postgres CONN]"))
        {
            return 2;
        }

        var results = new Dictionary<string, string>();
        if (Overhead.BenchStorage.PostgresServer is { } server && LoadHost.UsePostgres)
        {
            using var storage = (Overhead.BenchStorage.PostgresStorage)Overhead.BenchStorage.Create(Overhead.BenchStorage.Postgres, Path.GetTempPath(), "wake");
            PostgresAsync(storage.ConnectionString, results).GetAwaiter().GetResult();
        }

        SqliteAsync(results).GetAwaiter().GetResult();
        Args.Print(results);
        return 0;
    }

    private static async Task PostgresAsync(string connectionString, Dictionary<string, string> results)
    {
        await ExecuteAsync(connectionString, "CREATE TABLE wake_rows (id bigserial PRIMARY KEY, at bigint NOT NULL)");
        const string channel = "efnotify_wake_bench";
        await using var signal = new PostgresInstanceSignal(() => new NpgsqlConnection(connectionString), channel, NullLogger.Instance);
        foreach (var (mode, inTransaction, after) in new[] { ("none", false, false), ("notify_in_transaction", true, false), ("notify_after_commit", false, true) })
        {
            var commits = 0L;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                while (clock.Elapsed < Phase)
                {
                    await CommitAsync(connection, inTransaction ? channel : null);
                    if (after)
                    {
                        signal.Raise();
                    }

                    Interlocked.Increment(ref commits);
                }
            })));
            results[$"wake_pg_{mode}_commits_per_s"] = Args.Format(commits / clock.Elapsed.TotalSeconds, "0");
        }

        foreach (var (mode, inTransaction) in new[] { ("notify_in_transaction", true), ("notify_after_commit", false) })
        {
            var latencies = new ConcurrentQueue<double>();
            long committedAt = 0;
            await using var listener = new NpgsqlConnection(connectionString);
            await listener.OpenAsync();
            using var stop = new CancellationTokenSource();
            var listening = PostgresInstanceSignal.ListenAsync(
                listener, channel, () => latencies.Enqueue(Measure.Milliseconds(Interlocked.Read(ref committedAt), Stopwatch.GetTimestamp())), stop.Token);
            await Task.Delay(200);
            await using var writer = new NpgsqlConnection(connectionString);
            await writer.OpenAsync();
            for (var i = 0; i < 1000; i++)
            {
                await CommitAsync(writer, inTransaction ? channel : null);
                Interlocked.Exchange(ref committedAt, Stopwatch.GetTimestamp());
                if (!inTransaction)
                {
                    signal.Raise();
                }

                await Task.Delay(5);
            }

            await stop.CancelAsync();
            await listening.ContinueWith(_ => { }, TaskScheduler.Default);
            var sorted = latencies.Where(l => l >= 0).Order().ToArray();
            results[$"wake_pg_{mode}_p50_ms"] = Args.Format(Measure.Percentile(sorted, 50));
            results[$"wake_pg_{mode}_p99_ms"] = Args.Format(Measure.Percentile(sorted, 99));
        }
    }

    private static async Task CommitAsync(NpgsqlConnection connection, string? notifyChannel)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("INSERT INTO wake_rows (at) VALUES (1)", connection, transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        if (notifyChannel is not null)
        {
            await using var notify = new NpgsqlCommand($"NOTIFY {notifyChannel}", connection, transaction);
            await notify.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A SQLite file: the idle leader's CPU and the commit → wake latency of the wake file and of data_version polling.</summary>
    internal static async Task SqliteAsync(Dictionary<string, string> results)
    {
        var directory = Directory.CreateTempSubdirectory("efnotify-wake-").FullName;
        var database = Path.Combine(directory, "wake.db");
        try
        {
            await using (var create = new SqliteConnection($"Data Source={database}"))
            {
                await create.OpenAsync();
                await using var command = new SqliteCommand("PRAGMA journal_mode=WAL; CREATE TABLE rows (id INTEGER PRIMARY KEY, at INTEGER)", create);
                await command.ExecuteNonQueryAsync();
            }

            var wakePath = FileInstanceSignal.PathFor(database);
            await using var signal = new FileInstanceSignal(wakePath, NullLogger.Instance);
            foreach (var mode in new[] { "wake_file", "data_version_1ms" })
            {
                long committedAt = 0;
                var latencies = new ConcurrentQueue<double>();
                void Woken() => latencies.Enqueue(Measure.Milliseconds(Interlocked.Read(ref committedAt), Stopwatch.GetTimestamp()));
                using var stop = new CancellationTokenSource();
                using var watcher = mode == "wake_file" ? FileInstanceSignal.Watch(wakePath, Woken) : null;
                var polling = mode == "wake_file" ? Task.CompletedTask : Task.Run(() => PollDataVersionAsync(database, Woken, stop.Token));
                await Task.Delay(500);

                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var idle = Stopwatch.StartNew();
                await Task.Delay(Phase);
                var idleCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu) / idle.Elapsed * 100;
                results[$"wake_sqlite_{mode}_idle_cpu_percent"] = Args.Format(idleCpu);

                await using (var writer = new SqliteConnection($"Data Source={database}"))
                {
                    await writer.OpenAsync();
                    for (var i = 0; i < 500; i++)
                    {
                        await using (var insert = new SqliteCommand("INSERT INTO rows (at) VALUES (1)", writer))
                        {
                            await insert.ExecuteNonQueryAsync();
                        }

                        Interlocked.Exchange(ref committedAt, Stopwatch.GetTimestamp());
                        if (watcher is not null)
                        {
                            signal.Raise();
                        }

                        await Task.Delay(5);
                    }
                }

                await stop.CancelAsync();
                await polling;
                var sorted = latencies.Where(l => l >= 0).Order().ToArray();
                results[$"wake_sqlite_{mode}_p50_ms"] = Args.Format(Measure.Percentile(sorted, 50));
                results[$"wake_sqlite_{mode}_p99_ms"] = Args.Format(Measure.Percentile(sorted, 99));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task PollDataVersionAsync(string database, Action changed, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection($"Data Source={database}");
        await connection.OpenAsync(cancellationToken);
        await using var command = new SqliteCommand("PRAGMA data_version", connection);
        var last = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        while (!cancellationToken.IsCancellationRequested)
        {
            var version = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            if (version != last)
            {
                last = version;
                changed();
            }

            try
            {
                await Task.Delay(1, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
