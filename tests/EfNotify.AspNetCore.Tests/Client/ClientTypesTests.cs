using System.Diagnostics;
using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.AspNetCore.Tests.Client;

/// <summary>
/// Issue 14: efnotify.js has TypeScript declarations that a typed consumer compiles against (tsc from the repository's
/// node_modules). Without Node or TypeScript the test skips, and fails under CI=true.
/// </summary>
public sealed class ClientTypesTests
{
    [TypeScriptFact]
    public async Task A_typed_consumer_of_the_client_compiles_with_tsc_and_its_expected_errors_are_errors()
    {
        var root = RepositoryRoot();
        var tsc = TypeScriptFactAttribute.Tsc(root);
        var project = Path.Combine(root, "tests", "EfNotify.AspNetCore.Tests", "Client", "tsconfig.json");
        var start = new ProcessStartInfo("node", ["--", tsc, "-p", project, "--pretty", "false"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(process.ExitCode == 0, $"tsc exited with {process.ExitCode}:\n{await output}{await error}");
    }

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EfNotify.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"EfNotify.sln not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>A fact that needs Node.js and TypeScript (npm ci): skipped with the reason when missing, but run (and failed) under CI=true.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class TypeScriptFactAttribute : FactAttribute
{
    public TypeScriptFactAttribute()
    {
        if (!SoketiServer.IsCi && !File.Exists(Tsc(ClientTypesTests.RepositoryRoot())))
        {
            Skip = "TypeScript is not installed: run 'npm ci' at the repository root";
        }
    }

    internal static string Tsc(string root) => Path.Combine(root, "node_modules", "typescript", "bin", "tsc");
}
