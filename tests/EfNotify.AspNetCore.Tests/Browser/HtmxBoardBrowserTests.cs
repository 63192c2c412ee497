using System.Collections.Concurrent;
using EfNotify.AspNetCore;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Sample.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace EfNotify.AspNetCore.Tests.Browser;

/// <summary>
/// Issue 15 (listening without JavaScript): the sample's /Board page, server-rendered, whose fragments name their channels
/// in data-efnotify and are fetched again by htmx on the "efnotify" DOM event; the page has no script of its own.
/// Absence is checked after a later event (a sentinel) has arrived, never after a fixed wait.
/// </summary>
public sealed class HtmxBoardBrowserTests(SampleSite site) : IClassFixture<SampleSite>
{
    private const int BobsTask = 2; // "Review the auth endpoint", assigned to bob
    private const int CarolsTask = 3;
    private const int AlicesTask = 1;
    private const int General = 1; // a room everyone is in
    private const int ProjectX = 2; // alice and bob are members
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [BrowserFact]
    public async Task A_status_changed_on_As_board_refreshes_the_assignees_own_server_rendered_list_in_Bs_browser()
    {
        var alice = await OpenBoardAsync("alice");
        var bob = await OpenBoardAsync("bob");
        var bobNavigations = 0;
        bob.Page.FrameNavigated += (_, _) => Interlocked.Increment(ref bobNavigations);
        var next = await OtherStatusAsync(bob.Page, BobsTask);

        await alice.Page.SelectOptionAsync($"#board tr[data-id='{BobsTask}'] select", next);

        // bob's "Assigned to me" (his own channel, an object channel) is rendered again by the server, without a reload.
        await bob.Page.Locator($"#mine li[data-id='{BobsTask}'] .task-status", new() { HasText = next }).WaitForAsync();
        Assert.Equal(0, bobNavigations);
        Assert.Contains(bob.Fragments, f => f.Contains("handler=Mine", StringComparison.Ordinal));
        await CloseWithoutCspViolationsAsync(alice, bob);
    }

    [BrowserFact]
    public async Task A_change_refreshes_the_board_list_fragment_in_other_browsers_and_not_in_the_tab_that_made_it()
    {
        var alice = await OpenBoardAsync("alice");
        var carol = await OpenBoardAsync("carol");
        var next = await OtherStatusAsync(alice.Page, CarolsTask);

        await carol.Page.SelectOptionAsync($"#board tr[data-id='{CarolsTask}'] select", next);
        await alice.Page.WaitForSelectorAsync($"#board tr[data-id='{CarolsTask}'][data-status='{next}']", new() { State = WaitForSelectorState.Attached });

        // A sentinel the other way: alice's own change reaches carol; alice's tab is not told of it (X-Socket-ID on htmx's
        // requests), her board shows it from the answer to her own request.
        var sentinel = await OtherStatusAsync(alice.Page, AlicesTask);
        await alice.Page.SelectOptionAsync($"#board tr[data-id='{AlicesTask}'] select", sentinel);
        await carol.Page.WaitForSelectorAsync($"#board tr[data-id='{AlicesTask}'][data-status='{sentinel}']", new() { State = WaitForSelectorState.Attached });
        await alice.Page.WaitForSelectorAsync($"#board tr[data-id='{AlicesTask}'][data-status='{sentinel}']", new() { State = WaitForSelectorState.Attached });
        Assert.Single(alice.Fragments, f => f.Contains("handler=Tasks", StringComparison.Ordinal)); // for carol's change only
        await CloseWithoutCspViolationsAsync(alice, carol);
    }

    [BrowserFact]
    public async Task Elements_added_later_share_one_subscription_receive_the_event_bubbling_and_the_last_one_removed_unsubscribes()
    {
        var alice = await OpenBoardAsync("alice");
        await alice.Page.EvaluateAsync(
            "() => document.body.addEventListener('efnotify', e => ['one', 'two'].includes(e.target.id) && window.got.push('body<' + e.target.id))");
        await AddElementsAsync(alice.Page, ("one", "Room:1:newMessage"), ("two", "Room:1:newMessage"));
        await alice.Page.WaitForSelectorAsync("#one[data-efnotify-state='ready']", new() { State = WaitForSelectorState.Attached });
        await alice.Page.WaitForSelectorAsync("#two[data-efnotify-state='ready']", new() { State = WaitForSelectorState.Attached });
        Assert.Single(alice.Frames, f => f.Contains("pusher:subscribe", StringComparison.Ordinal) && f.Contains("private-Room.1", StringComparison.Ordinal));

        await PostMessageAsync("first");
        await Eventually.UntilAsync(async () => (await GotAsync(alice.Page)).Length >= 4, Deadline, "both elements to receive the event");
        Assert.Equal(["body<one", "body<two", "one:newMessage", "two:newMessage"], (await GotAsync(alice.Page)).Order(StringComparer.Ordinal));

        await alice.Page.EvaluateAsync("() => { document.getElementById('one').remove(); window.got = []; }");
        await PostMessageAsync("second");
        await Eventually.UntilAsync(async () => (await GotAsync(alice.Page)).Contains("two:newMessage"), Deadline, "the remaining element to receive the event");
        Assert.DoesNotContain(alice.Frames, f => f.Contains("pusher:unsubscribe", StringComparison.Ordinal));

        await alice.Page.EvaluateAsync("() => document.getElementById('two').remove()");
        await Eventually.UntilAsync(
            () => alice.Frames.Any(f => f.Contains("pusher:unsubscribe", StringComparison.Ordinal) && f.Contains("private-Room.1", StringComparison.Ordinal)),
            Deadline,
            "the last element's removal to unsubscribe from private-Room.1");
        await alice.Page.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task After_soketi_restarts_the_fragments_are_fetched_again_and_show_a_change_made_meanwhile()
    {
        var bob = await OpenBoardAsync("bob");
        var next = await OtherStatusAsync(bob.Page, AlicesTask);
        await site.Soketi.StopAsync();
        await bob.Page.WaitForSelectorAsync("html:not([data-efnotify-connection='connected'])", new() { State = WaitForSelectorState.Attached });

        // Written while the server is down and with no notification at all: only the resync event can show it.
        await using (var scope = site.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SampleContext>();
            await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE Tasks SET Status = {next} WHERE Id = {AlicesTask}");
        }

        await site.Soketi.RestartAsync();

        // pusher-js backs off between reconnection attempts; on this machine it is back within about 20 s.
        await bob.Page.WaitForSelectorAsync($"#board tr[data-id='{AlicesTask}'][data-status='{next}']", new() { State = WaitForSelectorState.Attached });
        await bob.Page.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task When_access_ends_the_element_is_told_revoked_its_other_channels_resync_and_one_added_later_is_refused()
    {
        var bob = await OpenBoardAsync("bob");
        await AddElementsAsync(bob.Page, ("project", "Room:2:newMessage"), ("general", "Room:1:newMessage"));
        await bob.Page.WaitForSelectorAsync("#project[data-efnotify-state='ready']", new() { State = WaitForSelectorState.Attached });
        await bob.Page.WaitForSelectorAsync("#general[data-efnotify-state='ready']", new() { State = WaitForSelectorState.Attached });

        // The documented pattern: delete the membership row, commit, then revoke.
        await using (var scope = site.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SampleContext>();
            await db.RoomMembers.Where(m => m.RoomId == ProjectX && m.UserName == "bob").ExecuteDeleteAsync();
            await scope.ServiceProvider.GetRequiredService<ISubscriptionRevocation>().RevokeAsync("bob");
        }

        await bob.Page.WaitForSelectorAsync("#project[data-efnotify-state='revoked']", new() { State = WaitForSelectorState.Attached });
        await Eventually.UntilAsync(
            async () => await GotAsync(bob.Page) is var got && got.Contains("project:revoked") && got.Contains("general:resync"),
            Deadline,
            "the room 2 element to be told revoked and the room 1 element to resync");
        Assert.Equal("ready", await bob.Page.GetAttributeAsync("#general", "data-efnotify-state"));

        // An element added afterwards asks /pusher/auth again, which now says no.
        await AddElementsAsync(bob.Page, ("later", "Room:2:newMessage"));
        await bob.Page.WaitForSelectorAsync("#later[data-efnotify-state='refused']", new() { State = WaitForSelectorState.Attached });
        await bob.Page.Context.CloseAsync();
    }

    /// <summary>Signs in and opens /Board, recording its fragment requests, WebSocket frames sent and CSP reports; waits until it listens.</summary>
    private async Task<BoardPage> OpenBoardAsync(string user)
    {
        var page = await site.SignInAsync(user);
        var board = new BoardPage(page);
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/Board?handler=", StringComparison.Ordinal) && request.Method == "GET"
                && request.Headers.ContainsKey("hx-request"))
            {
                board.Fragments.Enqueue(request.Url);
            }
        };
        page.WebSocket += (_, socket) =>
        {
            if (new Uri(page.Url).AbsolutePath == "/Board") // not the socket of the page the sign-in led to
            {
                socket.FrameSent += (_, frame) => board.Frames.Enqueue(frame.Text ?? "");
            }
        };
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                board.CspViolations.Enqueue(message.Text);
            }
        };
        var response = await page.GotoAsync("/Board");
        Assert.Contains("script-src 'self';", await response!.HeaderValueAsync("content-security-policy"), StringComparison.Ordinal);
        await page.WaitForSelectorAsync("#board[data-efnotify-state='ready']", new() { State = WaitForSelectorState.Attached });
        await page.WaitForSelectorAsync(".mine[data-efnotify-state='ready']", new() { State = WaitForSelectorState.Attached });
        return board;
    }

    private static async Task CloseWithoutCspViolationsAsync(params BoardPage[] pages)
    {
        foreach (var board in pages)
        {
            Assert.Empty(board.CspViolations);
            await board.Page.Context.CloseAsync();
        }
    }

    private static async Task<string> OtherStatusAsync(IPage page, int task)
    {
        var current = await page.GetAttributeAsync($"#board tr[data-id='{task}']", "data-status");
        return current == "done" ? "todo" : "done";
    }

    /// <summary>Appends a div per (id, data-efnotify) to the page's body; each logs its events in window.got as "id:revoked", "id:resync" or "id:action".</summary>
    private static Task AddElementsAsync(IPage page, params (string Id, string Channels)[] elements) => page.EvaluateAsync(
        """
        elements => {
          window.got ??= [];
          for (const [id, channels] of elements) {
            const element = document.createElement('div');
            element.id = id;
            element.dataset.efnotify = channels;
            element.addEventListener('efnotify', e => window.got.push(id + ':' + (e.detail.revoked ? 'revoked' : e.detail.resync ? 'resync' : e.detail.action)));
            document.body.append(element);
          }
        }
        """,
        elements.Select(e => new[] { e.Id, e.Channels }).ToArray());

    private static Task<string[]> GotAsync(IPage page) => page.EvaluateAsync<string[]>("() => window.got");

    private async Task PostMessageAsync(string text)
    {
        await using var scope = site.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SampleContext>();
        db.Messages.Add(new ChatMessage { RoomId = General, Author = "bob", Text = text, At = DateTime.UtcNow });
        await db.SaveChangesAsync();
    }

    private sealed record BoardPage(IPage Page)
    {
        public ConcurrentQueue<string> Fragments { get; } = new();

        public ConcurrentQueue<string> Frames { get; } = new();

        public ConcurrentQueue<string> CspViolations { get; } = new();
    }
}
