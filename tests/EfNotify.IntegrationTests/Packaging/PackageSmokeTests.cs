using System.Net;
using System.Net.Sockets;
using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.IntegrationTests.Packaging;

/// <summary>
/// Issue 14: the packages as a user gets them. Packs every package of src/, creates a web application outside the
/// repository that consumes them from a local folder feed, builds it, runs it against soketi and commits an order:
/// the event arrives, and the browser files come from the package.
/// </summary>
[Collection(SoketiCollection.Name)]
public sealed class PackageSmokeTests(SoketiServer soketi)
{
    private static readonly TimeSpan BuildDeadline = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly string[] Packages = ["EfNotify", "EfNotify.Pusher", "EfNotify.AspNetCore", "EfNotify.Testing"];

    [SoketiFact]
    public async Task The_packed_packages_work_in_a_fresh_app_outside_the_repository()
    {
        using var app = FreshApp.Create();
        var version = $"0.0.0-smoke.{Guid.NewGuid():N}"; // unique, so NuGet's cache never serves an earlier pack
        app.Write(version);
        foreach (var package in Packages)
        {
            // Packs what this test run already built (the project references below make sure of it).
            await FreshApp.RunAsync(Repository.Root, BuildDeadline, "pack", $"src/{package}/{package}.csproj", "-c", Repository.Configuration,
                "--no-build", "-o", app.Feed, $"-p:MinVerVersionOverride={version}");
        }

        Assert.Equal(Packages.Length * 2, Directory.GetFiles(app.Feed).Count(f => f.EndsWith(".nupkg", StringComparison.Ordinal) || f.EndsWith(".snupkg", StringComparison.Ordinal)));
        await FreshApp.RunAsync(app.Project, BuildDeadline, "build", "-c", "Release");

        var port = FreePort();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["EfNotify__Pusher__AppId"] = soketi.AppId,
            ["EfNotify__Pusher__Key"] = soketi.Key,
            ["EfNotify__Pusher__Secret"] = soketi.Secret,
            ["EfNotify__Pusher__Host"] = soketi.Host,
            ["EfNotify__Pusher__Port"] = soketi.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["EfNotify__Pusher__UseTls"] = "false",
        };
        using var process = FreshApp.Start(app.Project, ["run", "--no-build", "-c", "Release"], environment);
        var output = FreshApp.Collect(process);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await Eventually.UntilAsync(async () => await OkAsync(http, "/_content/EfNotify.AspNetCore/efnotify.js"), Deadline, $"the fresh app to serve efnotify.js:\n{output}");
            Assert.True(await OkAsync(http, "/_content/EfNotify.AspNetCore/lib/pusher.min.js"), "pusher.min.js is served from the package");
            Assert.True(await OkAsync(http, "/_content/EfNotify.AspNetCore/lib/pusher.min.js.LICENSE.txt"), "pusher-js's licence is served beside it");

            await using var subscriber = await PusherTestSubscriber.ConnectAsync(soketi);
            await subscriber.SubscribeAsync("private-Order.1"); // the fresh database's first order
            var response = await http.PostAsync(new Uri("/orders", UriKind.Relative), null);
            Assert.Equal("1", await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync());

            var received = await subscriber.WaitForEventAsync(e => e.Channel == "private-Order.1", Deadline);
            Assert.Equal("changed", received.Name);
            Assert.Contains("\"change\":\"added\"", received.Data, StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<bool> OkAsync(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false; // not listening yet
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
