using System.Text.Encodings.Web;
using EfNotify;
using EfNotify.AspNetCore.Dashboard;
using EfNotify.AspNetCore.Outbox;
using EfNotify.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The operators' dashboard: backlog, publish rate and latency, dead letters with replay.</summary>
public static class EfNotifyDashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps an HTML dashboard at <paramref name="pattern"/>: the backlog and the age of its oldest pending row, what this
    /// process's dispatcher published over the last ten minutes and how long it took (a chart), and the dead letters with
    /// their reason and a replay button each. The page, its script and stylesheet (served from this assembly: no CDN, no
    /// inline script or style, so it works under <c>script-src 'self'; style-src 'self'</c>) and its data
    /// (<c>{pattern}/api/activity</c> and the endpoints of <c>MapEfNotifyOutbox</c> under <c>{pattern}/api</c>) all
    /// require <paramref name="policy"/>.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The dashboard's path, for example <c>/efnotify</c>.</param>
    /// <param name="policy">The authorization policy an operator must satisfy, for example <c>"Admin"</c>.</param>
    /// <returns>The route group of the dashboard, for further conventions.</returns>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> or <paramref name="policy"/> is empty.</exception>
    public static RouteGroupBuilder MapEfNotifyDashboard(this IEndpointRouteBuilder endpoints, string pattern, string policy)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        ArgumentException.ThrowIfNullOrWhiteSpace(policy);
        var path = "/" + pattern.Trim('/');
        endpoints.MapEfNotifyOutbox(policy, path + "/api");
        var group = endpoints.MapGroup(path).RequireAuthorization(policy);
        group.MapGet("/", (HttpContext http) => Results.Content(DashboardAssets.Page(HtmlEncoder.Default.Encode(http.Request.PathBase + path)), "text/html; charset=utf-8"));
        group.MapGet("/dashboard.js", () => Results.Bytes(DashboardAssets.Script, "text/javascript; charset=utf-8"));
        group.MapGet("/dashboard.css", () => Results.Bytes(DashboardAssets.Stylesheet, "text/css; charset=utf-8"));
        group.MapGet("/api/activity", async (IOutboxAdministration outbox, IServiceProvider services, TimeProvider time, CancellationToken cancellationToken) =>
        {
            var backlog = await outbox.GetBacklogAsync(cancellationToken).ConfigureAwait(false);
            var monitor = services.GetRequiredService<OutboxMonitor>();
            return TypedResults.Json(new DashboardActivity(
                backlog.PendingCount,
                backlog.OldestPendingAge.TotalSeconds,
                backlog.DeadLetterCount,
                backlog.MeasuredAt,
                monitor.StartedAt is not null,
                PublishHistory.IntervalWidth.TotalSeconds,
                monitor.History.Snapshot(time.GetUtcNow().UtcDateTime)), OutboxJsonContext.Default.DashboardActivity);
        });
        return group;
    }
}
