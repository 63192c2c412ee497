using System.Diagnostics;
using System.Text;
using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.IntegrationTests.Migrations;

/// <summary>
/// A new application in a temporary folder, as a user would write it (Migrations/ScratchApp: every [Notify] option,
/// UseEfNotify in its normal registration), referencing src/EfNotify by project path, with a migration for SQLite
/// and one for PostgreSQL scaffolded by the real <c>dotnet ef</c> tool (installed into .tools/ of the repository when
/// missing). Built and scaffolded once for the test class; any failure fails every test of the class.
/// </summary>
public sealed class ScratchProject : IAsyncLifetime
{
    public const string ToolVersion = "10.0.15";
    public const string MigrationName = "AddEfNotify";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    private string _root = "";
    private string _tool = "";

    /// <summary>The project folder.</summary>
    public string Folder { get; private set; } = "";

    /// <summary>The built application.</summary>
    public string Dll => Path.Combine(Folder, "bin", "Release", "net10.0", "ScratchApp.dll");

    public static string Context(string provider) => provider == "postgres" ? "PostgresShopDb" : "SqliteShopDb";

    /// <summary>The folder holding the migration of <paramref name="provider"/> (sqlite or postgres).</summary>
    public string MigrationsDirectory(string provider) => Path.Combine(Folder, "Migrations", provider);

    public async Task InitializeAsync()
    {
        _root = SoketiServer.RepositoryRoot;
        _tool = await InstallToolAsync(_root);
        Folder = Directory.CreateTempSubdirectory("efnotify-migrations-").FullName;
        WriteProject();
        await BuildAsync();
        // Scaffolding needs no database; the connection strings only satisfy the application's registration. One after
        // the other: each run of the tool copies its build host into the project's output, and two at once collide
        // there ("The file '…/BuildHost-net472/pt-BR/System.CommandLine.resources.dll' already exists", seen in CI).
        await DotnetEfAsync("sqlite", "Data Source=unused.db", "migrations", "add", MigrationName, "--output-dir", "Migrations/sqlite");
        await DotnetEfAsync("postgres", "Host=127.0.0.1;Database=unused", "migrations", "add", MigrationName, "--output-dir", "Migrations/postgres");
        await BuildAsync();
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // a temporary folder; the operating system cleans it up eventually
        }

        return Task.CompletedTask;
    }

    /// <summary>Runs <c>dotnet ef database update</c> for the provider's context against <paramref name="connectionString"/>.</summary>
    public Task<string> DatabaseUpdateAsync(string provider, string connectionString)
        => DotnetEfAsync(provider, connectionString, "database", "update");

    /// <summary>
    /// Runs the application: it migrates (a no-op after <c>database update</c>), saves, and waits until the dispatcher has
    /// published the outbox to <paramref name="server"/>; returns what it printed.
    /// </summary>
    public Task<string> RunAsync(string provider, string connectionString, SoketiServer server)
        => RunCommandAsync("dotnet", ["exec", Dll], Environment(provider, connectionString, server));

    private void WriteProject()
    {
        // Package versions come from the repository's central list, as for every EfNotify project.
        File.WriteAllText(Path.Combine(Folder, "Directory.Build.props"), """
            <Project>
              <PropertyGroup>
                <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(Folder, "Directory.Packages.props"), $"""
            <Project>
              <Import Project="{Path.Combine(_root, "Directory.Packages.props")}" />
            </Project>
            """);
        File.WriteAllText(Path.Combine(Folder, "ScratchApp.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{Path.Combine(_root, "src", "EfNotify", "EfNotify.csproj")}" />
                <ProjectReference Include="{Path.Combine(_root, "src", "EfNotify.Pusher", "EfNotify.Pusher.csproj")}" />
                <PackageReference Include="Microsoft.EntityFrameworkCore.Sqlite" />
                <PackageReference Include="Npgsql.EntityFrameworkCore.PostgreSQL" />
                <PackageReference Include="Microsoft.Extensions.Hosting" />
                <PackageReference Include="Microsoft.EntityFrameworkCore.Design" PrivateAssets="all" />
              </ItemGroup>
            </Project>
            """);
        foreach (var source in Directory.GetFiles(Path.Combine(_root, "tests", "EfNotify.IntegrationTests", "Migrations", "ScratchApp"), "*.cs"))
        {
            File.Copy(source, Path.Combine(Folder, Path.GetFileName(source)));
        }
    }

    // Release, as the tests are built: the referenced EfNotify projects are then up to date and not built again.
    private Task BuildAsync() => RunCommandAsync("dotnet", ["build", Folder, "-c", "Release", "-nologo", "-v", "q"]);

    private Task<string> DotnetEfAsync(string provider, string connectionString, params string[] arguments)
        => RunCommandAsync(
            _tool,
            [.. arguments, "--project", Folder, "--context", Context(provider), "--configuration", "Release", "--no-build"],
            Environment(provider, connectionString, server: null));

    private static Dictionary<string, string> Environment(string provider, string connectionString, SoketiServer? server)
    {
        var environment = new Dictionary<string, string>
        {
            ["Database__Provider"] = provider,
            ["ConnectionStrings__Shop"] = connectionString,
        };
        if (server is not null)
        {
            environment["EfNotify__Pusher__AppId"] = server.AppId;
            environment["EfNotify__Pusher__Key"] = server.Key;
            environment["EfNotify__Pusher__Secret"] = server.Secret;
            environment["EfNotify__Pusher__Host"] = server.Host;
            environment["EfNotify__Pusher__Port"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            environment["EfNotify__Pusher__UseTls"] = "false";
        }

        return environment;
    }

    /// <summary>
    /// The dotnet-ef tool of <see cref="ToolVersion"/>, installed into the repository's .tools folder when missing, so a
    /// fresh machine with NuGet needs nothing more. A failed installation fails the tests (locally and on CI).
    /// </summary>
    private static async Task<string> InstallToolAsync(string root)
    {
        var directory = Path.Combine(root, ".tools", "dotnet-ef-" + ToolVersion);
        var tool = Path.Combine(directory, OperatingSystem.IsWindows() ? "dotnet-ef.exe" : "dotnet-ef");
        if (!File.Exists(tool))
        {
            await RunCommandAsync("dotnet", ["tool", "install", "dotnet-ef", "--version", ToolVersion, "--tool-path", directory]);
        }

        return tool;
    }

    private static async Task<string> RunCommandAsync(string fileName, IReadOnlyList<string> arguments, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // `dotnet test` hands MSBuild's own settings to the test process; a nested build must find its SDK afresh.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? [])
        {
            start.Environment[name] = value;
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{fileName} {string.Join(' ', arguments)}' did not end within {CommandTimeout}:\n{Text()}");
        }

        process.WaitForExit(); // the output's last lines
        return process.ExitCode == 0
            ? Text()
            : throw new InvalidOperationException($"'{fileName} {string.Join(' ', arguments)}' failed with exit code {process.ExitCode}:\n{Text()}");

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }

        string Text()
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }
}
