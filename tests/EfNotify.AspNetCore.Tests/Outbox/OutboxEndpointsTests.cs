using System.Net;
using System.Net.Http.Json;
using EfNotify.AspNetCore.Tests.Auth;
using EfNotify.AspNetCore.Tests.TestApp;
using EfNotify.Capture;
using EfNotify.Outbox;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.AspNetCore.Tests.Outbox;

/// <summary>Operators list and replay dead letters over HTTP; nobody else can.</summary>
public sealed class OutboxEndpointsTests : IClassFixture<AuthTestApp>
{
    private readonly AuthTestApp _app;

    public OutboxEndpointsTests(AuthTestApp app) => _app = app;

    private async Task<long> DeadLetterAsync()
    {
        using var scope = _app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthTestContext>();
        var row = new OutboxMessage
        {
            CreatedAt = DateTime.UtcNow,
            NextAttemptAt = DateTime.UtcNow,
            Payload = NotificationSerializer.Serialize(
                [new() { Channel = "private-Project.1", Action = "renamed", EntityName = "Project", Key = [1], Change = ChangeKind.Notified, At = TimeProvider.System.GetUtcNow() }],
                TimeProvider.System)[0].Payload,
            Count = 1,
            Status = OutboxStatus.DeadLettered,
            Attempts = 1,
            LastError = "413: The event data should be less than 10 KB.",
        };
        db.Add(row);
        await db.SaveChangesAsync();
        return row.Id;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string roles, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.As("olga", roles);
        return await _app.CreateClient().SendAsync(request);
    }

    [Fact]
    public async Task An_operator_lists_a_dead_letter_with_its_reason_and_replays_it()
    {
        var id = await DeadLetterAsync();

        using var list = await SendAsync(HttpMethod.Get, "/efnotify/outbox/dead-letters?take=1000", "Admin");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var letters = await list.Content.ReadFromJsonAsync<List<DeadLetter>>();
        var letter = Assert.Single(letters!, l => l.Id == id);
        Assert.Contains("413", letter.Reason, StringComparison.Ordinal);
        Assert.Equal("private-Project.1", Assert.Single(letter.Events).Channel);

        using var replay = await SendAsync(HttpMethod.Post, "/efnotify/outbox/dead-letters/replay", "Admin", new ReplayRequest([id]));
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(1, (await replay.Content.ReadFromJsonAsync<ReplayResult>())!.Replayed);
        using var scope = _app.Services.CreateScope();
        var row = await scope.ServiceProvider.GetRequiredService<AuthTestContext>().Set<OutboxMessage>().AsNoTracking().SingleAsync(m => m.Id == id);
        Assert.Equal(OutboxStatus.Pending, row.Status);
    }

    [Theory]
    [InlineData("GET", "/efnotify/outbox/dead-letters")]
    [InlineData("GET", "/efnotify/outbox/backlog")]
    [InlineData("POST", "/efnotify/outbox/dead-letters/replay")]
    public async Task Users_without_the_operator_policy_are_refused(string method, string path)
    {
        using var response = await SendAsync(new HttpMethod(method), path, "User", method == "POST" ? new ReplayRequest(null, All: true) : null);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_replay_request_must_name_ids_or_all()
    {
        using var response = await SendAsync(HttpMethod.Post, "/efnotify/outbox/dead-letters/replay", "Admin", new ReplayRequest(null));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task The_backlog_counts_pending_and_dead_rows()
    {
        await DeadLetterAsync();
        using var response = await SendAsync(HttpMethod.Get, "/efnotify/outbox/backlog", "Admin");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var backlog = await response.Content.ReadFromJsonAsync<OutboxBacklog>();
        Assert.True(backlog!.DeadLetterCount >= 1);
    }
}
