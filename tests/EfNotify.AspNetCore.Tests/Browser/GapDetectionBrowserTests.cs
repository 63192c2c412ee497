using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Sample.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace EfNotify.AspNetCore.Tests.Browser;

/// <summary>The sample with a soketi that refuses events over 1 KB, so one event of a stream can be dead-lettered.</summary>
public sealed class SmallEventsSampleSite : SampleSite
{
    protected override SoketiSettings? SoketiSettings => new() { EventMaxSizeInKb = 1 };
}

/// <summary>
/// Issue 15: every message carries its channel's sequence number, and a listener whose stream lost an event is called
/// once with resync: true; a tab's own changes, which the server never echoes to it, are not taken for a gap.
/// </summary>
public sealed class GapDetectionBrowserTests(SmallEventsSampleSite site) : IClassFixture<SmallEventsSampleSite>
{
    private const int General = 1;

    [BrowserFact]
    public async Task A_dead_lettered_event_of_a_stream_makes_its_listener_resync_once_and_the_tabs_own_change_does_not()
    {
        var page = await site.SignInAsync("alice", General);
        await page.EvaluateAsync(
            """
            async () => {
              const { connect } = await import('/_content/EfNotify.AspNetCore/efnotify.js');
              window.live = await connect();
              window.got = [];
              await window.live.listen('Room', 1, 'newMessage', e => window.got.push(e.resync ? 'resync' : String(e.seq))).ready;
            }
            """);

        await AddMessageAsync("first");
        await WaitForAsync(page, 1);

        // This connection's own message is not echoed to it (X-Socket-ID); the next one names it in "own". (XHR: the
        // page's app.js makes its fetch() carry the socket id of its own connection.)
        await page.EvaluateAsync(
            """
            () => new Promise((resolve, reject) => {
              const xhr = new XMLHttpRequest();
              xhr.open('POST', '/api/rooms/1/messages');
              xhr.setRequestHeader('Content-Type', 'application/json');
              xhr.setRequestHeader('X-Socket-ID', window.live.socketId);
              xhr.onload = () => (xhr.status === 200 ? resolve() : reject(new Error(String(xhr.status))));
              xhr.send(JSON.stringify({ text: 'mine' }));
            })
            """);
        await AddMessageAsync("after mine");
        await WaitForAsync(page, 2);

        // An event of the same stream that soketi refuses (over 1 KB): dead-lettered after one attempt.
        await using (var scope = site.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SampleContext>();
            var now = DateTime.UtcNow;
            var padding = new string('x', 2000);
            db.Set<OutboxMessage>().Add(new OutboxMessage
            {
                CreatedAt = now, NextAttemptAt = now, Count = 1,
                Payload = $$$"""{"v":2,"id":"{{{Guid.CreateVersion7()}}}","at":"{{{now:O}}}","items":[["private-Room.1","newMessage","Room",1,"a",{"values":{"pad":"{{{padding}}}"}}]]}""",
            });
            await db.SaveChangesAsync();
        }

        await AddMessageAsync("after the lost one");
        await WaitForAsync(page, 4);

        Assert.Equal(["1", "3", "resync", "5"], await page.EvaluateAsync<string[]>("() => window.got"));
        var administration = site.Services.GetRequiredService<IOutboxAdministration>();
        await Eventually.UntilAsync( // recorded after the batch that went on without it
            async () => (await administration.ListDeadLettersAsync()).Any(d => d.Events.Any(e => e.Channel == "private-Room.1") && d.Reason!.Contains("413", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60),
            "the refused event to be dead-lettered with soketi's 413");
        await page.Context.CloseAsync();
    }

    private async Task AddMessageAsync(string text)
    {
        await using var scope = site.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SampleContext>();
        db.Messages.Add(new ChatMessage { RoomId = General, Author = "bob", Text = text, At = DateTime.UtcNow });
        await db.SaveChangesAsync();
    }

    private static Task WaitForAsync(IPage page, int count)
        => page.WaitForFunctionAsync($"() => window.got.length >= {count}");
}
