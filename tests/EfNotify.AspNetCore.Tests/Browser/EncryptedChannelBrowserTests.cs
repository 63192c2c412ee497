using System.Collections.Concurrent;
using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Pusher;

namespace EfNotify.AspNetCore.Tests.Browser;

/// <summary>
/// Issue 16: end-to-end encrypted rooms in headless Chromium against soketi. soketi carries only ciphertext (a raw
/// subscriber on the same channel shows what it sends), the page's listener gets the plaintext notification, and an event
/// encrypted with another key is reported, not dropped silently.
/// </summary>
public sealed class EncryptedChannelBrowserTests(EncryptedSampleSite site) : IClassFixture<EncryptedSampleSite>
{
    private const int ProjectX = 2; // alice and bob are members
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private const string ListenToRoom2 =
        """
        async () => {
          const { connect } = await import('/_content/EfNotify.AspNetCore/efnotify.js');
          window.received = [];
          window.errors = [];
          const live = await connect({ onError: (channel, e) => window.errors.push(e?.type ?? String(e)) });
          const room = live.listen('Room', 2, 'newMessage', e => window.received.push(JSON.stringify(e)));
          await room.ready;
          return Object.keys(live.pusher.channels.channels).join(' ');
        }
        """;

    [BrowserFact]
    public async Task Soketi_carries_only_ciphertext_and_the_browser_listener_gets_the_plaintext()
    {
        var bob = await site.SignInAsync("bob", ProjectX);
        var channels = await bob.EvaluateAsync<string>(ListenToRoom2);
        Assert.Contains("private-encrypted-Room.2", channels, StringComparison.Ordinal);

        await using var raw = await PusherTestSubscriber.ConnectAsync(site.Soketi);
        await raw.SubscribeAsync("private-encrypted-Room.2");

        var alice = await site.SignInAsync("alice", ProjectX);
        var text = $"for alice and bob only {Guid.NewGuid():N}";
        await alice.FillAsync("#text", text);
        await alice.ClickAsync("#send [type=submit]");

        await bob.Locator("#messages li", new() { HasText = text }).WaitForAsync(); // the sample's own page, decrypted
        await Eventually.UntilAsync(async () => (await bob.EvaluateAsync<string[]>("() => window.received")).Length > 0, Deadline, "bob's listener to be called");
        using (var notification = JsonDocument.Parse((await bob.EvaluateAsync<string[]>("() => window.received"))[0]))
        {
            Assert.Equal("Room", notification.RootElement.GetProperty("entity").GetString());
            Assert.Equal("newMessage", notification.RootElement.GetProperty("action").GetString());
            Assert.Equal("alice", notification.RootElement.GetProperty("by").GetString());
        }

        var onTheWire = await raw.WaitForEventAsync(e => e.Name == "newMessage", Deadline);
        using (var envelope = JsonDocument.Parse(onTheWire.Data))
        {
            Assert.Equal(["nonce", "ciphertext"], envelope.RootElement.EnumerateObject().Select(p => p.Name));
        }

        Assert.DoesNotContain("alice", onTheWire.Data, StringComparison.Ordinal);
        Assert.DoesNotContain("Room", onTheWire.Data, StringComparison.Ordinal);
        Assert.Empty(await bob.EvaluateAsync<string[]>("() => window.errors"));
        await alice.Context.CloseAsync();
        await bob.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task An_event_encrypted_with_another_master_key_is_reported_as_an_error_in_the_page()
    {
        var bob = await site.SignInAsync("bob", ProjectX);
        var console = new ConcurrentQueue<string>();
        bob.Console += (_, message) => console.Enqueue($"{message.Type}: {message.Text}");
        await bob.EvaluateAsync<string>(ListenToRoom2);

        // Another instance of the application with a different key, publishing on the same channel.
        var wrongKey = new PusherEncryption(site.Soketi.CreateOptions(o => o.EncryptionMasterKey = Convert.ToBase64String(new byte[32])));
        var data = wrongKey.Encrypt("private-encrypted-Room.2", """{"id":"wrong-key","entity":"Room","key":2,"action":"newMessage"}""");
        await site.Soketi.CreateClient().TriggerAsync(["private-encrypted-Room.2"], "newMessage", data);

        await Eventually.UntilAsync(
            async () => (await bob.EvaluateAsync<string[]>("() => window.errors")).Contains("DecryptionError"), Deadline, "the page to report the decryption error");
        Assert.Contains(console, line => line.StartsWith("error: efnotify: an encrypted event could not be decrypted", StringComparison.Ordinal));
        Assert.Empty(await bob.EvaluateAsync<string[]>("() => window.received"));
        await bob.Context.CloseAsync();
    }
}
