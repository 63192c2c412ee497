using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.IntegrationTests.Topology;

/// <summary>A pusher-js subscriber in a Node process of its own (subscriber.mjs), connected to one soketi node.</summary>
public sealed class NodeSubscriber : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<JsonElement> _lines = new();
    private readonly StringBuilder _errors = new();

    private NodeSubscriber(Process process) => _process = process;

    public IReadOnlyList<(string Channel, string Data)> Events
        => _lines.Where(l => l.GetProperty("type").GetString() == "event")
            .Select(l => (l.GetProperty("channel").GetString()!, l.GetProperty("data").GetString()!)).ToList();

    /// <summary>The socket id of the current connection, or <see langword="null"/> before it connected.</summary>
    public string? SocketId => _lines.LastOrDefault(l => l.GetProperty("type").GetString() == "state") is { ValueKind: JsonValueKind.Object } state
        && state.GetProperty("socket").ValueKind == JsonValueKind.String ? state.GetProperty("socket").GetString() : null;

    /// <summary>The members of the presence channel as last reported.</summary>
    public IReadOnlyList<string> Members => _lines.LastOrDefault(l => l.GetProperty("type").GetString() == "members") is { ValueKind: JsonValueKind.Object } members
        ? members.GetProperty("ids").EnumerateArray().Select(i => i.GetString()!).ToList()
        : [];

    public static async Task<NodeSubscriber> StartAsync(SoketiServer node, string user, string presence, IEnumerable<string> channels, TimeSpan timeout)
    {
        var root = SoketiServer.RepositoryRoot!;
        var script = Path.Combine(root, "tests", "EfNotify.IntegrationTests", "Topology", "subscriber.mjs");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        var list = channels.ToList();
        foreach (var argument in new[] { script, root, node.Port.ToString(CultureInfo.InvariantCulture), node.Key, node.Secret, user, presence }.Concat(list))
        {
            start.ArgumentList.Add(argument);
        }

        var subscriber = new NodeSubscriber(Process.Start(start)!);
        subscriber._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                subscriber._lines.Enqueue(JsonDocument.Parse(line).RootElement.Clone());
            }
        };
        subscriber._process.ErrorDataReceived += (_, e) =>
        {
            lock (subscriber._errors)
            {
                subscriber._errors.AppendLine(e.Data);
            }
        };
        subscriber._process.BeginOutputReadLine();
        subscriber._process.BeginErrorReadLine();
        try
        {
            await subscriber.UntilAsync(
                () => subscriber._lines.Count(l => l.GetProperty("type").GetString() == "subscribed") == list.Count + 1, timeout, $"{user} to subscribe");
            return subscriber;
        }
        catch
        {
            await subscriber.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits for <paramref name="condition"/>; a timeout names what the subscriber printed on stderr.</summary>
    public async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        try
        {
            await Eventually.UntilAsync(() => _process.HasExited ? throw new InvalidOperationException($"the subscriber exited: {Errors}") : condition(), timeout, what);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"{exception.Message} Subscriber's stderr: {Errors}", exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await RedisServer.StopAsync(_process);
    }

    private string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }
}
