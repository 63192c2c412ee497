using System.Text.Json;
using EfNotify.Dispatch;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EfNotify.Tests.TestModel;

/// <summary>
/// A ShopContext with EfNotify enabled and no dispatcher running, on a fresh SQLite database: a temporary file
/// (each context opens its own connection, so a fresh connection sees only what was committed), or an in-memory
/// database on one open connection that every context shares.
/// </summary>
public sealed class ShopFixture : IDisposable
{
    private readonly SqliteConnection? _memory;
    private readonly string _connectionString;
    private readonly string? _file;

    public ShopFixture(
        bool inMemory = false, string registration = "context", Action<IServiceCollection>? configure = null,
        Action<DbContextOptionsBuilder>? options = null)
    {
        if (inMemory)
        {
            _memory = new SqliteConnection("Data Source=:memory:");
            _memory.Open();
            _connectionString = _memory.ConnectionString;
        }
        else
        {
            _file = Path.Combine(Path.GetTempPath(), $"efnotify-{Guid.NewGuid():N}.db");
            _connectionString = $"Data Source={_file};Pooling=False";
        }

        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        services.AddSingleton<INotifierContext>(Notifier);
        services.AddLogging();
        services.AddEfNotify<ShopContext>(o => o.DispatcherEnabled = false);
        switch (registration)
        {
            case "pool":
                services.AddDbContextPool<ShopContext>((sp, o) => Configure(o, sp, options));
                break;
            case "factory":
                services.AddDbContextFactory<ShopContext>((sp, o) => Configure(o, sp, options));
                break;
            default:
                services.AddDbContext<ShopContext>((sp, o) => Configure(o, sp, options));
                break;
        }

        configure?.Invoke(services);
        Services = services.BuildServiceProvider(validateScopes: true);
        using var db = CreateContext();
        db.Database.EnsureCreated();
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    public TestNotifier Notifier { get; } = new();

    public ServiceProvider Services { get; }

    internal OutboxSignal Signal => Services.GetRequiredService<OutboxSignal>();

    public ShopContext CreateContext()
    {
        var factory = Services.GetService<IDbContextFactory<ShopContext>>();
        if (factory is not null)
        {
            return factory.CreateDbContext();
        }

        var scope = Services.CreateScope();
        return scope.ServiceProvider.GetRequiredService<ShopContext>();
    }

    /// <summary>The outbox as a fresh connection sees it: only what was committed.</summary>
    public List<OutboxMessage> Rows()
    {
        using var db = new ShopContext(Configure(new DbContextOptionsBuilder<ShopContext>()).Options);
        return db.Set<OutboxMessage>().AsNoTracking().OrderBy(m => m.Id).ToList();
    }

    /// <summary>Every committed notification, in order, as the dispatcher would publish it.</summary>
    public List<CapturedNotification> Notifications()
        => Rows().SelectMany(r => Decode(r.Payload)).ToList();

    /// <summary>The notifications of one payload, read by the dispatcher's own codec.</summary>
    private static IEnumerable<CapturedNotification> Decode(string payload)
        => EfNotify.Outbox.OutboxPayload.Read(payload).Select(e => new CapturedNotification(
            e.Channel, e.Name, e.SocketId, JsonSerializer.Deserialize<NotificationMessage>(e.Data, JsonOptions)!));

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private DbContextOptionsBuilder<ShopContext> Configure(DbContextOptionsBuilder<ShopContext> options)
        => _memory is not null ? options.UseSqlite(_memory) : options.UseSqlite(_connectionString);

    /// <summary>The provider, EfNotify, then what the test adds (another interceptor, say).</summary>
    private void Configure(DbContextOptionsBuilder builder, IServiceProvider services, Action<DbContextOptionsBuilder>? options)
    {
        Configure(builder).UseEfNotify(services);
        options?.Invoke(builder);
    }

    private DbContextOptionsBuilder Configure(DbContextOptionsBuilder options)
        => _memory is not null ? options.UseSqlite(_memory) : options.UseSqlite(_connectionString);

    public void Dispose()
    {
        Services.Dispose();
        _memory?.Dispose();
        if (_file is not null)
        {
            File.Delete(_file);
        }
    }
}

public sealed record CapturedNotification(string Channel, string Event, string? SocketId, NotificationMessage Data);

public sealed record NotificationMessage(
    Guid Id, string Entity, JsonElement Key, string Action, string Change, DateTime At, string? By,
    NotificationSource? Source, Dictionary<string, JsonElement>? Values, bool? Truncated, int? Count = null);

public sealed record NotificationSource(string Entity, JsonElement Key);

public sealed class TestNotifier : INotifierContext
{
    public string? UserName { get; set; }

    public string? SocketId { get; set; }
}
