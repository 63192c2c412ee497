using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace EfNotify.Benchmarks.Load;

/// <summary>One application process of <c>e2e --instances</c>: it reports when it leads and what it committed when.</summary>
internal sealed class LoadInstance : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<(long Seq, long At)> _commits = new();
    private readonly ConcurrentQueue<(long Seq, long At)> _failover = new();
    private readonly List<long> _compiled = [];
    private readonly TaskCompletionSource _measured = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _leads;

    public LoadInstance(int index, SoketiProcess soketi, string database, int instances, int rate, int seconds, long failoverFirst)
    {
        Index = index;
        _process = StartChild(
            [
                "e2e", "--child", index.ToString(CultureInfo.InvariantCulture),
                "--instances", instances.ToString(CultureInfo.InvariantCulture), "--rate", rate.ToString(CultureInfo.InvariantCulture),
                "--seconds", seconds.ToString(CultureInfo.InvariantCulture),
                "--failover-first", failoverFirst.ToString(CultureInfo.InvariantCulture),
            ],
            soketi,
            database);
        _process.OutputDataReceived += (_, e) => Read(e.Data);
        _process.BeginOutputReadLine();
    }

    public int Index { get; }

    /// <summary>
    /// Starts this program again with <paramref name="arguments"/> (and <c>--postgres shared</c> on PostgreSQL), its
    /// standard input and output redirected, and tells it the shared database and soketi (<see cref="ChildPusherOptions"/>).
    /// </summary>
    public static Process StartChild(IEnumerable<string> arguments, SoketiProcess soketi, string database)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[] { "exec", typeof(LoadInstance).Assembly.Location }.Concat(arguments).Concat(LoadHost.UsePostgres ? ["--postgres", "shared"] : []))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["EFNOTIFY_LOAD_DATABASE"] = database;
        info.Environment["EFNOTIFY_LOAD_APP"] = soketi.Options.AppId;
        info.Environment["EFNOTIFY_LOAD_KEY"] = soketi.Options.Key;
        info.Environment["EFNOTIFY_LOAD_SECRET"] = soketi.Options.Secret;
        info.Environment["EFNOTIFY_LOAD_PORT"] = soketi.Options.Port!.Value.ToString(CultureInfo.InvariantCulture);
        return Process.Start(info)!;
    }

    /// <summary>In a process started by <see cref="StartChild"/>: the shared database, and the soketi to publish to.</summary>
    public static Pusher.PusherOptions ChildPusherOptions()
    {
        LoadHost.SharedDatabase = Environment.GetEnvironmentVariable("EFNOTIFY_LOAD_DATABASE");
        return new Pusher.PusherOptions
        {
            AppId = Environment.GetEnvironmentVariable("EFNOTIFY_LOAD_APP")!, Key = Environment.GetEnvironmentVariable("EFNOTIFY_LOAD_KEY")!,
            Secret = Environment.GetEnvironmentVariable("EFNOTIFY_LOAD_SECRET")!, Host = "127.0.0.1",
            Port = int.Parse(Environment.GetEnvironmentVariable("EFNOTIFY_LOAD_PORT")!, CultureInfo.InvariantCulture), UseTls = false,
        };
    }

    public bool Leads => _leads;

    public IEnumerable<(long Seq, long At)> Commits => _commits;

    public IEnumerable<(long Seq, long At)> FailoverCommits => _failover;

    /// <summary>Whether the JIT compiled fewer than 50 methods in each of the last two seconds of warm-up (after 3 s at least).</summary>
    public bool Settled
    {
        get
        {
            lock (_compiled)
            {
                return _compiled.Count >= 3 && _compiled[^1] < E2eCommand.JitSettledPerSecond && _compiled[^2] < E2eCommand.JitSettledPerSecond;
            }
        }
    }

    /// <summary>Methods the JIT compiled in the last second of warm-up reported.</summary>
    public long LastCompiled
    {
        get
        {
            lock (_compiled)
            {
                return _compiled.Count > 0 ? _compiled[^1] : -1;
            }
        }
    }

    /// <summary>Tells the instance when its measured commits start (a <see cref="Stopwatch"/> timestamp).</summary>
    public void Start(long timestamp)
    {
        _process.StandardInput.WriteLine(string.Create(CultureInfo.InvariantCulture, $"start {timestamp}"));
        _process.StandardInput.Flush();
    }

    public async Task MeasuredAsync(TimeSpan timeout) => await _measured.Task.WaitAsync(timeout);

    /// <summary>Measured commits this instance did not make by its deadline (the machine did not keep up).</summary>
    public long Skipped { get; private set; }

    /// <summary>The CPU this process used while it made no commits, in % of one core (NaN until reported).</summary>
    public double IdleCpuPercent { get; private set; } = double.NaN;

    /// <summary>Methods the JIT compiled while this process was idle (0 until reported).</summary>
    public long IdleCompiled { get; private set; }

    /// <summary>The CPU this process used while it made its measured commits, in % of one core, and the methods the JIT compiled meanwhile.</summary>
    public (double CpuPercent, long Compiled) Measured { get; private set; } = (double.NaN, 0);

    public async Task IdleAsync(TimeSpan timeout) => await _idle.Task.WaitAsync(timeout);

    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close(); // the instance stops committing and exits
            await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or InvalidOperationException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Read(string? line)
    {
        var parts = line?.Split(' ');
        switch (parts)
        {
            case ["leads"]:
                _leads = true;
                break;
            case ["jit", var compiled]:
                lock (_compiled)
                {
                    _compiled.Add(long.Parse(compiled, CultureInfo.InvariantCulture));
                }

                break;
            case ["measured", var skipped, var percent, var compiled]:
                Skipped = long.Parse(skipped, CultureInfo.InvariantCulture);
                Measured = (double.Parse(percent, CultureInfo.InvariantCulture), long.Parse(compiled, CultureInfo.InvariantCulture));
                _measured.TrySetResult();
                break;
            case ["idle", var percent, var compiled]:
                IdleCpuPercent = double.Parse(percent, CultureInfo.InvariantCulture);
                IdleCompiled = long.Parse(compiled, CultureInfo.InvariantCulture);
                _idle.TrySetResult();
                break;
            case ["c" or "f", var seq, var at]:
                (parts[0] == "c" ? _commits : _failover).Enqueue((long.Parse(seq, CultureInfo.InvariantCulture), long.Parse(at, CultureInfo.InvariantCulture)));
                break;
            default:
                if (line is not null)
                {
                    Console.Error.WriteLine($"instance {Index}: {line}");
                }

                break;
        }
    }
}
