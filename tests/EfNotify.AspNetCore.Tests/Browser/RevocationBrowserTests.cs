using System.Diagnostics;
using System.Text.Json;
using EfNotify.AspNetCore;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Sample.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace EfNotify.AspNetCore.Tests.Browser;

/// <summary>
/// Issue 16: access that ends while a browser listens. The sample in headless Chromium against soketi with user
/// authentication; what each page received is read from the page itself.
/// </summary>
public sealed class RevocationBrowserTests(SampleSite site) : IClassFixture<SampleSite>
{
    private const int General = 1;
    private const int ProjectX = 2; // alice and bob are members
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RevocationDeadline = TimeSpan.FromSeconds(2);

    // Listens to rooms 1 and 2 with efnotify.js and logs every callback (id: the new message's id, from the notification's source); resolves once both are subscribed and the user signed in.
    private const string ListenToBothRooms =
        """
        async () => {
          const { connect } = await import('/_content/EfNotify.AspNetCore/efnotify.js');
          const live = await connect();
          window.log = [];
          const record = room => e => window.log.push({ room, id: String(e.source?.key ?? ''), resync: !!e.resync, revoked: !!e.revoked });
          const rooms = [live.listen('Room', 1, 'newMessage', record(1)), live.listen('Room', 2, 'newMessage', record(2))];
          await Promise.all(rooms.map(r => r.ready));
          await live.pusher.user.signinDonePromise;
          window.live = live;

          return live.pusher.user.user_data?.id ?? '';
        }
        """;

    [BrowserFact]
    public async Task A_member_removed_from_a_room_gets_no_further_events_of_it_within_2_s_while_others_do_and_their_other_rooms_go_on()
    {
        var alice = await site.SignInAsync("alice", General);
        var bob = await site.SignInAsync("bob", General);
        Assert.Equal("alice", await alice.EvaluateAsync<string>(ListenToBothRooms));
        Assert.Equal("bob", await bob.EvaluateAsync<string>(ListenToBothRooms));

        // Before: bob receives room 2's messages (so the test can see him receive them).
        var before = await PostAsync(alice, ProjectX, "before the removal");
        await Eventually.UntilAsync(async () => (await LogAsync(bob)).Any(e => e.Room == ProjectX && e.Id == before), Deadline, "bob to receive room 2's message");

        // The documented pattern: delete the membership row, commit, then revoke.
        await using (var scope = site.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SampleContext>();
            await db.RoomMembers.Where(m => m.RoomId == ProjectX && m.UserName == "bob").ExecuteDeleteAsync();
            var clock = Stopwatch.StartNew();
            await scope.ServiceProvider.GetRequiredService<ISubscriptionRevocation>().RevokeAsync("bob");

            await Eventually.UntilAsync(
                async () => (await LogAsync(bob)).Any(e => e.Room == ProjectX && e.Revoked), Deadline, "bob's room 2 listener to be told that access ended");
            Assert.True(clock.Elapsed < RevocationDeadline, $"the revocation reached bob's listener after {clock.Elapsed.TotalSeconds:0.00} s");
        }

        var after = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            after.Add(await PostAsync(alice, ProjectX, $"after the removal {i}"));
        }

        var sentinel = await PostAsync(alice, General, "sentinel in the general room");
        await Eventually.UntilAsync(async () => (await LogAsync(bob)).Any(e => e.Room == General && e.Id == sentinel), Deadline, "bob to receive the general room's sentinel");
        await Eventually.UntilAsync(
            async () =>
            {
                var log = await LogAsync(alice);
                return after.All(id => log.Any(e => e.Room == ProjectX && e.Id == id));
            },
            Deadline,
            "alice to receive room 2's messages");

        var bobsLog = await LogAsync(bob);
        Assert.DoesNotContain(bobsLog, e => e.Room == ProjectX && after.Contains(e.Id));
        Assert.Single(bobsLog, e => e.Revoked);
        Assert.Contains(bobsLog, e => e.Room == General && e.Resync); // room 1 was granted again after the reconnect
        Assert.DoesNotContain(await LogAsync(alice), e => e.Revoked);

        // bob's own page (the sample's app.js) no longer reads room 2 either: the API refuses him now.
        var status = await bob.EvaluateAsync<int>("async () => (await fetch('/api/rooms/2/messages')).status");
        Assert.Equal(404, status);
        await alice.Context.CloseAsync();
        await bob.Context.CloseAsync();
    }

    private static async Task<string> PostAsync(IPage page, int room, string text)
    {
        var json = await page.EvaluateAsync<JsonElement>(
            "async ([room, text]) => (await fetch(`/api/rooms/${room}/messages`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text }) })).json()",
            new object[] { room, $"{text} {Guid.NewGuid():N}" });
        return json.GetProperty("id").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<IReadOnlyList<LogEntry>> LogAsync(IPage page)
    {
        var json = await page.EvaluateAsync<JsonElement>("() => window.log ?? []");
        return [.. json.EnumerateArray().Select(e => new LogEntry(
            e.GetProperty("room").GetInt32(), e.GetProperty("id").GetString() ?? "", e.GetProperty("resync").GetBoolean(), e.GetProperty("revoked").GetBoolean()))];
    }

    private sealed record LogEntry(int Room, string Id, bool Resync, bool Revoked);
}
