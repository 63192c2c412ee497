using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace EfNotify.AspNetCore.Tests.Browser;

/// <summary>
/// Issue 14: efnotify.js is an ES module that imports pusher-js as a module (no script tag injected), and its axios helper
/// puts X-Socket-ID on the same-origin requests of a real axios, in the sample under its strict CSP.
/// </summary>
public sealed class ClientModuleBrowserTests(SampleSite site) : IClassFixture<SampleSite>
{
    [BrowserFact]
    public async Task The_client_loads_pusher_js_as_a_module_and_installAxios_adds_the_socket_header_until_removed()
    {
        var page = await site.SignInAsync("alice", 1);
        var problems = new ConcurrentQueue<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Enqueue(message.Text);
            }
        };
        var socketHeaders = new ConcurrentDictionary<string, string?>();
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/api/me", StringComparison.Ordinal))
            {
                socketHeaders[new Uri(request.Url).Query] = request.Headers.TryGetValue("x-socket-id", out var id) ? id : null;
            }
        };
        // axios from the repository's node_modules (0.27, a classic script), served by this origin as the CSP requires.
        var axios = Path.Combine(Client.ClientTypesTests.RepositoryRoot(), "node_modules", "axios", "dist", "axios.min.js");
        await page.RouteAsync("**/test/axios.min.js", route => route.FulfillAsync(new() { Path = axios, ContentType = "text/javascript" }));
        await page.AddScriptTagAsync(new() { Url = "/test/axios.min.js" });

        var result = await page.EvaluateAsync<string[]>(
            """
            async () => {
              const { connect } = await import('/_content/EfNotify.AspNetCore/efnotify.js');
              const live = await connect();
              while (!live.socketId) await new Promise(resolve => setTimeout(resolve, 20));
              const socketId = live.socketId;
              const remove = live.installAxios(window.axios);
              await window.axios.get('/api/me?installed');
              remove();
              await window.axios.get('/api/me?removed');
              const injected = [...document.querySelectorAll('script[src]')].map(s => s.src).filter(src => src.includes('pusher'));
              live.disconnect();
              return [socketId, String(injected.length)];
            }
            """);

        Assert.Equal("0", result[1]); // no script tag for pusher-js: it came in as a module
        Assert.NotEqual("", result[0]);
        Assert.Equal(result[0], socketHeaders["?installed"]);
        Assert.Null(socketHeaders["?removed"]);
        Assert.Empty(problems);
        await page.Context.CloseAsync();
    }
}
