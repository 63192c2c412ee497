using System.Globalization;
using EfNotify;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Commits one change per sequence number in [--from, --to): the Card at (sequence mod card count) gets the sequence in
// its Notes (a notification), and a Board named "commit <sequence>" records the commit in the same transaction, so a
// test can tell from the database which sequences were committed. "committed <sequence>" is printed after each
// SaveChanges returns. The process runs EfNotify's dispatcher when --dispatcher is true; --interval-ms paces the commits.
var settings = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2)
{
    settings[args[i].TrimStart('-')] = args[i + 1];
}

string Setting(string name) => settings.TryGetValue(name, out var value)
    ? value
    : throw new ArgumentException($"missing --{name}");

var from = int.Parse(Setting("from"), CultureInfo.InvariantCulture);
var to = int.Parse(Setting("to"), CultureInfo.InvariantCulture);
var interval = TimeSpan.FromMilliseconds(settings.TryGetValue("interval-ms", out var ms) ? int.Parse(ms, CultureInfo.InvariantCulture) : 0);
var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders(); // stdout carries only the commit lines
builder.Services
    .AddEfNotify<BoardContext>(o =>
    {
        o.DispatcherEnabled = bool.Parse(Setting("dispatcher"));
        o.PollingInterval = TimeSpan.FromMilliseconds(100);
        o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
        o.MaxBackoff = TimeSpan.FromMilliseconds(500);
        o.LeaseDuration = TimeSpan.FromSeconds(1); // a killed worker's leases expire soon on SQLite
        o.ClaimBatchSize = 20;
    })
    .AddPusher(o =>
    {
        o.AppId = Setting("pusher-app");
        o.Key = Setting("pusher-key");
        o.Secret = Setting("pusher-secret");
        o.Host = Setting("pusher-host");
        o.Port = int.Parse(Setting("pusher-port"), CultureInfo.InvariantCulture);
        o.UseTls = false;
    });
builder.Services.AddDbContext<BoardContext>((sp, o) =>
{
    if (settings.TryGetValue("postgres", out var connectionString))
    {
        o.UseNpgsql(connectionString);
    }
    else
    {
        o.UseSqlite($"Data Source={Setting("sqlite")}");
    }

    o.UseEfNotify(sp);
});

using var host = builder.Build();
await host.StartAsync();
List<int> cards;
await using (var scope = host.Services.CreateAsyncScope())
{
    cards = await scope.ServiceProvider.GetRequiredService<BoardContext>().Cards.OrderBy(c => c.Id).Select(c => c.Id).ToListAsync();
}

for (var sequence = from; sequence < to; sequence++)
{
    await using var scope = host.Services.CreateAsyncScope();
    var db = scope.ServiceProvider.GetRequiredService<BoardContext>();
    var id = cards[sequence % cards.Count];
    var card = await db.Cards.SingleAsync(c => c.Id == id);
    card.Notes = sequence.ToString(CultureInfo.InvariantCulture);
    db.Add(new Board { Name = $"commit {sequence}" });
    await db.SaveChangesAsync();
    await Console.Out.WriteLineAsync($"committed {sequence}");
    await Console.Out.FlushAsync();
    if (interval > TimeSpan.Zero)
    {
        await Task.Delay(interval);
    }
}

await host.StopAsync();

