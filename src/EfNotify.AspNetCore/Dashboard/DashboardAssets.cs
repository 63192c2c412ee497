using EfNotify.Diagnostics;

namespace EfNotify.AspNetCore.Dashboard;

/// <summary>The dashboard's page, script and stylesheet; the script and stylesheet are embedded in this assembly.</summary>
internal static class DashboardAssets
{
    public static readonly byte[] Script = Read("dashboard.js");

    public static readonly byte[] Stylesheet = Read("dashboard.css");

    /// <summary>The page: markup only; the script fills it in. <paramref name="basePath"/> is HTML-encoded.</summary>
    public static string Page(string basePath) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>EfNotify outbox</title>
          <link rel="stylesheet" href="{{basePath}}/dashboard.css">
          <script type="module" src="{{basePath}}/dashboard.js"></script>
        </head>
        <body data-api="{{basePath}}/api">
          <header><h1>EfNotify outbox</h1><span id="updated" class="muted"></span></header>
          <main>
            <section class="cards">
              <div class="card"><div class="label">Pending rows</div><div id="pending" class="value">–</div></div>
              <div class="card"><div class="label">Oldest pending</div><div id="oldest" class="value">–</div></div>
              <div class="card"><div class="label">Dead letters</div><div id="dead" class="value">–</div></div>
              <div class="card"><div class="label">Published, 10 min</div><div id="published" class="value">–</div></div>
            </section>
            <section>
              <h2>Published per interval and latency (commit to server), last 10 minutes</h2>
              <div id="chart" class="chart"></div>
              <p id="dispatcher" class="muted"></p>
            </section>
            <section>
              <h2>Dead letters</h2>
              <p><button id="replay-all" type="button">Replay all</button> <span id="message" role="status"></span></p>
              <table id="dead-letters">
                <thead><tr><th>Row</th><th>Written</th><th>Attempts</th><th>Notifications</th><th>Reason</th><th></th></tr></thead>
                <tbody></tbody>
              </table>
            </section>
          </main>
        </body>
        </html>
        """;

    private static byte[] Read(string name)
    {
        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream("EfNotify.AspNetCore.Dashboard." + name)
                           ?? throw new InvalidOperationException($"EfNotify: the dashboard's {name} is missing from the assembly.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}

/// <summary>The answer of <c>GET {pattern}/api/activity</c>.</summary>
internal sealed record DashboardActivity(
    long Pending,
    double OldestPendingAgeSeconds,
    long DeadLetters,
    DateTime MeasuredAt,
    bool DispatcherRunsHere,
    double IntervalSeconds,
    IReadOnlyList<PublishInterval> Intervals);
