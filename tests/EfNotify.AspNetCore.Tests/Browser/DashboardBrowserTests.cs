using System.Collections.Concurrent;
using EfNotify.Capture;
using EfNotify.Outbox;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Sample.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace EfNotify.AspNetCore.Tests.Browser;

/// <summary>
/// Issue 14: the operators' dashboard in the sample (alice is its operator), in headless Chromium under the sample's
/// strict Content Security Policy.
/// </summary>
public sealed class DashboardBrowserTests(SampleSite site) : IClassFixture<SampleSite>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [BrowserFact]
    public async Task An_operator_sees_backlog_chart_and_dead_letters_and_replays_one_with_no_CSP_violation()
    {
        await PublishAsync(5);
        var deadLetter = await DeadLetterAsync("413: The event data should be less than 10 KB.");
        var alice = await site.SignInAsync("alice", 1);
        var problems = new ConcurrentQueue<string>();
        alice.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                problems.Enqueue($"{message.Type}: {message.Text}");
            }
        };
        alice.PageError += (_, error) => problems.Enqueue($"page error: {error}");

        var response = await alice.GotoAsync("/efnotify");
        await alice.WaitForSelectorAsync("body[data-ready='true']", new() { State = WaitForSelectorState.Attached });

        Assert.Contains("script-src 'self'", (await response!.AllHeadersAsync())["content-security-policy"], StringComparison.Ordinal);
        Assert.True(int.Parse(await alice.TextContentAsync("#published") ?? "", System.Globalization.CultureInfo.InvariantCulture) >= 5);
        Assert.True(await alice.Locator("#activity-chart rect.bar").CountAsync() >= 1, "the chart has a bar for what was published");
        Assert.Equal(1, await alice.Locator("#activity-chart polyline.latency").CountAsync());
        var row = alice.Locator($"#dead-letters tr[data-id='{deadLetter}']");
        Assert.Contains("less than 10 KB", await row.Locator("td.reason").TextContentAsync(), StringComparison.Ordinal);
        Assert.Contains("private-Room.1", await row.TextContentAsync(), StringComparison.Ordinal);
        await alice.ScreenshotAsync(new() { Path = Path.Combine(AppContext.BaseDirectory, "dashboard.png"), FullPage = true });

        await row.Locator("button.replay").ClickAsync();
        await row.WaitForAsync(new() { State = WaitForSelectorState.Detached });
        Assert.Equal("Replayed 1.", await alice.TextContentAsync("#message"));
        await Eventually.UntilAsync(
            async () => await StatusAsync(deadLetter) == OutboxStatus.Delivered, Deadline, "the replayed row to be delivered");
        Assert.Empty(problems); // a script or style the CSP refused would show here ("Refused to …")
        await alice.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task A_user_without_the_operator_policy_gets_neither_the_page_nor_its_data()
    {
        var bob = await site.SignInAsync("bob", 1);
        foreach (var path in new[] { "/efnotify", "/efnotify/dashboard.js", "/efnotify/api/activity", "/efnotify/api/dead-letters" })
        {
            var answer = await bob.APIRequest.GetAsync(path, new() { MaxRedirects = 0 });
            Assert.True(answer.Status is 302 or 403, $"{path} answered {answer.Status}");
        }

        var replay = await bob.APIRequest.PostAsync("/efnotify/api/dead-letters/replay", new() { DataObject = new { all = true }, MaxRedirects = 0 });
        Assert.True(replay.Status is 302 or 403, $"replay answered {replay.Status}");
        await bob.Context.CloseAsync();
    }

    private async Task PublishAsync(int count)
    {
        await using (var scope = site.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SampleContext>();
            for (var i = 0; i < count; i++)
            {
                db.Messages.Add(new ChatMessage { RoomId = 1, Author = "carol", Text = $"for the chart {i}", At = DateTime.UtcNow });
                await db.SaveChangesAsync();
            }
        }

        await Eventually.UntilAsync(
            async () =>
            {
                await using var scope = site.Services.CreateAsyncScope();
                return !await scope.ServiceProvider.GetRequiredService<SampleContext>().Set<OutboxMessage>().AnyAsync(m => m.Status == OutboxStatus.Pending);
            },
            Deadline,
            "the messages to be published");
    }

    private async Task<long> DeadLetterAsync(string reason)
    {
        await using var scope = site.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SampleContext>();
        var now = TimeProvider.System.GetUtcNow();
        var row = new OutboxMessage
        {
            CreatedAt = now.UtcDateTime,
            NextAttemptAt = now.UtcDateTime,
            Payload = NotificationSerializer.Serialize(
                [new() { Channel = "private-Room.1", Action = "newMessage", EntityName = "Room", Key = [1], Change = ChangeKind.Notified, At = now }],
                TimeProvider.System)[0].Payload,
            Count = 1,
            Status = OutboxStatus.DeadLettered,
            Attempts = 1,
            LastError = reason,
        };
        db.Add(row);
        await db.SaveChangesAsync();
        return row.Id;
    }

    private async Task<OutboxStatus> StatusAsync(long id)
    {
        await using var scope = site.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<SampleContext>().Set<OutboxMessage>().AsNoTracking().SingleAsync(m => m.Id == id)).Status;
    }
}
