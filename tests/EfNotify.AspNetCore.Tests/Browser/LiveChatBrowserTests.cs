using System.Collections.Concurrent;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Sample.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace EfNotify.AspNetCore.Tests.Browser;

/// <summary>
/// The sample in headless Chromium against a real soketi: what a user sees, end to end. Absence is checked after a later
/// event (a sentinel) has arrived, never after a fixed wait.
/// </summary>
public sealed class LiveChatBrowserTests(SampleSite site) : IClassFixture<SampleSite>
{
    private const int ProjectX = 2; // alice and bob are members; carol is not
    private const int General = 1;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [BrowserFact]
    public async Task A_message_posted_by_A_appears_on_Bs_page_without_reload_and_As_tab_is_not_echoed()
    {
        var alice = await site.SignInAsync("alice", ProjectX);
        var bob = await site.SignInAsync("bob", ProjectX);
        var aliceFetches = CountMessageFetches(alice, ProjectX);
        var bobNavigations = 0;
        bob.FrameNavigated += (_, frame) => Interlocked.Increment(ref bobNavigations);

        var text = $"hello from alice {Guid.NewGuid():N}";
        await alice.FillAsync("#text", text);
        await alice.ClickAsync("#send [type=submit]");
        await bob.Locator("#messages li", new() { HasText = text }).WaitForAsync();

        var sentinel = $"sentinel from bob {Guid.NewGuid():N}";
        await bob.FillAsync("#text", sentinel);
        await bob.ClickAsync("#send [type=submit]");
        await alice.Locator("#messages li", new() { HasText = sentinel }).WaitForAsync();

        Assert.Equal(0, bobNavigations);
        Assert.Equal(1, await alice.Locator("#messages li", new() { HasText = text }).CountAsync());
        // One refetch for bob's sentinel; none for alice's own message, which her X-Socket-ID kept from her tab.
        await Eventually.UntilAsync(() => aliceFetches.Count >= 1, Deadline, "alice's page to refetch for bob's message");
        Assert.Single(aliceFetches);
        await alice.Context.CloseAsync();
        await bob.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task A_user_who_is_not_in_the_room_is_refused_by_the_auth_endpoint_and_receives_nothing()
    {
        var alice = await site.SignInAsync("alice", ProjectX);
        var carol = await site.SignInAsync("carol", General);
        var authAnswers = new ConcurrentQueue<(string Body, int Status)>();
        carol.Response += (_, response) =>
        {
            if (response.Url.EndsWith("/pusher/auth", StringComparison.Ordinal))
            {
                authAnswers.Enqueue((response.Request.PostData ?? "", response.Status));
            }
        };

        // Carol's page tries what a curious user could type into the console: listen to a room she is not in.
        var outcome = await carol.EvaluateAsync<string>(
            """
            async () => {
              const { connect } = await import('/_content/EfNotify.AspNetCore/efnotify.js');
              const live = await connect();
              window.received = [];
              const secret = live.listen('Room', 2, 'newMessage', e => window.received.push('room2:' + (e.resync ? 'resync' : e.id)));
              const general = live.listen('Room', 1, 'newMessage', e => window.received.push('room1:' + (e.resync ? 'resync' : e.id)));
              await general.ready;
              try { await secret.ready; return 'subscribed'; } catch { return 'refused'; }
            }
            """);

        Assert.Equal("refused", outcome);
        Assert.Contains(authAnswers, a => a.Body.Contains("private-Room.2", StringComparison.Ordinal) && a.Status == 403);

        await alice.FillAsync("#text", "for project X only");
        await alice.ClickAsync("#send [type=submit]");
        await alice.ClickAsync("#rooms button[data-id='1']");
        await alice.WaitForSelectorAsync("body[data-room='1']", new() { State = WaitForSelectorState.Attached });
        await alice.FillAsync("#text", "sentinel for everyone");
        await alice.ClickAsync("#send [type=submit]");

        await Eventually.UntilAsync(
            async () => (await carol.EvaluateAsync<string[]>("() => window.received")).Any(r => r.StartsWith("room1:", StringComparison.Ordinal)),
            Deadline,
            "carol to receive the sentinel in the general room");
        Assert.DoesNotContain(await carol.EvaluateAsync<string[]>("() => window.received"), r => r.StartsWith("room2:", StringComparison.Ordinal));
        await alice.Context.CloseAsync();
        await carol.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task After_soketi_restarts_the_page_resyncs_and_shows_what_was_missed()
    {
        var bob = await site.SignInAsync("bob", ProjectX);
        await site.Soketi.StopAsync();
        await bob.WaitForSelectorAsync("body:not([data-connection='connected'])", new() { State = WaitForSelectorState.Attached });

        // Written while the server is down and with no notification at all: only a resync can show it.
        var missed = $"written while offline {Guid.NewGuid():N}";
        await using (var scope = site.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SampleContext>();
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"INSERT INTO Messages (RoomId, Author, Text, At) VALUES ({ProjectX}, 'alice', {missed}, {DateTime.UtcNow})");
        }

        await site.Soketi.RestartAsync();

        // pusher-js backs off between reconnection attempts; on this machine it is back within about 20 s.
        await bob.Locator("#messages li", new() { HasText = missed }).WaitForAsync(new() { Timeout = 60_000 });
        await bob.Context.CloseAsync();
    }

    private static ConcurrentQueue<string> CountMessageFetches(IPage page, int room)
    {
        var fetches = new ConcurrentQueue<string>();
        page.Request += (_, request) =>
        {
            if (request.Method == "GET" && request.Url.EndsWith($"/api/rooms/{room}/messages", StringComparison.Ordinal))
            {
                fetches.Enqueue(request.Url);
            }
        };
        return fetches;
    }
}
