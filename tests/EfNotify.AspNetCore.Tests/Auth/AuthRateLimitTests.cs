using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using EfNotify.AspNetCore.Tests.TestApp;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.AspNetCore.Tests.Auth;

/// <summary>Issue 16: the authorization endpoints are limited per user (429) and every refusal is counted by reason.</summary>
public sealed class AuthRateLimitTests : IDisposable
{
    private readonly List<AuthTestApp> _apps = [];

    public void Dispose() => _apps.ForEach(a => a.Dispose());

    private AuthTestApp WithLimit(bool enabled, int permits)
    {
        var app = new AuthTestApp(services => services.Configure<EfNotifyAspNetCoreOptions>(o =>
        {
            o.AuthRateLimit.Enabled = enabled;
            o.AuthRateLimit.PermitLimit = permits;
            o.AuthRateLimit.Window = TimeSpan.FromHours(1); // nothing comes back during the test
        }));
        _apps.Add(app);
        return app;
    }

    private HttpClient ClientWithLimit(bool enabled, int permits) =>
        WithLimit(enabled, permits).CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [Fact]
    public async Task A_user_over_the_limit_gets_429_with_Retry_After_while_another_user_is_still_granted()
    {
        using var client = ClientWithLimit(enabled: true, permits: 3);
        for (var i = 0; i < 3; i++)
        {
            using var granted = await client.AuthorizeAsync("private-Project.1");
            Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        }

        using var limited = await client.AuthorizeAsync("private-Project.1");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After: {limited.Headers.RetryAfter}");
        Assert.Empty(await limited.Content.ReadAsByteArrayAsync());

        using var bob = await client.AuthorizeAsync("private-Project.2", user: "bob");
        Assert.Equal(HttpStatusCode.OK, bob.StatusCode);
    }

    [Fact]
    public async Task With_the_limit_turned_off_no_request_is_refused_for_its_rate()
    {
        using var client = ClientWithLimit(enabled: false, permits: 1);
        for (var i = 0; i < 10; i++)
        {
            using var response = await client.AuthorizeAsync("private-Project.1");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Denials_are_counted_in_efnotify_auth_denied_by_reason()
    {
        var factory = WithLimit(enabled: true, permits: 3);
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var meters = factory.Services.GetRequiredService<IMeterFactory>(); // this app's meters only, not other tests'
        var counts = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Meter.Name == EfNotifyDiagnostics.MeterName && instrument.Name == "efnotify.auth.denied")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "efnotify.auth.reason" && tag.Value is string reason)
                {
                    counts.AddOrUpdate(reason, value, (_, c) => c + value);
                }
            }
        });
        listener.Start();

        // One user per reason, so the limit of 3 is reached only where meant.
        (await client.AuthorizeAsync("private-Project.1", user: null)).Dispose();
        (await client.AuthorizeAsync("private-Project.1", user: "malformed", socketId: "nope")).Dispose();
        (await client.AuthorizeAsync("private-Project.2", user: "forbidden")).Dispose();
        for (var i = 0; i < 5; i++)
        {
            (await client.AuthorizeAsync("private-Project.1", user: "alice")).Dispose(); // granted three times, then limited
        }

        Assert.Equal("forbidden=1, malformed=1, rate_limited=2, unauthenticated=1", Describe(counts));
    }

    private static string Describe(ConcurrentDictionary<string, long> counts) =>
        string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"));
}
