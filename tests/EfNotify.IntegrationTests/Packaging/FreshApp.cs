using System.Diagnostics;
using System.Text;

namespace EfNotify.IntegrationTests.Packaging;

/// <summary>
/// A new web application in a temporary folder outside the repository, as a user starts one: it knows EfNotify only
/// through the packed packages in a local folder feed, and gets no build settings of the repository's.
/// </summary>
internal sealed class FreshApp : IDisposable
{
    private FreshApp(string folder) => Folder = folder;

    public string Folder { get; }

    public string Feed => Path.Combine(Folder, "feed");

    public string Project => Path.Combine(Folder, "app");

    public static FreshApp Create() => new(Directory.CreateTempSubdirectory("efnotify-fresh-app-").FullName);

    public void Write(string version)
    {
        Directory.CreateDirectory(Feed);
        Directory.CreateDirectory(Project);
        // Stop MSBuild and NuGet from looking further up for settings of their own.
        File.WriteAllText(Path.Combine(Folder, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(Folder, "Directory.Packages.props"), "<Project />");
        File.WriteAllText(Path.Combine(Folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="efnotify-local" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(Project, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="EfNotify.AspNetCore" Version="{version}" />
                <PackageReference Include="Microsoft.EntityFrameworkCore.Sqlite" Version="10.0.15" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(Project, "Program.cs"), """
            using EfNotify;
            using Microsoft.EntityFrameworkCore;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddEfNotify<AppDb>().AddPusher()
                .AddAspNetCore<AppDb>(o => o.AllowList<Order>(user => user.Identity?.IsAuthenticated == true));
            builder.Services.AddDbContext<AppDb>((sp, o) => o.UseSqlite("Data Source=app.db").UseEfNotify(sp));

            var app = builder.Build();
            await using (var scope = app.Services.CreateAsyncScope())
            {
                await scope.ServiceProvider.GetRequiredService<AppDb>().Database.EnsureCreatedAsync();
            }

            app.MapStaticAssets();
            app.MapEfNotify();
            app.MapPost("/orders", async (AppDb db) =>
            {
                var order = new Order { Status = "new" };
                db.Orders.Add(order);
                await db.SaveChangesAsync();
                return order.Id;
            });
            app.Run();

            [Notify("changed")]
            public class Order
            {
                public int Id { get; set; }

                public string Status { get; set; } = "";
            }

            public class AppDb(DbContextOptions<AppDb> options) : DbContext(options)
            {
                public DbSet<Order> Orders => Set<Order>();

                protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddEfNotifyOutbox();
            }
            """);
    }

    /// <summary>Runs dotnet to its end; fails with its output when it fails or outlives <paramref name="timeout"/>.</summary>
    public static async Task RunAsync(string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        using var process = Start(workingDirectory, arguments, new Dictionary<string, string>());
        var output = Collect(process);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} took more than {timeout.TotalSeconds:0} s:\n{output}");
        }

        await process.WaitForExitAsync(); // the output's last lines
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{output}");
        }
    }

    public static Process Start(string workingDirectory, string[] arguments, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test run's own MSBuild settings must not leak into the user's build.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
    }

    public static StringBuilder Collect(Process process)
    {
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return output;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process that is ending; the temporary folder is left for the system to clean.
        }
    }
}

/// <summary>Where this test run's repository and build output are.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "EfNotify.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No EfNotify.sln above {AppContext.BaseDirectory}");
    }
}
