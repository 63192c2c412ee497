using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
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
                     "--dispatcher", dispatcher ? "true" : "false",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var errors = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        var committed = new List<int>();
        using var deadline = new CancellationTokenSource(timeout);
        var killed = false;
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                committed.Add(int.Parse(line["committed ".Length..], CultureInfo.InvariantCulture));
                if (!killed && committed.Count >= killAfter)
                {
                    process.Kill(entireProcessTree: true);
                    killed = true; // lines already in the pipe are still read: those commits happened
                }
            }

            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The worker did not report {killAfter} commits or exit within {timeout}; stderr:\n{errors}");
        }

        if (!killed && process.ExitCode != 0)
        {
            lock (errors)
            {
                throw new InvalidOperationException($"The worker failed with exit code {process.ExitCode}:\n{errors}");
            }
        }

        return committed;
    }

    /// <summary>The sequence a Card notification carries in its Notes value.</summary>
    public static (string Id, string Notes) Read(ReceivedEvent received)
    {
        using var data = JsonDocument.Parse(received.Data);
        var root = data.RootElement;
        return (root.GetProperty("id").GetString()!, root.GetProperty("values").GetProperty("Notes").GetString() ?? "");
    }
}
