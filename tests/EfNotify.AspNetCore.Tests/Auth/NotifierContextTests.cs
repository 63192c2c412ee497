using System.Net;
using System.Text.Json;
using EfNotify.AspNetCore.Tests.TestApp;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.AspNetCore.Tests.Auth;

/// <summary>The request is the notifier: its user becomes "by", its X-Socket-ID the connection that is left out.</summary>
public sealed class NotifierContextTests : IDisposable
{
    private readonly AuthTestApp _app = new();

    [Fact]
    public async Task A_change_made_in_a_request_carries_the_users_name_and_the_X_Socket_ID()
    {
        var payload = await RenameAsync(socketId: "5678.1234");

        Assert.Equal("5678.1234", payload.GetProperty("socketId").GetString());
        Assert.Equal("alice", payload.GetProperty("data").GetProperty("by").GetString());
    }

    [Theory]
    [InlineData("5678")]
    [InlineData("5678.1234, 1.1")]
    [InlineData("<script>")]
    public async Task A_malformed_X_Socket_ID_is_ignored(string socketId)
    {
        var payload = await RenameAsync(socketId);

        Assert.False(payload.TryGetProperty("socketId", out _));
        Assert.Equal("alice", payload.GetProperty("data").GetProperty("by").GetString());
    }

    public void Dispose() => _app.Dispose();

    private async Task<JsonElement> RenameAsync(string socketId)
    {
        using var client = _app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/projects/1/rename").As("alice");
        request.Headers.TryAddWithoutValidation("X-Socket-ID", socketId);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        using var scope = _app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthTestContext>();
        var row = await db.Set<OutboxMessage>().AsNoTracking().OrderByDescending(m => m.Id).FirstAsync();
        using var document = JsonDocument.Parse(row.Payload);
        return document.RootElement[0].Clone();
    }
}
