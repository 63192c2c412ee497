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
    private readonly TaskCompletionSource _measured = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _leads;

    public LoadInstance(int index, SoketiProcess soketi, string database, int instances, int rate, int seconds, long start, long failoverFirst)
    {
        Index = index;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[]
                 {
                     "exec", typeof(InstancesCommand).Assembly.Location, "e2e", "--child", index.ToString(CultureInfo.InvariantCulture),
                     "--instances", instances.ToString(CultureInfo.InvariantCulture), "--rate", rate.ToString(CultureInfo.InvariantCulture),
                     "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--start", start.ToString(CultureInfo.InvariantCulture),
                     "--failover-first", failoverFirst.ToString(CultureInfo.InvariantCulture),
                 }.Concat(LoadHost.UsePostgres ? ["--postgres", "shared"] : []))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["EFNOTIFY_LOAD_DATABASE"] = database;
        info.Environment["EFNOTIFY_LOAD_APP"] = soketi.Options.AppId;
        info.Environment["EFNOTIFY_LOAD_KEY"] = soketi.Options.Key;
        info.Environment["EFNOTIFY_LOAD_SECRET"] = soketi.Options.Secret;
        info.Environment["EFNOTIFY_LOAD_PORT"] = soketi.Options.Port!.Value.ToString(CultureInfo.InvariantCulture);
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => Read(e.Data);
        _process.BeginOutputReadLine();
    }

    public int Index { get; }

    public bool Leads => _leads;

    public IEnumerable<(long Seq, long At)> Commits => _commits;

    public IEnumerable<(long Seq, long At)> FailoverCommits => _failover;

    public async Task MeasuredAsync(TimeSpan timeout) => await _measured.Task.WaitAsync(timeout);

    /// <summary>Measured commits this instance did not make by its deadline (the machine did not keep up).</summary>
    public long Skipped { get; private set; }

    /// <summary>The CPU this process used while it made no commits, in % of one core (NaN until reported).</summary>
    public double IdleCpuPercent { get; private set; } = double.NaN;

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
            case ["measured", var skipped]:
                Skipped = long.Parse(skipped, CultureInfo.InvariantCulture);
                _measured.TrySetResult();
                break;
            case ["idle", var percent]:
                IdleCpuPercent = double.Parse(percent, CultureInfo.InvariantCulture);
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
