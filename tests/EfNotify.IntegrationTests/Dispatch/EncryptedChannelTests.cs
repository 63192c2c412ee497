using System.Text;
using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Pusher;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Issue 16: with a master key, the chosen entities' events reach the Pusher-protocol server only as ciphertext on
/// private-encrypted- channels, and its 10 KB limit applies to that ciphertext. A raw subscriber sees what the server sends.
/// </summary>
[Collection(SoketiCollection.Name)]
public sealed class EncryptedChannelTests(SoketiServer server)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private static readonly string MasterKey = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray());

    private static void Encrypt(PusherOptions options, params string[] entities)
    {
        options.EncryptionMasterKey = MasterKey;
        foreach (var entity in entities)
        {
            options.EncryptedEntities.Add(entity);
        }
    }

    [SoketiFact]
    public async Task The_server_receives_only_ciphertext_that_the_channels_shared_secret_opens_and_other_entities_stay_plain()
    {
        await using var host = await NotifyHost.StartAsync(server.Options, pusherChange: o => Encrypt(o, "Card"));
        var card = await host.AddAsync(new Card { Title = "secret plans", Notes = "nobody but the browser reads this" });
        var board = await host.AddAsync(new Board { Name = "plain board" });
        await host.AllDeliveredAsync(Deadline);

        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        await subscriber.SubscribeAsync($"private-encrypted-Card.{card.Id}");
        await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        await subscriber.SubscribeAsync($"private-Board.{board.Id}");
        await host.WithContextAsync(async db =>
        {
            db.Cards.Single().Status = "doing";
            db.Add(new Comment { BoardId = board.Id, Text = "sentinel" });
            await db.SaveChangesAsync();
        });

        var encrypted = await subscriber.WaitForEventAsync(e => e.Channel == $"private-encrypted-Card.{card.Id}", Deadline);
        await subscriber.WaitForEventAsync(e => e.Channel == $"private-Board.{board.Id}" && e.Data.Contains("\"Board\"", StringComparison.Ordinal), Deadline);

        Assert.DoesNotContain(subscriber.Events, e => e.Channel == $"private-Card.{card.Id}");
        using (var envelope = JsonDocument.Parse(encrypted.Data))
        {
            Assert.Equal(["nonce", "ciphertext"], envelope.RootElement.EnumerateObject().Select(p => p.Name));
        }

        Assert.DoesNotContain("nobody but the browser", encrypted.Data, StringComparison.Ordinal);
        Assert.DoesNotContain("Card", encrypted.Data, StringComparison.Ordinal);
        var plain = new PusherEncryption(server.CreateOptions(o => Encrypt(o))).TryDecrypt(encrypted.Channel, encrypted.Data);
        Assert.NotNull(plain);
        using var message = JsonDocument.Parse(plain);
        Assert.Equal("Card", message.RootElement.GetProperty("entity").GetString());
        Assert.Equal("nobody but the browser reads this", message.RootElement.GetProperty("values").GetProperty("Notes").GetString());
    }

    [SoketiFact]
    public async Task The_10_KB_limit_applies_to_the_ciphertext()
    {
        await using var tenKb = await SoketiServer.StartAsync(new SoketiSettings { EventMaxSizeInKb = 10 });
        await using var host = await NotifyHost.StartAsync(tenKb.Options, pusherChange: o => Encrypt(o));
        var fits = await host.AddAsync(new Card { Title = "fits", Notes = new string('f', 5_000) });
        var tooBigOnceEncrypted = await host.AddAsync(new Card { Title = "8 KB: fits as plaintext, not as ciphertext", Notes = new string('b', 8_000) });
        await host.AllDeliveredAsync(Deadline);

        await using var subscriber = await PusherTestSubscriber.ConnectAsync(tenKb);
        await subscriber.SubscribeAsync($"private-encrypted-Card.{fits.Id}");
        await subscriber.SubscribeAsync($"private-encrypted-Card.{tooBigOnceEncrypted.Id}");
        await host.WithContextAsync(async db =>
        {
            foreach (var card in db.Cards)
            {
                card.Status = "touched";
            }

            await db.SaveChangesAsync();
        });

        var events = await subscriber.WaitForEventsAsync(2, e => e.Name == "changed", Deadline);
        var encryption = new PusherEncryption(tenKb.CreateOptions(o => Encrypt(o)));
        foreach (var received in events)
        {
            Assert.True(Encoding.UTF8.GetByteCount(received.Data) <= 10_240, $"{received.Channel}: {received.Data.Length} bytes on the wire");
        }

        var small = events.Single(e => e.Channel.EndsWith($".{fits.Id}", StringComparison.Ordinal));
        using var whole = JsonDocument.Parse(encryption.TryDecrypt(small.Channel, small.Data)!);
        Assert.Equal(5_000, whole.RootElement.GetProperty("values").GetProperty("Notes").GetString()!.Length);

        // About 8.2 KB of plaintext, under Pusher's 10 KB, but about 11 KB once encrypted: sent in its minimal form.
        var big = events.Single(e => e.Channel.EndsWith($".{tooBigOnceEncrypted.Id}", StringComparison.Ordinal));
        using var truncated = JsonDocument.Parse(encryption.TryDecrypt(big.Channel, big.Data)!);
        Assert.True(truncated.RootElement.GetProperty("truncated").GetBoolean());
        Assert.False(truncated.RootElement.TryGetProperty("values", out _));
    }
}
