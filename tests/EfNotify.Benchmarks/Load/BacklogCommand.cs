using System.Diagnostics;
using EfNotify.Capture;
using EfNotify.Outbox;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// <c>backlog [--quick] [--rows N]</c>: N outbox rows written while no dispatcher runs, then the dispatcher starts and
/// drains them to soketi: drain rate, the process's peak RSS during the drain, the claim query's plan, and the raw ceiling.
/// </summary>
internal static class BacklogCommand
{
    private const int RowsPerTransaction = 10_000;

    public static int Run(string[] args)
    {
        const string usage = "backlog [--quick] [--rows N] [--claim N] [--in-flight N] [--postgres CONN]";
        if (!Args.TakePostgres(ref args, usage) || !Args.TryParse(args, usage, out var quick, out var options, "--rows", "--claim", "--in-flight"))
        {
            return 2;
        }

        var rows = options.GetValueOrDefault("--rows", quick ? 100_000 : 1_000_000);
        var claim = options.TryGetValue("--claim", out var c) ? c : (int?)null;
        var inFlight = options.TryGetValue("--in-flight", out var f) ? f : (int?)null;
        Args.Print(RunAsync(rows, claim, inFlight).GetAwaiter().GetResult());
        return 0;
    }

    public static async Task<Dictionary<string, string>> RunAsync(int rows, int? claimBatchSize = null, int? requestsInFlight = null)
    {
        await using var soketi = await SoketiProcess.StartAsync();
        var warmup = await WarmUpAsync(soketi);
        Console.WriteLine($"backlog: warm-up (not measured): {warmup}");
        await using var host = await LoadHost.CreateAsync(soketi.Options, o =>
        {
            if (claimBatchSize is { } claim)
            {
                o.ClaimBatchSize = claim;
            }

            if (requestsInFlight is { } requests)
            {
                o.MaxRequestsInFlight = requests;
            }
        });
        var options = host.Services.GetRequiredService<IOptions<EfNotifyOptions>>().Value;

        var fill = Stopwatch.StartNew();
        await FillAsync(host, rows);
        await SettleAsync(host);
        Console.WriteLine($"backlog: {rows} pending rows written to the {LoadHost.StorageName} in {fill.Elapsed.TotalSeconds:0.0} s, checkpointed and synced"
                          + (host.IsPostgres ? "" : $"; database {new FileInfo(host.DatabasePath).Length / 1048576.0:0} MB"));
        var plan = await ClaimPlanAsync(host, options);
        Console.WriteLine($"claim query plan ({(host.IsPostgres ? "EXPLAIN" : "EXPLAIN QUERY PLAN")} of the leading dispatcher's claim):");
        Console.WriteLine(plan);
        var usesIndex = host.IsPostgres
            ? plan.Contains("\"IX_EfNotifyOutbox_Status\"", StringComparison.Ordinal) && !plan.Contains("Sort", StringComparison.Ordinal)
            : plan.Contains("USING INDEX IX_EfNotifyOutbox_Status", StringComparison.Ordinal) && !plan.Contains("TEMP B-TREE FOR ORDER BY", StringComparison.Ordinal);

        await using var subscriber = await LoadSubscriber.ConnectAsync(soketi.Options, LoadHost.Channels);
        // The raw ceiling before the drain and after it: the machine's pace drifts by several percent within a minute.
        var rawBefore = await RawCeiling.MeasureAsync(host.CreatePusherClient(), subscriber, 1, TimeSpan.FromSeconds(3), soketi.ProcessId);
        var receivedBefore = subscriber.Received;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var rssBefore = Measure.StatusMegabytes("VmRSS");
        var reset = Measure.ResetPeakRss();
        var peakSampled = rssBefore;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakSampled = Math.Max(peakSampled, Measure.StatusMegabytes("VmRSS"));
                try
                {
                    await Task.Delay(100, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        var cost = Cost.Sample(soketi.ProcessId);
        var drain = Stopwatch.StartNew();
        await host.StartAsync();
        var complete = await subscriber.WaitForAsync(receivedBefore + rows, TimeSpan.FromSeconds(15));
        var drained = subscriber.Received - receivedBefore;
        var drainSeconds = drain.Elapsed.TotalSeconds;
        var drainCost = Cost.Sample(soketi.ProcessId).Since(cost).PerEvent(drained);
        await sampling.CancelAsync();
        await sampler;
        var peak = reset ? Measure.StatusMegabytes("VmHWM") : peakSampled;
        var drainRate = drained / drainSeconds;

        var rawAfter = await RawCeiling.MeasureAsync(host.CreatePusherClient(), subscriber, 1, TimeSpan.FromSeconds(3), soketi.ProcessId);
        var raw = (rawBefore.EventsPerSecond + rawAfter.EventsPerSecond) / 2;

        // The ceiling that matters is not the one-in-flight one (issue 13): the raw client with more requests in flight.
        var rawInFlight = await RawCeiling.MeasureInFlightAsync(host.CreatePusherClient(), subscriber, [4, 8, 16], TimeSpan.FromSeconds(2), soketi.ProcessId);
        var best = rawInFlight.Select(r => r.EventsPerSecond).Append(raw).Max();

        Args.PrintTable("backlog", new List<(string, string)>
        {
            ("database", LoadHost.StorageName),
            ("rows (one notification each)", $"{rows}"),
            ("received", $"{drained}{(complete ? "" : " (incomplete: nothing arrived for 15 s)")}"),
            ("drain", $"{drainSeconds:0.0} s = {drainRate:0} events/s ({options.MaxRequestsInFlight} requests in flight, claims of {options.ClaimBatchSize})"),
            ("RSS before the drain", $"{rssBefore:0} MB"),
            ("peak RSS during the drain", $"{peak:0} MB ({(reset ? "VmHWM, reset before the drain" : "sampled VmRSS every 100 ms")}); soketi {Measure.StatusMegabytes("VmRSS", soketi.ProcessId):0} MB"),
            ("drain cost per event", drainCost),
            ("raw ceiling, batches of 10, 1 in flight", $"{raw:0} events/s (mean of {rawBefore.EventsPerSecond:0} before the drain and {rawAfter.EventsPerSecond:0} after)"),
            ("raw cost per event (after the drain)", rawAfter.CostPerEvent),
            ("raw ceiling, batches of 10, more in flight", string.Join(", ", rawInFlight.Select(r => $"{r.Requests} in flight {r.EventsPerSecond:0} events/s"))),
            ("drain ÷ best raw ceiling", $"{drainRate / best:0.00}"),
            ("claim uses IX_EfNotifyOutbox_Status", usesIndex ? "yes" : "no"),
        });

        return new Dictionary<string, string>
        {
            ["backlog_rows"] = rows.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["backlog_drain_events_per_s"] = Args.Format(drainRate, "0"),
            ["backlog_peak_rss_mb"] = Args.Format(peak, "0"),
            ["backlog_raw_events_per_s"] = Args.Format(raw, "0"),
            ["backlog_ratio"] = Args.Format(drainRate / raw),
            ["backlog_raw_best_events_per_s"] = Args.Format(best, "0"),
            ["drain_ratio_best"] = Args.Format(drainRate / best),
            ["backlog_claim_uses_pending_index"] = usesIndex ? "yes" : "no",
        };
    }

    /// <summary>
    /// Drains backlogs of 20,000 rows through a host of its own (another database, the same process and soketi) until the
    /// JIT has settled: fewer than 50 methods compiled during a round, after 2 rounds at least and 30 s at most. The
    /// measured drain then runs compiled code, as a dispatcher that has been up for a while does.
    /// </summary>
    private static async Task<string> WarmUpAsync(SoketiProcess soketi)
    {
        const int rows = 20_000, settled = 50;
        await using var host = await LoadHost.CreateAsync(soketi.Options);
        await using var subscriber = await LoadSubscriber.ConnectAsync(soketi.Options, LoadHost.Channels);
        await host.StartAsync();
        var clock = Stopwatch.StartNew();
        var rounds = 0;
        long compiled;
        do
        {
            var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            await FillAsync(host, rows);
            await subscriber.WaitForAsync((rounds + 1L) * rows, TimeSpan.FromSeconds(15));
            compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore;
            rounds++;
        }
        while ((rounds < 2 || compiled >= settled) && clock.Elapsed < TimeSpan.FromSeconds(30));

        return $"{rounds} rounds of {rows} rows in {clock.Elapsed.TotalSeconds:0.0} s; {compiled} methods JIT-compiled in the last";
    }

    /// <summary>
    /// A backlog builds up while the transport is down, so by the time it comes back SQLite has long moved the rows from
    /// its WAL into the database and the kernel has written them out. The fill takes seconds instead: checkpoint and
    /// sync, or the drain (and the raw ceiling beside it) would pay for the fill's write-back (a raw ceiling measured
    /// right after the fill came out 15 % low).
    /// </summary>
    private static async Task SettleAsync(LoadHost host)
    {
        if (host.IsPostgres)
        {
            await using var db = new LoadContext(host.PlainOptions);
            await db.Database.ExecuteSqlRawAsync("CHECKPOINT");
        }
        else
        {
            await using var connection = new SqliteConnection($"Data Source={host.DatabasePath};Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            await command.ExecuteNonQueryAsync();
        }

        using var sync = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false });
        if (sync is not null)
        {
            await sync.WaitForExitAsync();
        }
    }

    /// <summary>
    /// Writes rows exactly as the interceptor does (the same serializer and the same INSERT), one notification per row,
    /// objects in turn, many rows per transaction so that filling a million takes seconds.
    /// </summary>
    private static async Task FillAsync(LoadHost host, int rows)
    {
        await using var db = new LoadContext(host.PlainOptions);
        var writer = OutboxWriter.Get(db);
        await db.Database.OpenConnectionAsync();
        var connection = db.Database.GetDbConnection();
        var time = TimeProvider.System;
        for (var start = 0; start < rows; start += RowsPerTransaction)
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var end = Math.Min(rows, start + RowsPerTransaction);
            for (var seq = start + 1; seq <= end; seq++)
            {
                var objectId = (seq % LoadHost.Objects) + 1;
                var pending = new PendingNotification
                {
                    Channel = LoadHost.Channel(objectId),
                    Action = "changed",
                    EntityName = nameof(LoadItem),
                    Key = [objectId],
                    Change = ChangeKind.Modified,
                    At = time.GetUtcNow(),
                    Values = [new(nameof(LoadItem.Seq), (long)seq)],
                };
                var (payload, count) = NotificationSerializer.Serialize([pending], time)[0];
                await writer.WriteAsync(connection, transaction.GetDbTransaction(), time.GetUtcNow().UtcDateTime, payload, count, CancellationToken.None);
            }

            await transaction.CommitAsync();
        }
    }

    /// <summary>
    /// The plan of the claim's SELECT, as the leading dispatcher builds it (LeaderCommands.ClaimSql): a SQLite file has a
    /// leader, whose claim skips the rows it published and has not yet recorded as delivered.
    /// </summary>
    private static async Task<string> ClaimPlanAsync(LoadHost host, EfNotifyOptions options)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LoadContext>();
        // What a leader skips while deliveries wait to be recorded: a run of ids and a single one.
        var commands = EfNotify.Dispatch.LeaderCommands.For(db)
            ?? throw new InvalidOperationException("The leader's own claim SQL is not used on this provider.");
        var sql = commands.ClaimSql(options.ClaimBatchSize, EfNotify.Dispatch.IdRanges.From([1, 2, 3, 4, 9]));

        await using var plain = new LoadContext(host.PlainOptions);
        await plain.Database.OpenConnectionAsync();
        await using var command = plain.Database.GetDbConnection().CreateCommand();
        command.CommandText = (host.IsPostgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + sql;
        var plan = new List<string> { "  " + sql };
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.Add($"  -> {reader.GetString(host.IsPostgres ? 0 : 3)}");
        }

        return string.Join('\n', plan);
    }
}
