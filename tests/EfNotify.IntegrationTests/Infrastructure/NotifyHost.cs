using EfNotify.Pusher;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>
/// A real host: BoardContext on a SQLite file, EfNotify with its dispatcher, publishing to a soketi server.
/// </summary>
public sealed class NotifyHost : IAsyncDisposable
{
    private readonly IHost _host;

    private NotifyHost(IHost host, string databasePath)
    {
        _host = host;
        DatabasePath = databasePath;
    }

    public string DatabasePath { get; }

    public IServiceProvider Services => _host.Services;

    public TestNotifier Notifier => (TestNotifier)Services.GetRequiredService<INotifierContext>();

    public static async Task<NotifyHost> StartAsync(
        PusherOptions pusher,
        string? databasePath = null,
        Action<EfNotifyOptions>? options = null,
        Action<PusherOptions>? pusherChange = null,
        bool startHost = true,
        Action<IServiceProvider, DbContextOptionsBuilder>? database = null,
        Action<IServiceCollection>? services = null,
        IConfiguration? pusherConfiguration = null)
    {
        databasePath ??= Path.Combine(Path.GetTempPath(), $"efnotify-it-{Guid.NewGuid():N}.db");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new CollectingLoggerProvider());
        builder.Services.AddSingleton<INotifierContext>(new TestNotifier());
        var efNotify = builder.Services
            .AddEfNotify<BoardContext>(o =>
            {
                o.PollingInterval = TimeSpan.FromMilliseconds(200);
                o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
                o.MaxBackoff = TimeSpan.FromMilliseconds(500);
                options?.Invoke(o);
            });
        _ = pusherConfiguration is not null
            ? efNotify.AddPusher(pusherConfiguration) // the test changes and reloads it: no settings of this host's own
            : efNotify.AddPusher(o =>
            {
                o.AppId = pusher.AppId;
                o.Key = pusher.Key;
                o.Secret = pusher.Secret;
                o.Host = pusher.Host;
                o.Port = pusher.Port;
                o.UseTls = pusher.UseTls;
                pusherChange?.Invoke(o);
            });
        builder.Services.AddDbContext<BoardContext>((sp, o) =>
        {
            if (database is null)
            {
                o.UseSqlite($"Data Source={databasePath}");
            }
            else
            {
                database(sp, o);
            }

            o.UseEfNotify(sp);
        });
        services?.Invoke(builder.Services);
        var host = builder.Build();
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<BoardContext>().Database.EnsureCreatedAsync();
        }

        if (startHost)
        {
            await host.StartAsync();
        }

        return new NotifyHost(host, databasePath);
    }

    public Task StartAsync() => _host.StartAsync();

    /// <summary>Stops the host gracefully (IHost.StopAsync) and keeps the database, unlike <see cref="DisposeAsync"/>.</summary>
    public Task StopAsync() => _host.StopAsync();

    /// <summary>The dispatcher's own log lines (EF's are left out), for a failure message.</summary>
    public string DispatcherLog => string.Join('\n', Logs.Entries.Select(e => $"{e.Level} {e.Id.Id} {e.Message}"));

    /// <summary>Awaits <paramref name="task"/>; if it times out, the exception carries the dispatcher's log and the outbox.</summary>
    public async Task<T> ExplainAsync<T>(Task<T> task)
    {
        try
        {
            return await task;
        }
        catch (TimeoutException exception)
        {
            throw await ExplainedAsync(exception);
        }
    }

    /// <inheritdoc cref="ExplainAsync{T}(Task{T})"/>
    public async Task ExplainAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (TimeoutException exception)
        {
            throw await ExplainedAsync(exception);
        }
    }

    private async Task<TimeoutException> ExplainedAsync(TimeoutException exception)
    {
        var rows = string.Join('\n', (await RowsAsync()).Select(r =>
            $"row {r.Id} {r.Status} attempts={r.Attempts} created={r.CreatedAt:HH:mm:ss.fff} delivered={r.DeliveredAt:HH:mm:ss.fff} {r.LastError}"));
        return new TimeoutException($"{exception.Message}\n-- outbox --\n{rows}\n-- dispatcher --\n{DispatcherLog}", exception);
    }

    public CollectingLoggerProvider Logs => (CollectingLoggerProvider)Services.GetServices<ILoggerProvider>().OfType<CollectingLoggerProvider>().Single();

    public async Task<T> WithContextAsync<T>(Func<BoardContext, Task<T>> action)
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<BoardContext>());
    }

    public Task WithContextAsync(Func<BoardContext, Task> action)
        => WithContextAsync(async db =>
        {
            await action(db);
            return true;
        });

    /// <summary>Waits until every outbox row is delivered, so that later subscribers cannot receive earlier events.</summary>
    public Task AllDeliveredAsync(TimeSpan timeout)
        => ExplainAsync(Eventually.UntilAsync(async () => (await RowsAsync()).All(r => r.Status == OutboxStatus.Delivered), timeout, "every row delivered"));

    /// <summary>Saves new entities in one SaveChanges and returns them with their generated keys.</summary>
    public async Task<T> AddAsync<T>(T entity)
        where T : class
    {
        await WithContextAsync(async db =>
        {
            db.Add(entity);
            await db.SaveChangesAsync();
        });
        return entity;
    }

    public Task<List<OutboxMessage>> RowsAsync()
        => WithContextAsync(db => db.Set<OutboxMessage>().AsNoTracking().OrderBy(m => m.Id).ToListAsync());

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        foreach (var suffix in new[] { "", "-wal", "-shm", ".efnotify-lock", ".efnotify-wake" })
        {
            File.Delete(DatabasePath + suffix);
        }
    }
}

public sealed class TestNotifier : INotifierContext
{
    public string? UserName { get; set; }

    public string? SocketId { get; set; }
}

/// <summary>Keeps log messages so a test can check what the dispatcher reported.</summary>
public sealed class CollectingLoggerProvider : ILoggerProvider
{
    private readonly List<(LogLevel Level, EventId Id, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName.StartsWith("EfNotify", StringComparison.Ordinal) ? LogLevel.Debug : LogLevel.Warning);

    /// <summary>Forgets what was collected (a test that measures the heap does not count the test's own log).</summary>
    public void Clear()
    {
        lock (_entries)
        {
            _entries.Clear();
        }
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CollectingLoggerProvider owner, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            lock (owner._entries)
            {
                owner._entries.Add((logLevel, eventId, $"{DateTime.UtcNow:HH:mm:ss.fff} {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}"));
            }
        }
    }
}
