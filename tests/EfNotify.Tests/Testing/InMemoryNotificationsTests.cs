using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Testing;
using EfNotify.Tests.TestModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EfNotify.Tests.Testing;

/// <summary>
/// Issue 14: EfNotify.Testing runs the real interceptor, outbox and dispatcher on a SQLite file, with only the transport
/// replaced, and no Pusher settings.
/// </summary>
public sealed class InMemoryNotificationsTests : IAsyncLifetime
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"efnotify-testing-{Guid.NewGuid():N}.db");
    private readonly RecordingLoggerProvider _logs = new();
    private IHost _host = null!;

    private InMemoryNotifications Notifications => _host.Services.GetRequiredService<InMemoryNotifications>();

    public Task InitializeAsync() => StartAsync(b => b.AddEfNotifyTesting());

    private async Task StartAsync(Action<EfNotifyBuilder> transport)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["EfNotify:PollingInterval"] = "00:00:00.100" });
        builder.Logging.ClearProviders().AddProvider(_logs);
        transport(builder.Services.AddEfNotify<ShopContext>());
        builder.Services.AddDbContext<ShopContext>((sp, o) => o.UseSqlite($"Data Source={_database};Pooling=False").UseEfNotify(sp));
        _host = builder.Build();
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ShopContext>().Database.EnsureCreatedAsync();
        }

        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        foreach (var suffix in new[] { "", "-wal", "-shm", ".efnotify-lock" })
        {
            File.Delete(_database + suffix);
        }
    }

    private async Task<T> SaveAsync<T>(T entity)
        where T : class
    {
        await using var scope = _host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ShopContext>();
        db.Add(entity);
        await db.SaveChangesAsync();
        return entity;
    }

    [Fact]
    public async Task A_committed_change_is_awaited_by_entity_key_and_action()
    {
        var order = await SaveAsync(new Order { Status = "new" });

        var notification = await Notifications.WaitFor<Order>(order.Id, "changed");

        Assert.Equal(($"private-Order.{order.Id}", "Order", "added"), (notification.Channel, notification.Entity, notification.Change));
    }

    [Fact]
    public async Task Via_and_list_notifications_are_awaited_on_their_channels()
    {
        var room = await SaveAsync(new Room { Name = "general" });
        await SaveAsync(new Message { RoomId = room.Id, Text = "hi" });
        await SaveAsync(new Product { Name = "tea" });

        Assert.Equal($"private-Room.{room.Id}", (await Notifications.WaitFor<Room>(room.Id, "newMessage")).Channel);
        Assert.Equal("private-Product", (await Notifications.WaitForList<Product>("changed")).Channel);
    }

    [Fact]
    public async Task A_rolled_back_transaction_publishes_nothing_and_a_commit_breaks_the_assertion()
    {
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ShopContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.Add(new Order { Status = "never" });
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        }

        await Notifications.AssertNothingPublishedAsync();

        var order = await SaveAsync(new Order { Status = "committed" });
        var ex = await Assert.ThrowsAsync<NotificationAssertionException>(() => Notifications.AssertNothingPublishedAsync());
        Assert.Contains($"private-Order.{order.Id} changed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_notification_that_never_comes_fails_with_what_was_published()
    {
        var order = await SaveAsync(new Order { Status = "new" });
        await Notifications.WaitFor<Order>(order.Id, "changed");

        var ex = await Assert.ThrowsAsync<NotificationAssertionException>(
            () => Notifications.WaitFor<Order>(order.Id, "shipped", TimeSpan.FromMilliseconds(200)));

        Assert.StartsWith($"No notification Order {order.Id} 'shipped' within 0.2 s. Published (1):", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_log_transport_writes_one_Information_line_per_event()
    {
        await DisposeAsync();
        await StartAsync(b => b.AddLogTransport());

        var order = await SaveAsync(new Order { Status = "new" });

        var channel = $"private-Order.{order.Id}";
        await Eventually.UntilAsync(() => _logs.Lines.Any(l => l.Id == 300), TimeSpan.FromSeconds(10), "the log transport's line");
        var line = Assert.Single(_logs.Lines, l => l.Id == 300);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.StartsWith($"EfNotify event 'changed' on {channel}: {{", line.Message, StringComparison.Ordinal);
        Assert.Null(_host.Services.GetService<InMemoryNotifications>());
    }

    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(int Id, LogLevel Level, string Message)> _lines = new();

        public IEnumerable<(int Id, LogLevel Level, string Message)> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(RecordingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => category.StartsWith("EfNotify", StringComparison.Ordinal);

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => owner._lines.Enqueue((eventId.Id, logLevel, formatter(state, exception)));
        }
    }
}
