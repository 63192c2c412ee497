using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting;

namespace EfNotify.Benchmarks.Load;

/// <summary>
/// <c>idle [--seconds S] [--postgres CONN]</c>: what an instance costs while nothing is committed, beside the floor of
/// the runtime. Three processes of this tool on one database: a bare generic host (nothing registered; the same
/// runtime and settings), an application host that leads, and one that stands by. Their CPU is read from outside
/// (/proc), in windows of 10 s for S seconds (default 60), so the measurement adds nothing to what it measures; the
/// methods each process JIT-compiled per window show when the runtime has settled. See README.md.
/// </summary>
internal static class IdleCommand
{
    private const string Usage = "idle [--seconds S] [--postgres CONN]";
    private const int WindowSeconds = 10;

    public static int Run(string[] args)
    {
        if (!Args.TakePostgres(ref args, Usage))
        {
            return 2;
        }

        if (args is ["--child", var role])
        {
            return RunChildAsync(role).GetAwaiter().GetResult();
        }

        if (!Args.TryParse(args, Usage, out _, out var options, "--seconds") || options.GetValueOrDefault("--seconds", 60) < WindowSeconds)
        {
            Console.Error.WriteLine($"usage: {Usage} (S at least {WindowSeconds})");
            return 2;
        }

        Args.Print(RunAsync(options.GetValueOrDefault("--seconds", 60)).GetAwaiter().GetResult());
        return 0;
    }

    public static async Task<Dictionary<string, string>> RunAsync(int seconds)
    {
        await using var soketi = await SoketiProcess.StartAsync();
        await using var owner = await LoadHost.CreateAsync(soketi.Options, o => o.DispatcherEnabled = false);
        Console.WriteLine($"idle: {LoadHost.StorageName}, {seconds} s in windows of {WindowSeconds} s");
        var children = new List<Child>();
        try
        {
            // The leader first, so that the second application host stands by from its start.
            children.Add(new Child("leader", soketi, owner.DatabaseArgument));
            await children[0].WaitForAsync("leads", TimeSpan.FromSeconds(60));
            children.Add(new Child("standby", soketi, owner.DatabaseArgument));
            children.Add(new Child("bare", soketi, owner.DatabaseArgument));
            await Task.WhenAll(children.Skip(1).Select(c => c.WaitForAsync("started", TimeSpan.FromSeconds(60))));

            var rows = new List<(string, string)> { ("database", LoadHost.StorageName) };
            var last = new Dictionary<string, double>();
            var before = children.ToDictionary(c => c, c => (Cpu: c.Cpu, Jit: 0L));
            foreach (var child in children)
            {
                before[child] = (child.Cpu, await child.CompiledAsync());
            }

            for (var window = 1; window * WindowSeconds <= seconds; window++)
            {
                var started = Stopwatch.GetTimestamp();
                await Task.Delay(TimeSpan.FromSeconds(WindowSeconds));
                var elapsed = Stopwatch.GetElapsedTime(started);
                var cells = new List<string>();
                foreach (var child in children)
                {
                    var (cpu, jit) = (child.Cpu, await child.CompiledAsync());
                    last[child.Role] = (cpu - before[child].Cpu) / elapsed * 100;
                    cells.Add($"{child.Role} {last[child.Role]:0.00} % ({jit - before[child].Jit} JIT-compiled)");
                    before[child] = (cpu, jit);
                }

                rows.Add(($"{(window - 1) * WindowSeconds}–{window * WindowSeconds} s, % of one core", string.Join(", ", cells)));
            }

            rows.Add(("load average (1, 5, 15 min) at the end", Measure.LoadAverage()));
            Args.PrintTable("idle", rows);
            var suffix = LoadHost.UsePostgres ? "_postgres" : "";
            return children.ToDictionary(c => $"idle_{c.Role}{suffix}_cpu_percent", c => Args.Format(last[c.Role]));
        }
        finally
        {
            foreach (var child in children)
            {
                await child.DisposeAsync();
            }
        }
    }

    /// <summary>A child: builds its host, says so, then answers each line on stdin with the methods its JIT compiled so far.</summary>
    private static async Task<int> RunChildAsync(string role)
    {
        IHost? bare = null;
        LoadHost? app = null;
        if (role == "bare")
        {
            bare = Host.CreateApplicationBuilder().Build();
            await bare.StartAsync();
            Console.WriteLine("started");
        }
        else
        {
            app = await LoadHost.CreateAsync(LoadInstance.ChildPusherOptions());
            await app.StartAsync();
            if (role == "leader")
            {
                await LeadingLoggerProvider.Leading.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }

            Console.WriteLine(role == "leader" ? "leads" : "started");
        }

        // Blocked on stdin between questions: the only work of this tool in the process.
        while (Console.In.ReadLine() is not null)
        {
            Console.WriteLine(System.Runtime.JitInfo.GetCompiledMethodCount().ToString(CultureInfo.InvariantCulture));
        }

        if (app is not null)
        {
            await app.DisposeAsync();
        }

        if (bare is not null)
        {
            await bare.StopAsync();
            bare.Dispose();
        }

        return 0;
    }

    private sealed class Child : IAsyncDisposable
    {
        private readonly Process _process;

        public Child(string role, SoketiProcess soketi, string database)
        {
            Role = role;
            _process = LoadInstance.StartChild(["idle", "--child", role], soketi, database);
        }

        public string Role { get; }

        public TimeSpan Cpu => Measure.ProcessorTime(_process.Id);

        public async Task WaitForAsync(string expected, TimeSpan timeout)
        {
            while (await _process.StandardOutput.ReadLineAsync().WaitAsync(timeout) is { } line)
            {
                if (line == expected)
                {
                    return;
                }

                Console.Error.WriteLine($"{Role}: {line}");
            }

            throw new InvalidOperationException($"the {Role} process ended before it said '{expected}'");
        }

        public async Task<long> CompiledAsync()
        {
            await _process.StandardInput.WriteLineAsync();
            await _process.StandardInput.FlushAsync();
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (long.TryParse(line, CultureInfo.InvariantCulture, out var compiled))
                {
                    return compiled;
                }

                Console.Error.WriteLine($"{Role}: {line}"); // a warning the host logged meanwhile
            }

            return -1;
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                _process.StandardInput.Close();
                await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or IOException or InvalidOperationException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }
    }
}
