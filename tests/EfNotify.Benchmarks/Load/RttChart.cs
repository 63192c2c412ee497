using System.Globalization;
using System.Text;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// The plot of <c>e2e --pusher-rtt-ms</c>: commit → receive of EfNotify at the offered rate and trigger → receive of the
/// raw client (one event at a time) against the round trip to soketi, with the line of one round trip for reference.
/// Written as an SVG to docs/e2e-rtt-latency.svg.
/// </summary>
internal static class RttChart
{
    public readonly record struct Point(double RttMs, double EfNotifyP50, double EfNotifyP99, double RawP50, double RawP99);

    /// <summary>Writes the chart and returns its path.</summary>
    public static string Write(IReadOnlyList<Point> points, int rate)
    {
        const int width = 900, height = 540, left = 80, right = 250, top = 50, bottom = 70;
        var values = points.SelectMany(p => new[] { p.EfNotifyP50, p.EfNotifyP99, p.RawP50, p.RawP99, p.RttMs }).Where(double.IsFinite).DefaultIfEmpty(1);
        var yMax = Math.Pow(10, Math.Ceiling(Math.Log10(Math.Max(1, values.Max()))));
        var xMax = Math.Max(1, points.Select(p => p.RttMs).DefaultIfEmpty(1).Max());
        double X(double rtt) => left + (rtt / xMax * (width - left - right));
        double Y(double ms) => top + ((1 - ((Math.Log10(Math.Max(ms, 0.1)) + 1) / (Math.Log10(yMax) + 1))) * (height - top - bottom));
        var svg = new StringBuilder();
        void Add(FormattableString text) => svg.Append(text.ToString(CultureInfo.InvariantCulture));
        Add($"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="13"><rect width="100%" height="100%" fill="white"/>""");
        Add($"""<text x="{left}" y="28" font-size="16">Latency against the round trip to soketi (log scale): EfNotify at {rate} commits/s, raw one at a time</text>""");
        for (var decade = 0.1; decade <= yMax; decade *= 10)
        {
            Add($"""<line x1="{left}" x2="{width - right}" y1="{Y(decade):0}" y2="{Y(decade):0}" stroke="#ddd"/><text x="{left - 8}" y="{Y(decade) + 4:0}" text-anchor="end">{decade:0.#} ms</text>""");
        }

        foreach (var point in points)
        {
            Add($"""<line x1="{X(point.RttMs):0}" x2="{X(point.RttMs):0}" y1="{top}" y2="{height - bottom}" stroke="#eee"/><text x="{X(point.RttMs):0}" y="{height - bottom + 20}" text-anchor="middle">{point.RttMs:0.#} ms</text>""");
        }

        Add($"""<text x="{(left + width - right) / 2}" y="{height - 20}" text-anchor="middle">round trip to soketi (each way: half), through the latency proxy</text>""");
        var series = new (string Name, Func<Point, double> Value, string Color, string Dash)[]
        {
            ("EfNotify p50", p => p.EfNotifyP50, "#1f77b4", "none"), ("EfNotify p99", p => p.EfNotifyP99, "#1f77b4", "6,4"),
            ("raw p50", p => p.RawP50, "#d62728", "none"), ("raw p99", p => p.RawP99, "#d62728", "6,4"),
            ("one round trip", p => p.RttMs, "#888", "2,3"),
        };
        var legend = top + 10;
        foreach (var (name, value, color, dash) in series)
        {
            var line = string.Join(' ', points.Where(p => double.IsFinite(value(p))).Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.RttMs):0},{Y(value(p)):0}")));
            Add($"""<polyline fill="none" stroke="{color}" stroke-width="2.5" stroke-dasharray="{dash}" points="{line}"/>""");
            foreach (var p in points.Where(p => double.IsFinite(value(p))))
            {
                Add($"""<circle cx="{X(p.RttMs):0}" cy="{Y(value(p)):0}" r="3.5" fill="{color}"/>""");
            }

            Add($"""<line x1="{width - right + 20}" x2="{width - right + 60}" y1="{legend}" y2="{legend}" stroke="{color}" stroke-width="2.5" stroke-dasharray="{dash}"/><text x="{width - right + 68}" y="{legend + 4}">{name}</text>""");
            legend += 24;
        }

        svg.Append("</svg>");
        var docs = Path.Combine(Repository.Root(), "docs");
        Directory.CreateDirectory(docs);
        var path = Path.Combine(docs, "e2e-rtt-latency.svg");
        File.WriteAllText(path, svg.ToString());
        return path;
    }
}
