using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;
using EfNotify.Tests.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EfNotify.IntegrationTests.Dispatch;

/// <summary>
/// Issue 17: a fault of the whole configuration (a wrong secret, an unknown app id) pauses delivery; nothing is
/// dead-lettered, and a configuration reload resumes it without a restart, in order.
/// </summary>
public sealed class ConfigurationFaultTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [SoketiFact]
    public async Task A_wrong_secret_pauses_delivery_until_the_settings_file_is_corrected_then_every_notification_arrives_once_in_order()
    {
        await using var server = await SoketiServer.StartAsync();
        var folder = Directory.CreateTempSubdirectory("efnotify-it-settings-");
        var file = Path.Combine(folder.FullName, "appsettings.json");
        try
        {
            await WriteSettingsAsync(file, server, "not-the-secret");
            var configuration = new ConfigurationBuilder().AddJsonFile(file, optional: false, reloadOnChange: true).Build();
            await using var host = await NotifyHost.StartAsync(
                server.Options,
                options: o => (o.RetryBaseDelay, o.MaxBackoff) = (TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1)),
                services: s => s.AddHealthChecks().AddEfNotify(),
                pusherConfiguration: configuration);
            using var recorder = new MeasurementRecorder(host.Services.GetRequiredService<IMeterFactory>());
            var (cards, expected) = await CommitChangesAsync(host, cardCount: 4, updatesPerCard: 5);
            await using var subscriber = await SubscribeAsync(server, cards);

            var unhealthy = await WaitForHealthAsync(host, HealthStatus.Unhealthy, "The secret authentication failed");
            Assert.Contains("401", unhealthy.Description, StringComparison.Ordinal);
            await Eventually.UntilAsync(() => host.Logs.Entries.Count(e => e.Id.Id == 14) >= 4, Deadline, "four refused attempts");
            Assert.All(await host.RowsAsync(), r => Assert.Equal((OutboxStatus.Pending, 0), (r.Status, r.Attempts)));

            await WriteSettingsAsync(file, server, server.Secret);
            await host.ExplainAsync(subscriber.WaitForEventsAsync(expected, e => e.Name == "changed", Deadline));
            await host.AllDeliveredAsync(Deadline);

            await AssertDeliveredOnceInOrderAsync(host, subscriber, cards, expected);
            await WaitForHealthAsync(host, HealthStatus.Healthy, "pending");
            // One refused request per back-off period, not one per row: each logged once, each after the delay the one before
            // announced, which doubles from 2 x RetryBaseDelay up to MaxBackoff.
            var pauses = host.Logs.Entries.Where(e => e.Id.Id == 14)
                .Select(e => (At: TimeSpan.Parse(e.Message[..12], CultureInfo.InvariantCulture), Delay: TimeSpan.Parse(e.Message.Split(' ')[^1], CultureInfo.InvariantCulture)))
                .ToList();
            Assert.Equal([200, 400, 800, 1000], pauses.Take(4).Select(p => p.Delay.TotalMilliseconds));
            Assert.All(pauses.Skip(4), p => Assert.Equal(TimeSpan.FromSeconds(1), p.Delay));
            Assert.All(pauses.Zip(pauses.Skip(1)), p => Assert.True(
                TimeSpan.FromTicks(((p.Second.At - p.First.At).Ticks + TimeSpan.TicksPerDay) % TimeSpan.TicksPerDay) >= p.First.Delay - TimeSpan.FromMilliseconds(20), $"{p}"));
            Assert.Equal(pauses.Count, recorder.Sum(EfNotifyDiagnostics.PausedCounterName));
            Assert.Contains(host.Logs.Entries, e => e.Id.Id == 15); // resumed
            Assert.DoesNotContain(host.Logs.Entries, e => e.Id.Id is 3 or 4); // no row backed off, nothing dead-lettered
            Assert.DoesNotContain(host.Logs.Entries, e => e.Message.Contains("not-the-secret", StringComparison.Ordinal));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [SoketiFact]
    public async Task An_unknown_app_id_pauses_delivery_until_a_configuration_reload_corrects_it()
    {
        await using var server = await SoketiServer.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings(server, server.Secret)).Build();
        configuration["EfNotify:Pusher:AppId"] = "efnotify-no-such-app";
        await using var host = await NotifyHost.StartAsync(
            server.Options, services: s => s.AddHealthChecks().AddEfNotify(), pusherConfiguration: configuration);
        using var recorder = new MeasurementRecorder(host.Services.GetRequiredService<IMeterFactory>());
        var (cards, expected) = await CommitChangesAsync(host, cardCount: 2, updatesPerCard: 3);
        await using var subscriber = await SubscribeAsync(server, cards);

        var unhealthy = await WaitForHealthAsync(host, HealthStatus.Unhealthy, "efnotify-no-such-app could not be found");
        Assert.Contains("404", unhealthy.Description, StringComparison.Ordinal);
        Assert.Contains("The app efnotify-no-such-app could not be found", (string)unhealthy.Data["paused_reason"], StringComparison.Ordinal);
        Assert.All(await host.RowsAsync(), r => Assert.Equal((OutboxStatus.Pending, 0), (r.Status, r.Attempts)));
        Assert.Contains(recorder.Measurements, m => m.Instrument == EfNotifyDiagnostics.PausedCounterName
            && m.Tags.Contains(new(EfNotifyDiagnostics.PauseStatusCodeTagName, 404)));

        configuration["EfNotify:Pusher:AppId"] = server.AppId;
        configuration.Reload();
        await host.ExplainAsync(subscriber.WaitForEventsAsync(expected, e => e.Name == "changed", Deadline));
        await host.AllDeliveredAsync(Deadline);

        await AssertDeliveredOnceInOrderAsync(host, subscriber, cards, expected);
        await WaitForHealthAsync(host, HealthStatus.Healthy, "pending");
    }

    private static Dictionary<string, string?> Settings(SoketiServer server, string secret) => new()
    {
        ["EfNotify:Pusher:AppId"] = server.AppId,
        ["EfNotify:Pusher:Key"] = server.Key,
        ["EfNotify:Pusher:Secret"] = secret,
        ["EfNotify:Pusher:Host"] = server.Host,
        ["EfNotify:Pusher:Port"] = server.Port.ToString(CultureInfo.InvariantCulture),
        ["EfNotify:Pusher:UseTls"] = "false",
    };

    /// <summary>Writes the settings as an appsettings file, replacing it the way an editor or a deployment does.</summary>
    private static async Task WriteSettingsAsync(string path, SoketiServer server, string secret)
    {
        var pusher = Settings(server, secret).ToDictionary(s => s.Key["EfNotify:Pusher:".Length..], s => s.Value);
        var json = JsonSerializer.Serialize(new Dictionary<string, object> { ["EfNotify"] = new Dictionary<string, object> { ["Pusher"] = pusher } });
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, json);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Inserts the cards (one transaction) and then changes each <paramref name="updatesPerCard"/> times, one transaction a
    /// change, with the card's sequence number in its notes; returns the cards and how many notifications that made.
    /// </summary>
    private static async Task<(List<Card> Cards, int Notifications)> CommitChangesAsync(NotifyHost host, int cardCount, int updatesPerCard)
    {
        var cards = Enumerable.Range(0, cardCount).Select(i => new Card { Title = $"card {i}", Notes = "0" }).ToList();
        await host.WithContextAsync(async db =>
        {
            db.AddRange(cards);
            await db.SaveChangesAsync();
        });
        for (var sequence = 1; sequence <= updatesPerCard; sequence++)
        {
            foreach (var card in cards)
            {
                await host.WithContextAsync(async db =>
                {
                    (await db.Cards.SingleAsync(c => c.Id == card.Id)).Notes = sequence.ToString(CultureInfo.InvariantCulture);
                    await db.SaveChangesAsync();
                });
            }
        }

        return (cards, cardCount * (updatesPerCard + 1));
    }

    private static async Task<PusherTestSubscriber> SubscribeAsync(SoketiServer server, List<Card> cards)
    {
        var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        foreach (var card in cards)
        {
            await subscriber.SubscribeAsync($"private-Card.{card.Id}");
        }

        return subscriber;
    }

    private static async Task<HealthReportEntry> WaitForHealthAsync(NotifyHost host, HealthStatus status, string text)
    {
        var health = host.Services.GetRequiredService<HealthCheckService>();
        HealthReportEntry entry = default;
        await host.ExplainAsync(Eventually.UntilAsync(
            async () => (entry = (await health.CheckHealthAsync()).Entries["efnotify"]).Status == status
                        && entry.Description?.Contains(text, StringComparison.Ordinal) == true,
            Deadline,
            $"the health check {status} with '{text}'"));
        return entry;
    }

    /// <summary>
    /// After every row is delivered, one more change goes out last: once it arrives, nothing published before it is still
    /// on its way, so the count is final. Each notification arrived once, each card's in commit order, none dead-lettered.
    /// </summary>
    private static async Task AssertDeliveredOnceInOrderAsync(NotifyHost host, PusherTestSubscriber subscriber, List<Card> cards, int expected)
    {
        await host.WithContextAsync(async db =>
        {
            (await db.Cards.SingleAsync(c => c.Id == cards[0].Id)).Notes = "last";
            await db.SaveChangesAsync();
        });
        await subscriber.WaitForEventAsync(e => e.Name == "changed" && TestWorker.Read(e).Notes == "last", Deadline);

        var received = subscriber.Events.Where(e => e.Name == "changed" && TestWorker.Read(e).Notes != "last").ToList();
        Assert.Equal(expected, received.Count);
        Assert.Equal(expected, received.Select(e => TestWorker.Read(e).Id).Distinct().Count());
        foreach (var channel in received.GroupBy(e => e.Channel))
        {
            var sequences = channel.Select(e => int.Parse(TestWorker.Read(e).Notes, CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(Enumerable.Range(0, sequences.Count), sequences);
        }

        Assert.DoesNotContain(await host.RowsAsync(), r => r.Status == OutboxStatus.DeadLettered);
    }
}
