using System.Net;
using System.Net.Sockets;
using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Playwright;

namespace EfNotify.AspNetCore.Tests.Browser;

/// <summary>
/// The sample app on a real Kestrel port, publishing to a soketi of its own, and a headless Chromium to open it with.
/// Shared by the browser tests of one class; each test signs in its users in fresh browser contexts. soketi has user
/// authentication on, as revocation needs (browsers sign in through /pusher/user-auth).
/// </summary>
public class SampleSite : IAsyncLifetime
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"efnotify-sample-{Guid.NewGuid():N}.db");
    private WebApplicationFactory<Program>? _app;
    private IPlaywright? _playwright;

    public SoketiServer Soketi { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    /// <summary>What the site's soketi starts with; <see langword="null"/> for its defaults.</summary>
    protected virtual SoketiSettings? SoketiSettings => null;

    public async Task InitializeAsync()
    {
        if (new BrowserFactAttribute().Skip is not null)
        {
            return; // the tests skip themselves
        }

        Soketi = await SoketiServer.StartAsync(SoketiSettings ?? new SoketiSettings
        {
            EventMaxSizeInKb = 10,
            Environment = new Dictionary<string, string> { ["SOKETI_DEFAULT_APP_USER_AUTHENTICATION"] = "true" },
        });
        var port = FreePort();
        _app = new WebApplicationFactory<Program>().WithWebHostBuilder(web => Configure(web)
            .UseEnvironment("Development")
            .UseUrls($"http://127.0.0.1:{port}")
            .UseSetting("ConnectionStrings:Sample", $"Data Source={_database}")
            .UseSetting("EfNotify:Pusher:AppId", Soketi.AppId)
            .UseSetting("EfNotify:Pusher:Key", Soketi.Key)
            .UseSetting("EfNotify:Pusher:Secret", Soketi.Secret)
            .UseSetting("EfNotify:Pusher:Host", Soketi.Host)
            .UseSetting("EfNotify:Pusher:Port", Soketi.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .UseSetting("EfNotify:Pusher:UseTls", "false")
            .UseSetting("EfNotify:PollingInterval", "00:00:00.200")
            .UseSetting("EfNotify:RetryBaseDelay", "00:00:00.050")
            .UseSetting("EfNotify:MaxBackoff", "00:00:00.500"));
        _app.UseKestrel();
        _app.StartServer();
        BaseAddress = new Uri($"http://127.0.0.1:{port}");

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = BrowserFactAttribute.ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>Further settings of the sample, for a site configured differently.</summary>
    protected virtual IWebHostBuilder Configure(IWebHostBuilder web) => web;

    /// <summary>A new browser context (its own cookies) signed in as <paramref name="user"/>, with the page open on the room.</summary>
    public async Task<IPage> SignInAsync(string user, int room)
    {
        var page = await SignInAsync(user);
        await page.GotoAsync($"/?room={room}");
        await page.WaitForSelectorAsync("body[data-ready='true']", new() { State = WaitForSelectorState.Attached });
        return page;
    }

    /// <summary>A new browser context (its own cookies) signed in as <paramref name="user"/>, on the page the sign-in leads to.</summary>
    public async Task<IPage> SignInAsync(string user)
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = BaseAddress.ToString() });
        context.SetDefaultTimeout(60_000); // a deadline, not a delay: generous for a loaded 2-core CI machine
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login.html");
        await page.SelectOptionAsync("#user", user);
        await page.FillAsync("#password", "demo");
        await page.ClickAsync("#sign-in");
        await page.WaitForURLAsync(url => !url.Contains("login", StringComparison.Ordinal));
        return page;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (Soketi is not null)
        {
            await Soketi.DisposeAsync();
        }

        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_database + suffix);
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
