using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using EfNotify.Pusher;

namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>
/// Runs tests/EfNotify.TestWorker (built before this project through a ProjectReference that references no assembly) as a
/// process of its own, reads the sequences it reports as committed and kills it (SIGKILL, no shutdown) when told.
/// </summary>
public static class TestWorker
{
    /// <summary>The worker's dll: the path the project file stamps into this assembly for the current configuration.</summary>
    public static string DllPath
    {
        get
        {
            var path = typeof(TestWorker).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "EfNotify.TestWorker").Value!;
            return File.Exists(path)
                ? Path.GetFullPath(path)
                : throw new InvalidOperationException($"The test worker is not built at {path}; build EfNotify.IntegrationTests, which builds it.");
        }
    }

    /// <summary>
    /// Starts a worker committing sequences <paramref name="from"/> up to <paramref name="to"/> (exclusive) and kills it after
    /// it reported <paramref name="killAfter"/> commits (or lets it finish when that many never come).
    /// </summary>
    /// <returns>Every sequence it reported, including those printed between the kill decision and the kill.</returns>
    public static async Task<IReadOnlyList<int>> RunAsync(
        string database, PusherOptions pusher, int from, int to, bool dispatcher, int killAfter, TimeSpan timeout)
    {
        await using var worker = Start(database, pusher, from, to, dispatcher, killAfter: killAfter);
        try
        {
            await worker.WaitForExitAsync(timeout);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The worker did not report {killAfter} commits or exit within {timeout}; stderr:\n{worker.Errors}");
        }

        if (!worker.Killed && worker.ExitCode != 0)
        {
            throw new InvalidOperationException($"The worker failed with exit code {worker.ExitCode}:\n{worker.Errors}");
        }

        return worker.Committed;
    }

    /// <summary>
    /// Starts a worker committing sequences <paramref name="from"/> up to <paramref name="to"/> (exclusive), one every
    /// <paramref name="intervalMs"/> at most, killed once it reported <paramref name="killAfter"/> commits (if given).
    /// </summary>
    public static WorkerProcess Start(
        string database, PusherOptions pusher, int from, int to, bool dispatcher, int intervalMs = 0, int killAfter = int.MaxValue)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "exec", DllPath,
                     database.Contains('=', StringComparison.Ordinal) ? "--postgres" : "--sqlite", database,
                     "--pusher-app", pusher.AppId, "--pusher-key", pusher.Key, "--pusher-secret", pusher.Secret,
                     "--pusher-host", pusher.Host!, "--pusher-port", pusher.Port!.Value.ToString(CultureInfo.InvariantCulture),
                     "--from", from.ToString(CultureInfo.InvariantCulture), "--to", to.ToString(CultureInfo.InvariantCulture),
                     "--dispatcher", dispatcher ? "true" : "false", "--interval-ms", intervalMs.ToString(CultureInfo.InvariantCulture),
                 })
        {
            start.ArgumentList.Add(argument);
        }

        return new WorkerProcess(start, killAfter);
    }

    /// <summary>The sequence a Card notification carries in its Notes value.</summary>
    public static (string Id, string Notes) Read(ReceivedEvent received)
    {
        using var data = JsonDocument.Parse(received.Data);
        var root = data.RootElement;
        return (root.GetProperty("id").GetString()!, root.GetProperty("values").GetProperty("Notes").GetString() ?? "");
    }
}

/// <summary>A running test worker: the sequences it reported as committed, and a kill (SIGKILL) by its own handle.</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<int> _committed = [];
    private readonly System.Text.StringBuilder _errors = new();
    private readonly Task _reading;
    private readonly int _killAfter;

    internal WorkerProcess(ProcessStartInfo start, int killAfter)
    {
        _killAfter = killAfter;
        _process = new Process { StartInfo = start };
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_errors)
            {
                _errors.AppendLine(e.Data);
            }
        };
        _process.Start();
        _process.BeginErrorReadLine();
        _reading = ReadAsync();
    }

    public bool Killed { get; private set; }

    public int ExitCode => _process.ExitCode;

    public bool HasExited => _process.HasExited;

    /// <summary>Every sequence it reported, including those printed between a kill decision and the kill.</summary>
    public IReadOnlyList<int> Committed
    {
        get
        {
            lock (_committed)
            {
                return _committed.ToList();
            }
        }
    }

    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <summary>Kills the worker at once (SIGKILL: no shutdown, its dispatcher's lock goes with the process).</summary>
    public void Kill()
    {
        if (!Killed)
        {
            Killed = true;
            _process.Kill(entireProcessTree: true);
        }
    }

    /// <exception cref="OperationCanceledException">It did not exit within <paramref name="timeout"/>.</exception>
    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        await _reading.WaitAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        await WaitForExitAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    private async Task ReadAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            lock (_committed)
            {
                _committed.Add(int.Parse(line["committed ".Length..], CultureInfo.InvariantCulture));
                if (_committed.Count >= _killAfter)
                {
                    Kill(); // lines already in the pipe are still read: those commits happened
                }
            }
        }
    }
}
