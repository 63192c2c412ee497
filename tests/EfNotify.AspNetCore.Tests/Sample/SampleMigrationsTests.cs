using EfNotify.Sample.Web.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.AspNetCore.Tests.Sample;

/// <summary>Issue 10: the web sample makes its database through its migrations (Database.Migrate), not EnsureCreated.</summary>
public sealed class SampleMigrationsTests : IDisposable
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"efnotify-sample-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task The_sample_creates_its_database_by_applying_its_migrations_issue_10()
    {
        await using var app = Start();

        await AssertMigratedAndSeededAsync(app);
    }

    [Fact]
    public async Task A_sample_database_made_before_the_migrations_is_replaced_by_a_migrated_one_issue_10()
    {
        await using (var old = new SampleContext(new DbContextOptionsBuilder<SampleContext>().UseSqlite($"Data Source={_database}").Options))
        {
            await old.Database.EnsureCreatedAsync(); // as the sample did before it had migrations
        }

        await using var app = Start();

        await AssertMigratedAndSeededAsync(app);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(_database);
    }

    private WebApplicationFactory<Program> Start()
    {
        var app = new WebApplicationFactory<Program>().WithWebHostBuilder(web => web
            .UseSetting("ConnectionStrings:Sample", $"Data Source={_database}")
            .UseSetting("EfNotify:DispatcherEnabled", "false"));
        _ = app.Services; // starts the sample, which migrates and seeds its database
        return app;
    }

    private static async Task AssertMigratedAndSeededAsync(WebApplicationFactory<Program> app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SampleContext>();
        Assert.NotEmpty(db.Database.GetMigrations());
        Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
        Assert.False(db.Database.HasPendingModelChanges(), "the sample's model differs from its migrations' snapshot");
        Assert.Equal(SampleContext.DemoUsers.Length, await db.People.CountAsync());
    }
}
