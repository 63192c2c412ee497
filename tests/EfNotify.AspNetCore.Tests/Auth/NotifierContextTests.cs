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
        var notification = await RenameAsync(socketId: "5678.1234");

        Assert.Equal("5678.1234", notification.SocketId);
        Assert.Equal("alice", By(notification));
    }

    [Theory]
    [InlineData("5678")]
    [InlineData("5678.1234, 1.1")]
    [InlineData("<script>")]
    public async Task A_malformed_X_Socket_ID_is_ignored(string socketId)
    {
        var notification = await RenameAsync(socketId);

        Assert.Null(notification.SocketId);
        Assert.Equal("alice", By(notification));
    }

    public void Dispose() => _app.Dispose();

    private static string? By(OutgoingEvent notification)
    {
        using var data = JsonDocument.Parse(notification.Data);
        return data.RootElement.GetProperty("by").GetString();
    }

    /// <summary>The rename's notification as the dispatcher would publish it.</summary>
    private async Task<OutgoingEvent> RenameAsync(string socketId)
    {
        using var client = _app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/projects/1/rename").As("alice");
        request.Headers.TryAddWithoutValidation("X-Socket-ID", socketId);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        using var scope = _app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthTestContext>();
        var row = await db.Set<OutboxMessage>().AsNoTracking().OrderByDescending(m => m.Id).FirstAsync();
        return EfNotify.Outbox.OutboxPayload.Read(row.Payload)[0];
    }
}
