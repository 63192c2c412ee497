using System.Text.Json;
using EfNotify.IntegrationTests.Infrastructure;

namespace EfNotify.IntegrationTests.Migrations;

/// <summary>
/// Issue 10: `dotnet ef migrations add` and `dotnet ef database update`, run by the real tool on a new application that
/// uses every [Notify] option, scaffold and apply the outbox table, and a save through the migrated database is
/// published. Before the fix the scaffolding failed with "Cannot scaffold C# literals of type NotificationDefinition".
/// </summary>
public sealed class MigrationsToolTests(ScratchProject project) : IClassFixture<ScratchProject>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void Migrations_add_scaffolds_the_outbox_table_and_its_index_and_nothing_of_the_notification_definitions(string provider)
    {
        var files = Directory.GetFiles(project.MigrationsDirectory(provider), "*.cs");
        var migration = File.ReadAllText(Assert.Single(files, f => f.EndsWith($"_{ScratchProject.MigrationName}.cs", StringComparison.Ordinal)));
        Assert.Contains("name: \"EfNotifyOutbox\"", migration, StringComparison.Ordinal);
        Assert.Contains("name: \"IX_EfNotifyOutbox_Status\"", migration, StringComparison.Ordinal);
        Assert.Contains("name: \"Orders\"", migration, StringComparison.Ordinal);
        Assert.Contains(files, f => f.EndsWith("ModelSnapshot.cs", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain("EfNotify:", text, StringComparison.Ordinal); // no annotation of EfNotify's
            Assert.DoesNotContain("NotificationDefinition", text, StringComparison.Ordinal);
            Assert.DoesNotContain("ChatRoom", text, StringComparison.Ordinal); // HasNotifyName is not a database concern
        }
    }

    [SoketiFact]
    public async Task Database_update_applies_the_migration_to_sqlite_and_a_save_through_it_is_published()
    {
        var database = Path.Combine(project.Folder, $"shop-{Guid.NewGuid():N}.db");
        await UpdateRunAndReceiveAsync("sqlite", $"Data Source={database}");
    }

    [PostgresFact]
    public Task Database_update_applies_the_migration_to_postgresql_and_a_save_through_it_is_published()
        => PostgresServer.WithDatabaseAndSoketiAsync(connectionString => UpdateRunAndReceiveAsync("postgres", connectionString));

    private async Task UpdateRunAndReceiveAsync(string provider, string connectionString)
    {
        var update = await project.DatabaseUpdateAsync(provider, connectionString);
        Assert.Contains(ScratchProject.MigrationName, update, StringComparison.Ordinal);

        await using var server = await SoketiServer.StartAsync();
        await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
        foreach (var channel in new[] { "private-Order.5", "private-ChatRoom.7", "private-Product" })
        {
            await subscriber.SubscribeAsync(channel);
        }

        var output = await project.RunAsync(provider, connectionString, server);
        Assert.Contains($"applied: {Path.GetFileNameWithoutExtension(MigrationFile(provider))}", output, StringComparison.Ordinal);

        // Attribute: "changed" (added, then modified); WhenChanged and IncludeValues: "shipped" with the status.
        await subscriber.WaitForEventsAsync(2, e => e is { Channel: "private-Order.5", Name: "changed" }, Deadline);
        var shipped = await subscriber.WaitForEventAsync(e => e is { Channel: "private-Order.5", Name: "shipped" }, Deadline);
        Assert.Equal("shipped", Values(shipped).GetProperty("Status").GetString());
        // Via (attribute and fluent) to the principal under its HasNotifyName name.
        await subscriber.WaitForEventAsync(e => e is { Channel: "private-ChatRoom.7", Name: "newMessage" }, Deadline);
        await subscriber.WaitForEventAsync(e => e is { Channel: "private-ChatRoom.7", Name: "edited" }, Deadline);
        // The fluent ToList wins over the attribute's object channel.
        var product = await subscriber.WaitForEventAsync(e => e is { Channel: "private-Product", Name: "changed" }, Deadline);
        Assert.Equal("Lamp", Values(product).GetProperty("Name").GetString());
    }

    private string MigrationFile(string provider)
        => Directory.GetFiles(project.MigrationsDirectory(provider), $"*_{ScratchProject.MigrationName}.cs").Single();

    private static JsonElement Values(ReceivedEvent received)
    {
        using var data = JsonDocument.Parse(received.Data);
        return data.RootElement.GetProperty("values").Clone();
    }
}
