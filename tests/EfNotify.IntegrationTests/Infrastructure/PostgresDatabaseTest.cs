namespace EfNotify.IntegrationTests.Infrastructure;

/// <summary>
/// A PostgreSQL database of its own for each test of a class (xunit makes an instance per test), dropped afterwards.
/// Where no server is found the database is not made and the <see cref="PostgresFactAttribute"/> tests skip; under
/// CI the attempt is made anyway, so a missing server fails them.
/// </summary>
public abstract class PostgresDatabaseTest : IAsyncLifetime
{
    protected string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (PostgresServer.UnavailableReason is null || PostgresServer.IsCi)
        {
            ConnectionString = await PostgresServer.CreateDatabaseAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (ConnectionString.Length > 0)
        {
            await PostgresServer.DropDatabaseAsync(ConnectionString);
        }
    }
}
