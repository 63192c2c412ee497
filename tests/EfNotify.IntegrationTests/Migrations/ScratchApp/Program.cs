using EfNotify;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ScratchApp;

// The application's normal registration; `dotnet ef` builds this host (and stops at Build) to find the context.
// Database:Provider chooses the context: sqlite or postgres; ConnectionStrings:Shop is its database.
var builder = Host.CreateApplicationBuilder(args);
var connectionString = builder.Configuration.GetConnectionString("Shop") ?? throw new InvalidOperationException("ConnectionStrings:Shop is required");
if (builder.Configuration["Database:Provider"] == "postgres")
{
    builder.Services.AddEfNotify<PostgresShopDb>(o => o.PollingInterval = TimeSpan.FromMilliseconds(100)).AddPusher(builder.Configuration);
    builder.Services.AddDbContext<PostgresShopDb>((sp, o) => o.UseNpgsql(connectionString).UseEfNotify(sp));
    builder.Services.AddScoped<ShopDb>(sp => sp.GetRequiredService<PostgresShopDb>());
}
else
{
    builder.Services.AddEfNotify<SqliteShopDb>(o => o.PollingInterval = TimeSpan.FromMilliseconds(100)).AddPusher(builder.Configuration);
    builder.Services.AddDbContext<SqliteShopDb>((sp, o) => o.UseSqlite(connectionString).UseEfNotify(sp));
    builder.Services.AddScoped<ShopDb>(sp => sp.GetRequiredService<SqliteShopDb>());
}

using var host = builder.Build();
await host.StartAsync();
await using (var scope = host.Services.CreateAsyncScope())
{
    var db = scope.ServiceProvider.GetRequiredService<ShopDb>();
    await db.Database.MigrateAsync(); // a no-op after `dotnet ef database update`, and throws if the model differs from the snapshot
    Console.WriteLine("applied: " + string.Join(",", await db.Database.GetAppliedMigrationsAsync()));

    var room = new Room { Id = 7, Name = "lobby" };
    var order = new Order { Id = 5 };
    var message = new Message { Id = 11, Room = room, Text = "hi" };
    db.AddRange(room, order, message, new Product { Id = 3, Name = "Lamp" });
    await db.SaveChangesAsync();

    order.Status = "shipped";
    message.Text = "hello";
    await db.SaveChangesAsync();
}

var outbox = host.Services.GetRequiredService<IOutboxAdministration>();
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
while (true)
{
    var backlog = await outbox.GetBacklogAsync(deadline.Token);
    if (backlog.DeadLetterCount > 0)
    {
        throw new InvalidOperationException("a notification was dead-lettered: " + (await outbox.ListDeadLettersAsync())[0].Reason);
    }

    if (backlog.PendingCount == 0)
    {
        break;
    }

    await Task.Delay(50, deadline.Token); // the dispatcher drains the outbox in the background; polled until the deadline
}

Console.WriteLine("published");
await host.StopAsync();
