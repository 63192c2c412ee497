using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>
/// A PostgreSQL database of its own for each test of a class (xunit makes an instance per test), dropped afterwards.
/// Where no server is found the database is not made and the <see cref="PostgresFactAttribute"/> tests skip; under
/// CI the attempt is made anyway, so a missing server fails them.
/// </summary>
public abstract class PostgresDatabaseTest : IAsyncLifetime
{
    protected string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (PostgresServer.UnavailableReason is null || PostgresServer.IsCi)
        {
            ConnectionString = await PostgresServer.CreateDatabaseAsync();
        }
    }

    /// <summary>BoardContext with EfNotify on this test's database (no dispatcher), its schema created.</summary>
    /// <param name="retrying">With a retrying execution strategy.</param>
    /// <param name="interceptor">An interceptor of the test's own, after EfNotify's.</param>
    protected ServiceProvider Services(bool retrying = false, IInterceptor? interceptor = null)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddEfNotify<BoardContext>(o => { o.DispatcherEnabled = false; o.CaptureSetBasedChanges = true; });
        services.AddDbContext<BoardContext>((sp, o) =>
        {
            o.UseNpgsql(ConnectionString, npgsql =>
            {
                if (retrying)
                {
                    npgsql.EnableRetryOnFailure(3);
                }
            }).UseEfNotify(sp);
            if (interceptor is not null)
            {
                o.AddInterceptors(interceptor);
            }
        });
        var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();
        scope.ServiceProvider.GetRequiredService<BoardContext>().Database.EnsureCreated();
        return provider;
    }

    public async Task DisposeAsync()
    {
        if (ConnectionString.Length > 0)
        {
            await PostgresServer.DropDatabaseAsync(ConnectionString);
        }
    }
}
