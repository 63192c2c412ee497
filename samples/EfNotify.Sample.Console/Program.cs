// The smallest EfNotify application: an entity marked [Notify], EfNotify on the DbContext, a listener on the
// object's private channel. It saves a change, and the listener prints the event that arrives after the commit.
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using EfNotify;
using EfNotify.Pusher;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var database = Path.Combine(Path.GetTempPath(), $"efnotify-demo-{Guid.NewGuid():N}.db");
builder.Services.AddEfNotify<ShopDb>().AddPusher();   // binds EfNotify and EfNotify:Pusher
builder.Services.AddDbContext<ShopDb>((sp, o) => o.UseSqlite($"Data Source={database}").UseEfNotify(sp));

using var host = builder.Build();
await using (var scope = host.Services.CreateAsyncScope())
{
    await scope.ServiceProvider.GetRequiredService<ShopDb>().Database.EnsureCreatedAsync();
}

await host.StartAsync();
var pusher = host.Services.GetRequiredService<IOptions<PusherOptions>>().Value;

// Listen first: a browser would do this with pusher-js; here a few lines of the Pusher WebSocket protocol.
using var socket = new ClientWebSocket();
var scheme = pusher.UseTls ? "wss" : "ws";
await socket.ConnectAsync(new Uri($"{scheme}://{pusher.Host}:{pusher.Port}/app/{pusher.Key}?protocol=7&client=efnotify-demo&version=1.0"), default);
var socketId = JsonDocument.Parse((await ReceiveAsync(socket)).GetProperty("data").GetString()!).RootElement.GetProperty("socket_id").GetString()!;

await using (var scope = host.Services.CreateAsyncScope())
{
    var db = scope.ServiceProvider.GetRequiredService<ShopDb>();
    var order = new Order { Title = "Demo order" };
    db.Add(order);
    await db.SaveChangesAsync();
    var channel = ChannelNames.ForObject("Order", order.Id);
    var auth = host.Services.GetRequiredService<PusherChannelAuthorizer>().AuthorizePrivateChannel(socketId, channel);
    await SendAsync(socket, new { @event = "pusher:subscribe", data = new { channel, auth } });
    while ((await ReceiveAsync(socket)).GetProperty("event").GetString() != "pusher_internal:subscription_succeeded")
    {
    }

    Console.WriteLine($"Listening on {channel}; shipping the order…");
    order.Status = "shipped";
    await db.SaveChangesAsync();
}

using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
while (true)
{
    var message = await ReceiveAsync(socket, deadline.Token);
    // The creation may reach the listener too, if it subscribed before that was published; wait for the shipping.
    if (message.GetProperty("event").GetString() == "changed" && message.GetProperty("data").GetString()!.Contains("\"modified\"", StringComparison.Ordinal))
    {
        Console.WriteLine($"Received '{message.GetProperty("event").GetString()}' on {message.GetProperty("channel").GetString()}:");
        Console.WriteLine(message.GetProperty("data").GetString());
        break;
    }
}

await host.StopAsync();
File.Delete(database);
Console.WriteLine("EfNotify demo: OK");

static async Task SendAsync(ClientWebSocket socket, object message)
    => await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, default);

static async Task<JsonElement> ReceiveAsync(ClientWebSocket socket, CancellationToken cancellationToken = default)
{
    var buffer = new byte[64 * 1024];
    using var text = new MemoryStream();
    WebSocketReceiveResult result;
    do
    {
        result = await socket.ReceiveAsync(buffer, cancellationToken);
        text.Write(buffer, 0, result.Count);
    }
    while (!result.EndOfMessage);
    return JsonDocument.Parse(Encoding.UTF8.GetString(text.ToArray())).RootElement.Clone();
}

[Notify("changed")]
public class Order
{
    public int Id { get; set; }

    public string Title { get; set; } = "";

    public string Status { get; set; } = "new";
}

public class ShopDb(DbContextOptions<ShopDb> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddEfNotifyOutbox();
}
