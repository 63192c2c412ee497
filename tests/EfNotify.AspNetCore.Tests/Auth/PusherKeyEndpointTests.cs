using System.Net;
using System.Text.Json;
using EfNotify.AspNetCore.Tests.TestApp;

namespace EfNotify.AspNetCore.Tests.Auth;

/// <summary>GET /pusher/key: what pusher-js needs to connect, to anyone, and never the secret.</summary>
public sealed class PusherKeyEndpointTests(AuthTestApp app) : IClassFixture<AuthTestApp>
{
    [Fact]
    public async Task The_key_endpoint_gives_pusher_js_options_for_a_self_hosted_server_without_the_secret()
    {
        using var client = app.CreateClient(new() { AllowAutoRedirect = false });
        using var response = await client.GetAsync("/pusher/key");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(AuthTestApp.VectorSecret, text, StringComparison.Ordinal);
        using var body = JsonDocument.Parse(text);
        Assert.Equal(AuthTestApp.VectorKey, body.RootElement.GetProperty("key").GetString());
        var options = body.RootElement.GetProperty("options");
        Assert.Equal("127.0.0.1", options.GetProperty("wsHost").GetString());
        Assert.Equal(6001, options.GetProperty("wsPort").GetInt32());
        Assert.False(options.GetProperty("forceTLS").GetBoolean());
        Assert.Equal("/pusher/auth", options.GetProperty("channelAuthorization").GetProperty("endpoint").GetString());
        Assert.True(options.TryGetProperty("cluster", out _), "pusher-js 8 refuses options without a cluster");
    }
}
