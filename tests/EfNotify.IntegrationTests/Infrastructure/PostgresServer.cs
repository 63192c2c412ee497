using DotNet.Testcontainers.Builders;
using Npgsql;
using Testcontainers.PostgreSql;

namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests use: the one in EFNOTIFY_TEST_POSTGRES (CI starts Debian's server), else a
/// Testcontainers one where a Docker engine exists. Each test gets a database of its own.
/// </summary>
public static class PostgresServer
{
    public const string Variable = "EFNOTIFY_TEST_POSTGRES";

    private static readonly Lazy<Task<(string? ConnectionString, string? Reason)>> Server = new(LocateAsync);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why no server is available, or <see langword="null"/>. Checked synchronously for skip decisions.</summary>
    public static string? UnavailableReason => Server.Value.GetAwaiter().GetResult().Reason;

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var (connectionString, reason) = await Server.Value;
        if (connectionString is null)
        {
            throw new InvalidOperationException($"No PostgreSQL server: {reason}");
        }

        var name = "efnotify_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(connectionString) { Database = name }.ConnectionString;
    }

    /// <summary>
    /// Runs <paramref name="test"/> against a database of its own, which is dropped afterwards. For tests that also need
    /// soketi, which a [PostgresFact] does not check: fails (never skips) without it.
    /// </summary>
    public static async Task WithDatabaseAndSoketiAsync(Func<string, Task> test)
    {
        if (SoketiServer.UnavailableReason is { } reason)
        {
            Assert.Fail($"soketi is needed: {reason}");
        }

        var connectionString = await CreateDatabaseAsync();
        try
        {
            await test(connectionString);
        }
        finally
        {
            await DropDatabaseAsync(connectionString);
        }
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var name = builder.Database;
        NpgsqlConnection.ClearAllPools();
        builder.Database = "postgres";
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<(string?, string?)> LocateAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
        {
            try
            {
                await using var connection = new NpgsqlConnection(given);
                await connection.OpenAsync();
                return (given, null);
            }
            catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException or ArgumentException)
            {
                return (null, $"{Variable} is set but the server does not answer: {exception.Message}");
            }
        }

        try
        {
            var container = new PostgreSqlBuilder("postgres:16-alpine").Build();
            await container.StartAsync();
            return (container.GetConnectionString(), null);
        }
        catch (DockerUnavailableException exception)
        {
            return (null, $"set {Variable} to a PostgreSQL connection string (no Docker engine for Testcontainers: {exception.Message.Split('\n')[0]})");
        }
    }
}

/// <summary>A fact that needs PostgreSQL: skipped with the reason locally when none is available, failed under CI=true.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!PostgresServer.IsCi && PostgresServer.UnavailableReason is { } reason)
        {
            Skip = $"PostgreSQL is not available: {reason}";
        }
    }
}

/// <summary>A theory that needs PostgreSQL; see <see cref="PostgresFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (!PostgresServer.IsCi && PostgresServer.UnavailableReason is { } reason)
        {
            Skip = $"PostgreSQL is not available: {reason}";
        }
    }
}
