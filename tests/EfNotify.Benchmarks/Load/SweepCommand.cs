using System.Diagnostics;
using System.Globalization;
using System.Text;
using EfNotify.Pusher;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// <c>sweep [--quick]</c>: latency percentiles against offered load, EfNotify beside the raw transport. At each rate,
/// EfNotify commits one [Notify] change per tick (commit returned → event received) and then the same PusherClient
/// triggers one event per tick with no database (request sent → event received). Writes a CSV and docs/e2e-latency.png.
/// </summary>
internal static class SweepCommand
{
    private static readonly int[] Rates = [100, 200, 400, 700, 1000];

    private const int WarmUpLimit = 30_000;

    public static int Run(string[] args)
    {
        if (!Args.TryParse(args, "sweep [--quick]", out var quick, out _))
        {
            return 2;
        }

        RunAsync(quick).GetAwaiter().GetResult();
        return 0;
    }

    public static async Task RunAsync(bool quick)
    {
        var seconds = quick ? 5 : 15;
        await using var soketi = await SoketiProcess.StartAsync();
        await using var host = await LoadHost.CreateAsync(soketi.Options, _ => { });
        await using var subscriber = await LoadSubscriber.ConnectAsync(soketi.Options, LoadHost.Channels);
        var received = new long[(Rates.Sum() * seconds * 2) + WarmUpLimit + 10_000];
        subscriber.RecordFirstArrivals(received);
        await host.StartAsync();
        var client = host.CreatePusherClient();
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LoadContext>();

        // Warm-up, not recorded: connection pools, the dispatcher's first claims, and the JIT, whose tiered compilation
        // goes on for seconds after start-up: rounds of one second at 1,000 commits/s until fewer than 50 methods were
        // compiled in one, after 2 rounds at least and 30 at most.
        async Task Commit(long seq)
        {
            var item = new LoadItem { Id = (int)(seq % LoadHost.Objects) + 1 };
            db.Attach(item);
            item.Seq = seq;
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
        }

        Task Trigger(long seq) => client.TriggerAsync(
            [LoadHost.Channel((int)(seq % LoadHost.Objects) + 1)], "changed", "{\"values\":{\"Seq\":" + seq.ToString(CultureInfo.InvariantCulture) + "}}");

        long next = 1;
        var rounds = 0;
        long compiled;
        do
        {
            var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            await OpenLoopAsync(1000, next, next + 999, Commit);
            next += 1000;
            compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore;
            rounds++;
        }
        while ((rounds < 2 || compiled >= 50) && next <= WarmUpLimit);

        await OpenLoopAsync(100, next, next + 199, Trigger);
        next += 200;
        await subscriber.WaitForAsync(next - 1, TimeSpan.FromSeconds(5));
        Console.WriteLine($"sweep: warm-up (not recorded) {next - 1} events; {compiled} methods JIT-compiled in its last second");
        var expected = subscriber.Received;
        var rows = new List<(int Rate, string Kind, double P50, double P95, double P99)>();
        foreach (var rate in Rates)
        {
            var (first, last) = (next, next + (rate * seconds) - 1);
            var committed = await OpenLoopAsync(rate, first, last, Commit);
            await subscriber.WaitForAsync(expected += last - first + 1, TimeSpan.FromSeconds(5));
            rows.Add(Summarize(rate, "EfNotify", committed, received, first, last));
            next = last + 1;

            (first, last) = (next, next + (rate * seconds) - 1);
            var sent = await OpenLoopAsync(rate, first, last, Trigger, stampBefore: true);
            await subscriber.WaitForAsync(expected += last - first + 1, TimeSpan.FromSeconds(5));
            rows.Add(Summarize(rate, "raw", sent, received, first, last));
            next = last + 1;
            Console.WriteLine($"sweep: {rate} per second done");
        }

        var csv = new StringBuilder("rate,kind,p50_ms,p95_ms,p99_ms\n");
        foreach (var row in rows)
        {
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{row.Rate},{row.Kind},{row.P50:0.00},{row.P95:0.00},{row.P99:0.00}"));
        }

        Console.WriteLine(csv);
        var docs = Path.Combine(Repository.Root(), "docs");
        Directory.CreateDirectory(docs);
        await File.WriteAllTextAsync(Path.Combine(docs, "e2e-latency.csv"), csv.ToString());
        var svg = Path.Combine(Path.GetTempPath(), $"efnotify-sweep-{Guid.NewGuid():N}.svg");
        await File.WriteAllTextAsync(svg, Chart(rows, seconds));
        var png = Path.Combine(docs, "e2e-latency.png");
        Console.WriteLine(await ScreenshotAsync(svg, png) ? $"sweep: wrote {png}" : "sweep: no PNG (Chromium not found); the CSV is written");
        File.Delete(svg);
    }

    /// <summary>Runs <paramref name="send"/> for each sequence number on a fixed schedule and returns when each completed.</summary>
    private static async Task<long[]> OpenLoopAsync(int rate, long first, long last, Func<long, Task> send, bool stampBefore = false)
    {
        var stamps = new long[last - first + 1];
        var start = Stopwatch.GetTimestamp();
        var period = Stopwatch.Frequency / (double)rate;
        for (var seq = first; seq <= last; seq++)
        {
            var due = start + (long)((seq - first) * period);
            while (Stopwatch.GetTimestamp() < due)
            {
                await Task.Yield();
            }

            var before = Stopwatch.GetTimestamp();
            await send(seq);
            stamps[seq - first] = stampBefore ? before : Stopwatch.GetTimestamp();
        }

        return stamps;
    }

    private static (int, string, double, double, double) Summarize(int rate, string kind, long[] sent, long[] received, long first, long last)
    {
        var latencies = new List<double>();
        for (var seq = first; seq <= last; seq++)
        {
            if (received[seq] != 0)
            {
                latencies.Add(Measure.Milliseconds(sent[seq - first], received[seq]));
            }
        }

        var sorted = latencies.Order().ToArray();
        return (rate, kind, Measure.Percentile(sorted, 50), Measure.Percentile(sorted, 95), Measure.Percentile(sorted, 99));
    }

    private static string Chart(List<(int Rate, string Kind, double P50, double P95, double P99)> rows, int seconds)
    {
        const int width = 900, height = 540, left = 80, right = 220, top = 50, bottom = 70;
        var max = Math.Max(1, rows.Max(r => double.IsFinite(r.P99) ? r.P99 : 0));
        var yMax = Math.Pow(10, Math.Ceiling(Math.Log10(max)));
        double X(int rate) => left + ((Math.Log2(rate) - Math.Log2(Rates[0])) / (Math.Log2(Rates[^1]) - Math.Log2(Rates[0])) * (width - left - right));
        double Y(double ms) => top + ((1 - (Math.Log10(Math.Max(ms, 0.1)) + 1) / (Math.Log10(yMax) + 1)) * (height - top - bottom));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="13"><rect width="100%" height="100%" fill="white"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{left}" y="28" font-size="16">Latency against offered load ({seconds} s per rate, log scales): EfNotify commit → receive, raw trigger → receive</text>""");
        for (var decade = 0.1; decade <= yMax; decade *= 10)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{left}" x2="{width - right}" y1="{Y(decade):0}" y2="{Y(decade):0}" stroke="#ddd"/><text x="{left - 8}" y="{Y(decade) + 4:0}" text-anchor="end">{decade:0.#} ms</text>""");
        }

        foreach (var rate in Rates)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{X(rate):0}" x2="{X(rate):0}" y1="{top}" y2="{height - bottom}" stroke="#eee"/><text x="{X(rate):0}" y="{height - bottom + 20}" text-anchor="middle">{rate}/s</text>""");
        }

        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(left + width - right) / 2}" y="{height - 20}" text-anchor="middle">offered rate (commits or triggers per second)</text>""");
        var series = new[]
        {
            ("EfNotify", "p50", "#1f77b4", "none"), ("EfNotify", "p99", "#1f77b4", "6,4"),
            ("raw", "p50", "#d62728", "none"), ("raw", "p99", "#d62728", "6,4"),
        };
        var legend = top + 10;
        foreach (var (kind, percentile, color, dash) in series)
        {
            var points = rows.Where(r => r.Kind == kind)
                .Select(r => (r.Rate, Value: percentile == "p50" ? r.P50 : r.P99))
                .Where(p => double.IsFinite(p.Value))
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.Rate):0},{Y(p.Value):0}"));
            svg.Append(CultureInfo.InvariantCulture, $"""<polyline fill="none" stroke="{color}" stroke-width="2.5" stroke-dasharray="{dash}" points="{string.Join(' ', points)}"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{width - right + 20}" x2="{width - right + 60}" y1="{legend}" y2="{legend}" stroke="{color}" stroke-width="2.5" stroke-dasharray="{dash}"/><text x="{width - right + 68}" y="{legend + 4}">{kind} {percentile}</text>""");
            legend += 24;
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static async Task<bool> ScreenshotAsync(string svg, string png)
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        if (chromium is null)
        {
            return false;
        }

        var start = new ProcessStartInfo(chromium,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--hide-scrollbars", $"--screenshot={png}", "--window-size=900,540", new Uri(svg).AbsoluteUri,
        ])
        { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
        return process.ExitCode == 0 && File.Exists(png);
    }
}
