using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using EfNotify.AspNetCore.Tests.TestApp;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EfNotify.AspNetCore.Tests.Auth;

/// <summary>Issue 11: app.MapEfNotify() maps the browser endpoints as minimal APIs, under any prefix, open to the app's conventions.</summary>
public sealed class MapEfNotifyTests : IAsyncDisposable
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");
    private readonly LogRecorder _logs = new();
    private WebApplication? _app;

    [Fact]
    public async Task Another_prefix_serves_the_endpoints_there_and_the_key_names_them()
    {
        var client = await StartAsync(app => app.MapEfNotify("/realtime/"));

        using var key = JsonDocument.Parse(await client.GetStringAsync("/realtime/key"));
        var options = key.RootElement.GetProperty("options");
        Assert.Equal("/realtime/auth", options.GetProperty("channelAuthorization").GetProperty("endpoint").GetString());
        Assert.Equal("/realtime/user-auth", options.GetProperty("userAuthentication").GetProperty("endpoint").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/pusher/key").As("alice"))).StatusCode);

        using var granted = await PostAsync(client, "/realtime/auth", "alice", "User");
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        Assert.Equal($$"""{"auth":"{{AuthClient.ExpectedAuth("1234.1234:private-foobar")}}"}""", await granted.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_apps_fallback_policy_does_not_turn_the_endpoints_401_into_a_login_redirect()
    {
        var client = await StartAsync(app => app.MapEfNotify());

        using var anonymous = await PostAsync(client, "/pusher/auth", user: null, roles: "");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Null(anonymous.Headers.Location);
    }

    [Fact]
    public async Task A_policy_added_to_the_returned_group_applies_on_top_of_EfNotifys_own_decision()
    {
        var client = await StartAsync(app => app.MapEfNotify().RequireAuthorization("Admins"));

        using var user = await PostAsync(client, "/pusher/auth", "alice", "User");
        using var admin = await PostAsync(client, "/pusher/auth", "alice", "User,Admin");

        Assert.Equal(HttpStatusCode.Forbidden, user.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task An_app_that_does_not_map_the_endpoints_is_warned_at_start_up()
    {
        var client = await StartAsync(app => app.MapGet("/", () => "no EfNotify endpoints"));

        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/pusher/key").As("alice"))).StatusCode);
        var warning = Assert.Single(_logs.Entries, e => e.EventId == 107);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("app.MapEfNotify()", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mapped_app_gets_no_warning_and_mapping_without_AddAspNetCore_says_what_is_missing()
    {
        await StartAsync(app => app.MapEfNotify());
        Assert.DoesNotContain(_logs.Entries, e => e.EventId == 107);

        var bare = WebApplication.CreateBuilder();
        bare.WebHost.UseTestServer();
        await using var app = bare.Build();
        var ex = Assert.Throws<InvalidOperationException>(() => app.MapEfNotify());
        Assert.Contains("AddAspNetCore", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_key_of_a_hosted_app_names_its_cluster_offers_WebSocket_only_and_is_never_cached()
    {
        var client = await StartAsync(app => app.MapEfNotify());

        using var response = await client.GetAsync("/pusher/key");
        using var key = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var options = key.RootElement.GetProperty("options");

        Assert.Equal("eu", options.GetProperty("cluster").GetString());
        Assert.False(options.TryGetProperty("wsHost", out _));
        Assert.True(options.GetProperty("forceTLS").GetBoolean());
        Assert.Equal(["ws", "wss"], options.GetProperty("enabledTransports").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("ajax", options.GetProperty("channelAuthorization").GetProperty("transport").GetString());
        Assert.False(key.RootElement.TryGetProperty("encryptedEntities", out _), "no master key, no encrypted entities");
        Assert.True(response.Headers.CacheControl?.NoStore, "a rotated key must not be served from a cache");
    }

    [Fact]
    public async Task With_a_master_key_and_no_list_every_entity_is_encrypted_and_the_key_says_so_with_a_star()
    {
        var client = await StartAsync(app => app.MapEfNotify(), o => o.EncryptionMasterKey = Convert.ToBase64String(new byte[32]));

        using var key = JsonDocument.Parse(await client.GetStringAsync("/pusher/key"));

        Assert.Equal("*", key.RootElement.GetProperty("encryptedEntities").GetString());
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        await _connection.DisposeAsync();
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string? user, string roles)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent([new("socket_id", AuthClient.SocketId), new("channel_name", "private-foobar")]),
        }.As(user, roles);
        return client.SendAsync(request);
    }

    private async Task<HttpClient> StartAsync(Action<WebApplication> map, Action<EfNotify.Pusher.PusherOptions>? pusher = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.Sources.Clear(); // the output folder holds the sample's appsettings.json
        builder.Logging.ClearProviders().AddProvider(_logs);
        builder.Services.AddAuthentication(TestAuthHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
        builder.Services.AddAuthorization(o =>
        {
            o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
            o.AddPolicy("Admins", p => p.RequireRole("Admin"));
        });
        builder.Services.AddEfNotify<AuthTestContext>(o => o.DispatcherEnabled = false)
            .AddPusher(o =>
            {
                o.AppId = "1";
                o.Key = AuthTestApp.VectorKey;
                o.Secret = AuthTestApp.VectorSecret;
                o.Cluster = "eu";
                pusher?.Invoke(o);
            })
            .AddAspNetCore<AuthTestContext>(o => o.AllowList<Foo>(_ => true));
        builder.Services.AddDbContext<AuthTestContext>((sp, o) => o.UseSqlite(_connection).UseEfNotify(sp));
        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        map(_app);
        await _app.StartAsync();
        return _app.GetTestClient();
    }

    private sealed class LogRecorder : ILoggerProvider
    {
        public ConcurrentQueue<(int EventId, LogLevel Level, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Recorder(Entries);

        public void Dispose()
        {
        }

        private sealed class Recorder(ConcurrentQueue<(int, LogLevel, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => entries.Enqueue((eventId.Id, logLevel, formatter(state, exception)));
        }
    }
}
