using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EfNotify.AspNetCore.Tests.TestApp;

/// <summary>
/// A web application as a user of EfNotify writes one: its own DbContext with tenancy and soft delete, an authorization
/// handler for projects, per-entity rules, and the two lines EfNotify.AspNetCore asks for. Signs with the protocol's
/// test-vector key and secret; the dispatcher is off, so outbox rows stay for the test to read.
/// </summary>
public sealed class AuthTestApp : WebApplicationFactory<AuthTestApp>
{
    public const string VectorKey = "278d425bdf160c739803";
    public const string VectorSecret = "7ad3773142a6692b25b8";

    public static readonly Guid AliceNote = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
    public static readonly Guid BobNote = Guid.Parse("7c9e6679-7425-40de-944b-e07fc1f90ae7");

    // One open connection keeps the in-memory database alive for the factory's lifetime.
    private readonly SqliteConnection _connection = new($"Data Source=authtests-{Guid.NewGuid():N};Mode=Memory;Cache=Shared");

    private readonly Action<IServiceCollection>? _configure;

    public AuthTestApp() => _connection.Open();

    /// <summary>An app of its own, with further services or options (say a rate limit) set after EfNotify's.</summary>
    internal AuthTestApp(Action<IServiceCollection> configure)
        : this() => _configure = configure;

    protected override IHostBuilder CreateHostBuilder()
        => Host.CreateDefaultBuilder().ConfigureWebHostDefaults(web => web
            .UseContentRoot(AppContext.BaseDirectory)
            .ConfigureServices(ConfigureServices)
            .Configure(Configure));

    // The factory guesses a content root from the solution layout; this app has none of its own.
    protected override void ConfigureWebHost(IWebHostBuilder builder) => builder.UseContentRoot(AppContext.BaseDirectory);

    protected override IHost CreateHost(IHostBuilder builder)
    {
        var host = base.CreateHost(builder);
        using var scope = host.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthTestContext>();
        db.Database.EnsureCreated();
        db.AddRange(
            new Project { Id = 1, Tenant = "t1", Owner = "alice", Name = "Alpha" },
            new Project { Id = 2, Tenant = "t1", Owner = "bob", Name = "Bob's" },
            new Project { Id = 3, Tenant = "t2", Owner = "alice", Name = "Other tenant, same owner name" },
            new Project { Id = 4, Tenant = "t1", Owner = "alice", Name = "Deleted", Deleted = true },
            new Project { Id = 5, Tenant = "t1", Owner = "bob", Name = "Shared", Shared = true },
            new Note { Id = AliceNote, Author = "alice" },
            new Note { Id = BobNote, Author = "bob" },
            new Secret { Id = 1 },
            new Shipment { Region = "São Paulo", Number = 7 },
            new Ticket { Id = new TicketId(9) },
            new Foo { Id = 1 },
            new Explosive { Id = 1 });
        db.SaveChanges();
        db.Set<OutboxMessage>().RemoveRange(db.Set<OutboxMessage>());
        db.SaveChanges();
        return host;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _connection.Dispose();
        }
    }

    private void ConfigureServices(IServiceCollection services)
    {
        services.AddAuthentication(o =>
            {
                o.DefaultAuthenticateScheme = TestAuthHandler.SchemeName;
                o.DefaultForbidScheme = TestAuthHandler.SchemeName; // a plain 403, not a redirect to an access-denied page
                o.DefaultChallengeScheme = CookieAuthenticationDefaults.AuthenticationScheme; // would redirect, if ever asked
            })
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null)
            .AddCookie();
        services.AddAuthorization(o =>
        {
            o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
            o.AddPolicy("OutboxAdmin", p => p.RequireRole("Admin"));
        });
        services.AddSingleton<IAuthorizationHandler, ProjectReadHandler>();

        services.AddEfNotify<AuthTestContext>(o => o.DispatcherEnabled = false)
            .AddPusher(o =>
            {
                o.AppId = "1";
                o.Key = VectorKey;
                o.Secret = VectorSecret;
                o.Host = "127.0.0.1";
                o.Port = 6001;
                o.UseTls = false;
            })
            .AddAspNetCore<AuthTestContext>(o => o
                .Allow<Note>((user, note) => note.Author == user.Identity?.Name)
                .Allow<Shipment>((_, _) => true)
                .Allow<Ticket>((_, _) => true)
                .Allow<Explosive>((_, _) => throw new InvalidOperationException("a broken rule"))
                .AllowList<Foo>(_ => true)
                .AllowList<Project>(user => user.IsInRole("Admin")));
        services.Configure<EfNotifyAspNetCoreOptions>(o => o.RequiredRole = "User");

        services.AddDbContext<AuthTestContext>((sp, o) => o.UseSqlite(_connection).UseEfNotify(sp));
        _configure?.Invoke(services);
    }

    private static void Configure(IApplicationBuilder app)
    {
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseEndpoints(endpoints =>
        {
            endpoints.MapEfNotify();
            endpoints.MapEfNotifyOutbox("OutboxAdmin");
            endpoints.MapPost("/projects/{id:int}/rename", async (int id, AuthTestContext db) =>
            {
                var project = await db.Set<Project>().SingleAsync(p => p.Id == id);
                project.Name += "!";
                await db.SaveChangesAsync();
                return Results.NoContent();
            });
        });
    }

    /// <summary>The application's own resource-based rule: owners read their projects, everyone reads shared ones.</summary>
    private sealed class ProjectReadHandler : AuthorizationHandler<OperationAuthorizationRequirement, Project>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, OperationAuthorizationRequirement requirement, Project resource)
        {
            if (requirement.Name == "Read" && (resource.Shared || resource.Owner == context.User.Identity?.Name))
            {
                context.Succeed(requirement);
            }

            return Task.CompletedTask;
        }
    }
}
