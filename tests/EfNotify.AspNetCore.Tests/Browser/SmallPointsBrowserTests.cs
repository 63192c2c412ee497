using EfNotify.Pusher;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.AspNetCore.Tests.Browser;

/// <summary>Issue 15's smaller points, as a user of the sample sees them in the browser.</summary>
public sealed class SmallPointsBrowserTests(SampleSite site) : IClassFixture<SampleSite>
{
    private const int General = 1;

    [BrowserFact]
    public async Task A_signed_out_visitor_opening_the_board_is_sent_to_the_sign_in_page_while_the_api_still_answers_401()
    {
        var context = await site.Browser.NewContextAsync(new() { BaseURL = site.BaseAddress.ToString() });
        context.SetDefaultTimeout(60_000); // a deadline, not a delay
        var page = await context.NewPageAsync();

        await page.GotoAsync("/Board");

        Assert.Contains("/login.html", page.Url, StringComparison.Ordinal);
        await page.Locator("#sign-in").WaitForAsync();
        var api = await context.APIRequest.GetAsync("/api/me");
        Assert.Equal(401, api.Status);
        await context.CloseAsync();
    }

    [BrowserFact]
    public async Task Remind_on_a_task_shows_its_assignee_a_toast_naming_who_reminded()
    {
        var alice = await site.SignInAsync("alice", General);
        var bob = await site.SignInAsync("bob", General);

        // The seed assigns "Review the auth endpoint" to bob.
        await alice.Locator("#tasks tr", new() { HasText = "Review the auth endpoint" }).Locator("button.remind").ClickAsync();

        await bob.Locator("#toasts .toast", new() { HasText = "alice reminds you of your tasks" }).WaitForAsync();
        Assert.Equal(0, await alice.Locator("#toasts .toast", new() { HasText = "reminds you" }).CountAsync());
        await alice.Context.CloseAsync();
        await bob.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task A_long_key_beyond_javascripts_safe_integers_arrives_in_the_browser_unchanged()
    {
        var page = await site.SignInAsync("alice", General);
        var authorizer = site.Services.GetRequiredService<PusherChannelAuthorizer>();
        await page.ExposeFunctionAsync("efnotifyTestAuth", (string socketId, string channel) => authorizer.AuthorizePrivateChannel(socketId, channel));

        // The sample has no entity with a long key, so this page authorizes its channel with the test's signature.
        await page.EvaluateAsync(
            """
            async () => {
              const { connect } = await import('/_content/EfNotify.AspNetCore/efnotify.js');
              const live = await connect({ pusher: { channelAuthorization: {
                customHandler: async (p, callback) => callback(null, { auth: await window.efnotifyTestAuth(p.socketId, p.channelName) }) } } });
              window.ledger = [];
              await live.listen('Ledger', '9223372036854775807', 'changed', e => window.ledger.push(e)).ready;
            }
            """);

        await using (var services = LedgerServices())
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LedgerContext>();
            db.Notify(new Ledger { Id = long.MaxValue }, "changed");
            await db.SaveChangesAsync(); // the sample's dispatcher publishes the row from the shared outbox
        }

        await page.WaitForFunctionAsync("() => window.ledger.length > 0");
        var key = await page.EvaluateAsync<string>("() => { const k = window.ledger[0].key; return typeof k + ':' + k; }");
        Assert.Equal("string:9223372036854775807", key);
        await page.Context.CloseAsync();
    }

    private ServiceProvider LedgerServices()
    {
        var connection = site.Services.GetRequiredService<IConfiguration>().GetConnectionString("Sample");
        var services = new ServiceCollection();
        services.AddEfNotify<LedgerContext>(o => o.DispatcherEnabled = false);
        services.AddDbContext<LedgerContext>((sp, o) => o.UseSqlite(connection).UseEfNotify(sp));
        return services.BuildServiceProvider();
    }

    private sealed class Ledger
    {
        public long Id { get; set; }
    }

    private sealed class LedgerContext(DbContextOptions<LedgerContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.Entity<Ledger>();
            modelBuilder.AddEfNotifyOutbox(); // the same table as the sample's
        }
    }
}
