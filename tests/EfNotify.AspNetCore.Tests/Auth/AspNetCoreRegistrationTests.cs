using EfNotify.AspNetCore.Tests.TestApp;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EfNotify.AspNetCore.Tests.Auth;

/// <summary>Issue 14: AddAspNetCore binds EfNotify:AspNetCore, reports each problem once and refuses rules for unmapped types.</summary>
public class AspNetCoreRegistrationTests
{
    private static WebApplicationBuilder Builder(Dictionary<string, string?>? settings = null, bool secret = true)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseSetting("urls", "http://127.0.0.1:0");
        builder.Configuration.Sources.Clear(); // the output folder holds the sample's appsettings.json
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EfNotify:DispatcherEnabled"] = "false",
            ["EfNotify:Pusher:AppId"] = "1",
            ["EfNotify:Pusher:Key"] = AuthTestApp.VectorKey,
            ["EfNotify:Pusher:Secret"] = secret ? AuthTestApp.VectorSecret : null,
            ["EfNotify:Pusher:Cluster"] = "eu",
        });
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        builder.Services.AddDbContext<AuthTestContext>((sp, o) => o.UseSqlite("Data Source=:memory:").UseEfNotify(sp));
        return builder;
    }

    [Fact]
    public async Task AddAspNetCore_binds_the_EfNotify_AspNetCore_section_and_a_delegate_given_in_code_wins()
    {
        var builder = Builder(new() { ["EfNotify:AspNetCore:RequiredRole"] = "User", ["EfNotify:AspNetCore:AllowPresence"] = "false" });
        builder.Services.AddEfNotify<AuthTestContext>().AddPusher().AddAspNetCore<AuthTestContext>(o => o.AllowPresence = true);
        await using var app = builder.Build();

        var options = app.Services.GetRequiredService<IOptions<EfNotifyAspNetCoreOptions>>().Value;

        Assert.Equal(("User", true), (options.RequiredRole, options.AllowPresence));
    }

    [Fact]
    public async Task A_missing_Pusher_secret_is_reported_once_also_with_the_endpoints_registered()
    {
        var builder = Builder(secret: false);
        builder.Services.AddEfNotify<AuthTestContext>().AddPusher().AddAspNetCore<AuthTestContext>();
        await using var app = builder.Build();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());

        var validation = Assert.IsType<OptionsValidationException>(ex);
        var failure = Assert.Single(validation.Failures);
        Assert.StartsWith("EfNotify:Pusher:Secret is required", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_Allow_rule_for_a_type_the_context_does_not_map_fails_at_start_up_naming_the_type()
    {
        var builder = Builder();
        builder.Services.AddEfNotify<AuthTestContext>().AddPusher()
            .AddAspNetCore<AuthTestContext>(o => o.Allow<Note>((_, _) => true).Allow<Unmapped>((_, _) => true).AllowList<Foo>(_ => true));
        await using var app = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        var failure = Assert.Single(ex.Failures);
        Assert.Equal($"Allow<Unmapped>: {typeof(Unmapped).FullName} is not an entity type of AuthTestContext, so the rule would never apply", failure);
    }

    [Fact]
    public async Task An_AllowList_rule_for_a_type_the_context_does_not_map_fails_at_start_up_naming_the_type()
    {
        var builder = Builder();
        builder.Services.AddEfNotify<AuthTestContext>().AddPusher().AddAspNetCore<AuthTestContext>(o => o.AllowList<Unmapped>(_ => true));
        await using var app = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("AllowList<Unmapped>", Assert.Single(ex.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_endpoints_without_AddPusher_fail_at_start_up_saying_so()
    {
        var builder = Builder();
        builder.Services.AddEfNotify<AuthTestContext>().AddAspNetCore<AuthTestContext>();
        await using var app = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("call .AddPusher()", Assert.Single(ex.Failures), StringComparison.Ordinal);
    }

    public sealed class Unmapped;
}
