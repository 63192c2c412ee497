using System.Data.Common;
using System.Diagnostics;
using EfNotify.Capture;
using EfNotify.Pusher;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// An application host as a user would build it: <see cref="LoadContext"/> on a SQLite file (EF Core creates it in WAL
/// mode), or on a throwaway database of the PostgreSQL server in <see cref="Overhead.BenchStorage.PostgresVariable"/>
/// when <see cref="UsePostgres"/> is set, EfNotify with its hosted dispatcher and the Pusher transport pointed at a
/// local soketi. Warnings and errors of EfNotify are printed, so a failing run says why.
/// </summary>
internal sealed class LoadHost : IAsyncDisposable
{
    public const int Objects = 50;

    private readonly string _directory;
    private readonly IHost _host;
    private readonly Overhead.BenchStorage? _postgres;
    private bool _started;

    private LoadHost(string directory, IHost host, Overhead.BenchStorage? postgres, DbContextOptions<LoadContext> plainOptions)
    {
        _directory = directory;
        _host = host;
        _postgres = postgres;
        PlainOptions = plainOptions;
    }

    /// <summary>Whether hosts are made on PostgreSQL (the server in <c>EFNOTIFY_TEST_POSTGRES</c>) instead of a SQLite file.</summary>
    public static bool UsePostgres { get; set; }

    public static string StorageName => UsePostgres ? "PostgreSQL" : "SQLite file";

    public bool IsPostgres => _postgres is not null;

    /// <summary>The database without EfNotify: for seeding and for writing rows as the interceptor does.</summary>
    public DbContextOptions<LoadContext> PlainOptions { get; }

    public IServiceProvider Services => _host.Services;

    public string DatabasePath => Path.Combine(_directory, "load.db");

    public static string Channel(int objectId) => ChannelNames.ForObject(nameof(LoadItem), objectId);

    public static IEnumerable<string> Channels => Enumerable.Range(1, Objects).Select(Channel);

    /// <summary>
    /// SQLite's own busy handler, in milliseconds, set on every connection the app opens (0 leaves it off). Without it
    /// Microsoft.Data.Sqlite retries a locked write itself, sleeping far longer than the lock is held.
    /// </summary>
    public static int BusyTimeoutMs { get; set; } = 5000;

    /// <summary>
    /// The database of another host (a SQLite path, or a PostgreSQL connection string when <see cref="UsePostgres"/>),
    /// for the instances of <c>e2e --instances</c>: hosts then share it instead of creating one of their own.
    /// </summary>
    public static string? SharedDatabase { get; set; }

    /// <summary>What <see cref="SharedDatabase"/> is set to in another process to share this host's database.</summary>
    public string DatabaseArgument => _postgres is Overhead.BenchStorage.PostgresStorage postgres ? postgres.ConnectionString : SharedDatabase ?? DatabasePath;

    public static async Task<LoadHost> CreateAsync(PusherOptions pusher, Action<EfNotifyOptions>? configure = null)
    {
        var directory = Directory.CreateTempSubdirectory("efnotify-load-").FullName;
        var shared = SharedDatabase;
        var path = shared is not null && !UsePostgres ? shared : Path.Combine(directory, "load.db");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Error);
        builder.Logging.AddProvider(new LeadingLoggerProvider());
        builder.Logging.AddFilter<LeadingLoggerProvider>("EfNotify", LogLevel.Information);
        builder.Services
            .AddEfNotify<LoadContext>(o => configure?.Invoke(o))
            .AddPusher(o =>
            {
                o.AppId = pusher.AppId;
                o.Key = pusher.Key;
                o.Secret = pusher.Secret;
                o.Host = pusher.Host;
                o.Port = pusher.Port;
                o.UseTls = pusher.UseTls;
            });
        var postgres = UsePostgres && shared is null ? Overhead.BenchStorage.Create(Overhead.BenchStorage.Postgres, directory, "load") : null;
        DbContextOptionsBuilder Use(DbContextOptionsBuilder options)
            => UsePostgres && shared is not null ? options.UseNpgsql(shared)
                : postgres is null ? options.UseSqlite($"Data Source={path}") : postgres.Use(options);
        builder.Services.AddDbContext<LoadContext>((sp, o) =>
        {
            Use(o).UseEfNotify(sp);
            if (!UsePostgres && BusyTimeoutMs > 0)
            {
                o.AddInterceptors(new BusyTimeoutInterceptor(BusyTimeoutMs));
            }
        });
        var host = builder.Build();

        // Created and seeded by a plain context, so the seed writes no outbox rows.
        var plain = (DbContextOptions<LoadContext>)Use(new DbContextOptionsBuilder<LoadContext>()).Options;
        await using (var seed = new LoadContext(plain))
        {
            if (shared is not null)
            {
                return new LoadHost(directory, host, postgres, plain); // made and seeded by the host that shares it
            }

            await seed.Database.EnsureCreatedAsync();
            seed.Items.AddRange(Enumerable.Range(1, Objects).Select(i => new LoadItem { Id = i }));
            await seed.SaveChangesAsync();
        }

        return new LoadHost(directory, host, postgres, plain);
    }

    public async Task StartAsync()
    {
        await _host.StartAsync();
        _started = true;
    }

    /// <summary>Stops the hosted dispatcher (and the rest of the host); its services stay usable, e.g. the Pusher client.</summary>
    public async Task StopAsync()
    {
        if (_started)
        {
            await _host.StopAsync();
            _started = false;
        }
    }

    public PusherClient CreatePusherClient() => Services.GetRequiredService<PusherClient>();

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            await _host.StopAsync();
        }

        _host.Dispose();
        SqliteConnection.ClearAllPools();
        _postgres?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>Sets SQLite's busy handler on each opened connection, so a writer waits for the lock in short native sleeps.</summary>
internal sealed class BusyTimeoutInterceptor(int milliseconds) : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA busy_timeout = {milliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        command.ExecuteNonQuery();
    }
}

/// <summary>Percentiles, rates and the process's memory, as the load tools print them.</summary>
internal static class Measure
{
    public static double Milliseconds(long fromTimestamp, long toTimestamp) => Stopwatch.GetElapsedTime(fromTimestamp, toTimestamp).TotalMilliseconds;

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double percent)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>A field of /proc/self/status in MB (VmRSS, VmHWM), or -1 off Linux.</summary>
    public static double StatusMegabytes(string field, int? processId = null)
    {
        var path = processId is { } id ? $"/proc/{id}/status" : "/proc/self/status";
        if (!File.Exists(path))
        {
            return field == "VmHWM" ? Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0 : -1;
        }

        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var kb = long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
        }

        return -1;
    }

    /// <summary>The CPU time of a process so far (utime + stime of /proc/{id}/stat), or zero off Linux.</summary>
    public static TimeSpan ProcessorTime(int processId)
    {
        var path = $"/proc/{processId}/stat";
        if (!File.Exists(path))
        {
            return TimeSpan.Zero;
        }

        // After the command name in parentheses: state is field 3, utime and stime fields 14 and 15, in clock ticks (USER_HZ, 100 on Linux).
        var fields = File.ReadAllText(path).Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>The 1, 5 and 15 minute load averages (/proc/loadavg), to print beside a figure; "n/a" off Linux.</summary>
    public static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>Resets the kernel's peak RSS (VmHWM) to the current RSS, so a later peak belongs to what ran since.</summary>
    public static bool ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>
/// What a phase cost the machine: the CPU time of this process (EfNotify, the writers, the subscriber, the client) and of
/// soketi, the bytes this process allocated and the time its garbage collections stopped it. Divided by the events of the phase it tells where a ratio comes from:
/// on two cores, what one side spends more per event the other can deliver more.
/// </summary>
internal readonly record struct Cost(TimeSpan Own, TimeSpan Soketi, long Allocated, TimeSpan GcPauses)
{
    public static Cost Sample(int soketiProcessId)
        => new(Process.GetCurrentProcess().TotalProcessorTime, Measure.ProcessorTime(soketiProcessId), GC.GetTotalAllocatedBytes(), GC.GetTotalPauseDuration());

    public Cost Since(Cost earlier) => new(Own - earlier.Own, Soketi - earlier.Soketi, Allocated - earlier.Allocated, GcPauses - earlier.GcPauses);

    /// <summary>CPU per event in µs (this process + soketi) and bytes allocated per event.</summary>
    public string PerEvent(long events)
        => events <= 0
            ? "n/a"
            : string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"{(Own + Soketi).TotalMicroseconds / events:0} µs CPU (this process {Own.TotalMicroseconds / events:0}, soketi {Soketi.TotalMicroseconds / events:0}), {Allocated / events:0} B allocated, GC pauses {GcPauses.TotalMicroseconds / events:0.0} µs");
}
