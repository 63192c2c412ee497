using EfNotify.Dispatch;
using EfNotify.Tests.TestModel;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Tests.Dispatch;

/// <summary>The dispatcher keeps a context across back-to-back uses, and lets it go when idle, failed or worn.</summary>
public sealed class ContextSlotTests : IDisposable
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");

    public ContextSlotTests() => _connection.Open();

    public void Dispose() => _connection.Dispose();

    [Theory]
    [InlineData("context")]
    [InlineData("factory")]
    public async Task One_context_serves_back_to_back_uses_and_its_scope_is_disposed_on_release(string registration)
    {
        await using var services = Services(registration);
        var slot = new ContextSlot<ShopContext>(services);

        var first = await slot.RunAsync((db, _) => Task.FromResult(db), CancellationToken.None);
        var second = await slot.RunAsync((db, _) => Task.FromResult(db), CancellationToken.None);
        var tracked = await slot.RunAsync(
            (db, _) =>
            {
                db.Add(new Product { Name = "left behind" });
                return Task.FromResult(db.ChangeTracker.Entries().Count());
            },
            CancellationToken.None);

        Assert.Same(first, second);
        Assert.Equal(1, tracked);
        Assert.Empty(first.ChangeTracker.Entries()); // nothing carries over from one use to the next
        Assert.Equal(1, ScopeProbe.Live);

        await slot.ReleaseAsync();

        Assert.False(slot.IsHeld);
        Assert.Equal(0, ScopeProbe.Live);
        if (registration == "factory")
        {
            Assert.Throws<ObjectDisposedException>(() => first.Model); // a factory's context is the slot's to dispose
        }
    }

    [Fact]
    public async Task A_pooled_context_goes_back_to_the_pool_on_release()
    {
        await using var services = Services("pool");
        var slot = new ContextSlot<ShopContext>(services);
        var held = await slot.RunAsync((db, _) => Task.FromResult(db), CancellationToken.None);

        await slot.ReleaseAsync();
        await using var scope = services.CreateAsyncScope();

        Assert.Same(held, scope.ServiceProvider.GetRequiredService<ShopContext>());
    }

    [Fact]
    public async Task A_use_that_throws_lets_the_context_go_and_the_next_use_gets_a_new_one()
    {
        await using var services = Services("context");
        var slot = new ContextSlot<ShopContext>(services);
        var first = await slot.RunAsync((db, _) => Task.FromResult(db), CancellationToken.None);

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => slot.RunAsync<int>((_, _) => throw new InvalidOperationException("database is locked"), CancellationToken.None));
        var next = await slot.RunAsync((db, _) => Task.FromResult(db), CancellationToken.None);

        Assert.NotSame(first, next);
        Assert.Equal(1, ScopeProbe.Live);
        await slot.ReleaseAsync();
    }

    [Fact]
    public async Task A_context_is_replaced_after_its_uses()
    {
        await using var services = Services("context");
        var slot = new ContextSlot<ShopContext>(services);
        var seen = new HashSet<DbContext>();

        for (var i = 0; i < ContextSlot<ShopContext>.MaxUses + 1; i++)
        {
            seen.Add(await slot.RunAsync((db, _) => Task.FromResult(db), CancellationToken.None));
        }

        Assert.Equal(2, seen.Count);
        await slot.ReleaseAsync();
        Assert.Equal(0, ScopeProbe.Live);
    }

    private ServiceProvider Services(string registration)
    {
        ScopeProbe.Live = 0;
        var services = new ServiceCollection();
        services.AddScoped<ScopeProbe>();
        void Configure(IServiceProvider scope, DbContextOptionsBuilder options)
        {
            scope.GetService<ScopeProbe>(); // one per scope that builds a context
            options.UseSqlite(_connection);
        }

        switch (registration)
        {
            case "pool":
                services.AddDbContextPool<ShopContext>(o => o.UseSqlite(_connection));
                break;
            case "factory":
                services.AddDbContextFactory<ShopContext>((sp, o) => Configure(sp, o), ServiceLifetime.Scoped);
                break;
            default:
                services.AddDbContext<ShopContext>((sp, o) => Configure(sp, o));
                break;
        }

        return services.BuildServiceProvider(validateScopes: true);
    }

    /// <summary>Counts the scopes alive that built a context.</summary>
    private sealed class ScopeProbe : IDisposable
    {
        public static int Live;

        public ScopeProbe() => Live++;

        public void Dispose() => Live--;
    }
}
