using System.Diagnostics;
using System.Globalization;
using EfNotify.Capture;
using Measure = EfNotify.Benchmarks.Load.Measure;

namespace EfNotify.Benchmarks.Overhead;

/// <summary>
/// The headline overhead figure, measured so that disk weather hits both sides alike: a plain and an EfNotify database
/// of the same kind, prepared side by side, then many rounds of <see cref="BenchDatabase.ModifyAndSave"/> on each, in
/// the order plain/EfNotify on even rounds and EfNotify/plain on odd ones (so neither always runs second, right after
/// the other's fsync). Each save is timed on its own. A slow spell of the disk or the machine lands on both within a
/// few milliseconds, where one after the other (as BenchmarkDotNet runs them) it lands on whichever ran at the time.
/// </summary>
internal static class InterleavedOverhead
{
    private const int MinRounds = 50;
    private const int MaxRounds = 200_000;

    /// <param name="setBased">Time <see cref="BenchDatabase.ExecuteUpdate"/> instead of <see cref="BenchDatabase.ModifyAndSave"/>.</param>
    /// <param name="probe">Databases behind a latency proxy: their round trips per save are counted, and one save of each side is recorded statement by statement.</param>
    public static InterleavedResult Run(string storage, int n, TimeSpan warmup, TimeSpan duration, bool setBased = false, RoundTripProbe? probe = null)
    {
        var directory = Directory.CreateTempSubdirectory("efnotify-interleaved-");
        BenchStorage Create(string name) => probe?.Create(name) ?? BenchStorage.Create(storage, directory.FullName, name);
        try
        {
            using var plain = new BenchDatabase(efNotify: false, n, Create("plain"));
            using var efNotify = new BenchDatabase(efNotify: true, n, Create("efnotify"), captureSetBased: setBased);
            var settings = (Plain: plain.Settings(), EfNotify: efNotify.Settings());

            // Warm-up, not recorded: JIT, connection pools, the model, the first pages of each file in the cache.
            var warmupRounds = Rounds(plain, efNotify, warmup, min: 10, null, null, setBased);
            var plainTimes = new List<double>();
            var efNotifyTimes = new List<double>();
            var load = Measure.LoadAverage();
            var clock = Stopwatch.StartNew();
            var rounds = Rounds(plain, efNotify, duration, MinRounds, plainTimes, efNotifyTimes, setBased, probe);
            var elapsed = clock.Elapsed;
            load += " at the start, " + Measure.LoadAverage() + " at the end";
            var sample = probe?.RecordOneSave(() => Time(plain, setBased), () => Time(efNotify, setBased));

            // Proof that both did what they should: no outbox on the plain side, every save's N notifications on the other
            // (in one row per NotificationSerializer.MaxPerRow of them).
            var saves = warmupRounds + rounds + (sample is null ? 0 : 1);
            var rowsPerSave = (n + NotificationSerializer.MaxPerRow - 1) / NotificationSerializer.MaxPerRow;
            var (plainRows, _) = plain.Outbox();
            var outbox = efNotify.Outbox();
            if (plainRows != 0 || outbox.Rows != saves * rowsPerSave || outbox.Notifications != (long)saves * n)
            {
                throw new InvalidOperationException(
                    $"outbox: plain {plainRows} rows (expected 0); EfNotify {outbox.Rows} rows holding {outbox.Notifications} notifications "
                    + $"(expected {saves * rowsPerSave} rows holding {(long)saves * n} for {saves} saves of {n})");
            }

            return new InterleavedResult(storage, n, rounds, elapsed, [.. plainTimes], [.. efNotifyTimes], settings.Plain, settings.EfNotify, outbox, load)
            {
                Operation = setBased ? "ExecuteUpdate" : "SaveChanges",
                RoundTrips = probe is null ? null : (probe.PlainTurns / (double)rounds, probe.EfNotifyTurns / (double)rounds, sample!.Value.Plain, sample.Value.EfNotify),
            };
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static int Rounds(
        BenchDatabase plain, BenchDatabase efNotify, TimeSpan duration, int min, List<double>? plainTimes, List<double>? efNotifyTimes, bool setBased,
        RoundTripProbe? probe = null)
    {
        double Timed(BenchDatabase database, bool isPlain) => probe is null ? Time(database, setBased) : probe.Count(isPlain, () => Time(database, setBased));

        var clock = Stopwatch.StartNew();
        var round = 0;
        for (; round < MaxRounds && (round < min || clock.Elapsed < duration); round++)
        {
            // Not plainTimes?.Add(Time(plain)): with no list (the warm-up) that would skip the save itself.
            double plainTime, efNotifyTime;
            if (round % 2 == 0)
            {
                plainTime = Timed(plain, isPlain: true);
                efNotifyTime = Timed(efNotify, isPlain: false);
            }
            else
            {
                efNotifyTime = Timed(efNotify, isPlain: false);
                plainTime = Timed(plain, isPlain: true);
            }

            plainTimes?.Add(plainTime);
            efNotifyTimes?.Add(efNotifyTime);
        }

        return round;
    }

    private static double Time(BenchDatabase database, bool setBased)
    {
        var start = Stopwatch.GetTimestamp();
        _ = setBased ? database.ExecuteUpdate() : database.ModifyAndSave();
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }
}

/// <summary>
/// The per-save times of one interleaved run, in microseconds, element i of both arrays from round i, and what they say:
/// the ratio of the medians (the headline), a 95 % bootstrap interval for it, and the quartiles of the ratio within a
/// round (how much one pair of saves scatters). The bootstrap resamples blocks of consecutive rounds, both sides of a
/// round together: slow spells of the disk last longer than a round, and resampling single rounds would treat the
/// rounds of one spell as independent and give too narrow an interval.
/// </summary>
internal sealed record InterleavedResult(
    string Storage,
    int N,
    int Rounds,
    TimeSpan Elapsed,
    double[] Plain,
    double[] EfNotify,
    string PlainSettings,
    string EfNotifySettings,
    (int Rows, long Notifications) Outbox,
    string LoadAverage)
{
    private const int BootstrapResamples = 1000;
    // Quiet runs at N=100 give intervals 0.01-0.035 wide; the loaded runs that missed their quiet value by 0.1 or more were
    // 0.08 and 0.34 wide.
    private const double NoisyIntervalWidth = 0.05;

    /// <summary>What each round timed: SaveChanges of N tracked rows, or one ExecuteUpdate of the N rows.</summary>
    public string Operation { get; init; } = "SaveChanges";

    /// <summary>Behind a latency proxy: round trips per save of each side, and the statements of each round trip of one save.</summary>
    public (double Plain, double EfNotify, IReadOnlyList<string> PlainTurns, IReadOnlyList<string> EfNotifyTurns)? RoundTrips { get; init; }

    public double PlainMedian => Median(Plain);

    public double EfNotifyMedian => Median(EfNotify);

    public double Ratio => EfNotifyMedian / PlainMedian;

    /// <summary>
    /// 2.5th and 97.5th percentile of the ratio of medians over resamples made of 50 blocks of consecutive rounds (a
    /// circular block bootstrap); a fixed seed, so the same data always give the same interval.
    /// </summary>
    public (double Low, double High) BootstrapInterval()
    {
        var random = new Random(20_240_601);
        var block = Math.Max(1, (Rounds + 49) / 50);
        var ratios = new double[BootstrapResamples];
        var plain = new double[Rounds];
        var efNotify = new double[Rounds];
        for (var r = 0; r < ratios.Length; r++)
        {
            for (var i = 0; i < Rounds;)
            {
                var start = random.Next(Rounds);
                for (var j = 0; j < block && i < Rounds; j++, i++)
                {
                    var pick = (start + j) % Rounds;
                    plain[i] = Plain[pick];
                    efNotify[i] = EfNotify[pick];
                }
            }

            ratios[r] = MedianInPlace(efNotify) / MedianInPlace(plain);
        }

        Array.Sort(ratios);
        return (Measure.Percentile(ratios, 2.5), Measure.Percentile(ratios, 97.5));
    }

    /// <summary>Quartiles of EfNotify's time divided by plain's time in the same round.</summary>
    public (double Q1, double Median, double Q3) RoundRatioQuartiles()
    {
        var ratios = EfNotify.Select((t, i) => t / Plain[i]).Order().ToArray();
        return (Measure.Percentile(ratios, 25), Measure.Percentile(ratios, 50), Measure.Percentile(ratios, 75));
    }

    /// <summary>The median of EfNotify's time minus plain's time in the same round, in microseconds.</summary>
    public double RoundDifferenceMedian() => Median([.. EfNotify.Select((t, i) => t - Plain[i])]);

    public IEnumerable<string> Describe()
    {
        var interval = BootstrapInterval();
        var quartiles = RoundRatioQuartiles();
        string Times(double[] times)
        {
            var sorted = times.Order().ToArray();
            return F($"median {Measure.Percentile(sorted, 50),7:0} us  (quartiles {Measure.Percentile(sorted, 25):0}–{Measure.Percentile(sorted, 75):0}, p95 {Measure.Percentile(sorted, 95):0})");
        }

        yield return F($"interleaved {Operation}, {BenchStorage.Describe(Storage)}, N={N}: {Rounds} rounds in {Elapsed.TotalSeconds:0.0} s, plain/EfNotify on even rounds, EfNotify/plain on odd");
        yield return $"  load average (1, 5, 15 min): {LoadAverage}";
        yield return $"  settings: plain {PlainSettings}; EfNotify {EfNotifySettings}; EfNotify's outbox holds {Outbox.Notifications} notifications in {Outbox.Rows} rows (all saves, warm-up included)";
        yield return $"  plain     {Times(Plain)}";
        yield return $"  EfNotify  {Times(EfNotify)}";
        yield return F($"  ratio of medians {Ratio:0.000}, 95 % bootstrap interval {interval.Low:0.000}–{interval.High:0.000}; ")
                     + F($"per-round ratio median {quartiles.Median:0.00}, quartiles {quartiles.Q1:0.00}–{quartiles.Q3:0.00}");
        yield return F($"  EfNotify adds {EfNotifyMedian - PlainMedian:0} us per save (difference of the medians; per-round difference median {RoundDifferenceMedian():0} us)");
        if (RoundTrips is { } trips)
        {
            yield return F($"  round trips per save (the proxy's turns): plain {trips.Plain:0.00}, EfNotify {trips.EfNotify:0.00}");
            foreach (var (side, turns) in new[] { ("plain", trips.PlainTurns), ("EfNotify", trips.EfNotifyTurns) })
            {
                yield return $"  one {side} save, round trip by round trip:";
                foreach (var (turn, i) in turns.Select((t, i) => (t, i + 1)))
                {
                    yield return F($"    {i}. {turn}");
                }
            }
        }
        if (interval.High - interval.Low > NoisyIntervalWidth)
        {
            // Waiting for a CPU or the disk adds to both sides alike and pulls the ratio towards 1; a wide interval says so.
            yield return F($"  the interval is wider than {NoisyIntervalWidth:0.00}: too noisy to judge a 10 % margin; run again on a quieter machine");
        }
    }

    /// <summary>Writes round, order and both times to <c>interleaved-{storage}-n{N}.csv</c> in <paramref name="directory"/>; returns the path.</summary>
    public string WriteCsv(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, F($"interleaved-{Storage}-n{N}.csv"));
        File.WriteAllLines(path, Plain
            .Select((plain, i) => F($"{i},{(i % 2 == 0 ? "plain-first" : "efnotify-first")},{plain:0.0},{EfNotify[i]:0.0}"))
            .Prepend("round,order,plain_us,efnotify_us"));
        return path;
    }

    private static double Median(double[] values) => MedianInPlace([.. values]);

    private static double MedianInPlace(double[] values)
    {
        Array.Sort(values);
        var middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
