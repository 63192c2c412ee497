using EfNotify.IntegrationTests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EfNotify.IntegrationTests.Postgres;

/// <summary>The dispatcher outlives an outage of its database: it logs the failures, backs off and resumes.</summary>
public sealed class DatabaseOutageTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [PostgresFact]
    public async Task The_dispatcher_logs_a_database_outage_and_delivers_changes_committed_after_it()
    {
        if (SoketiServer.UnavailableReason is { } reason)
        {
            Assert.Fail($"soketi is needed: {reason}");
        }

        var connectionString = await PostgresServer.CreateDatabaseAsync();
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        try
        {
            await using var server = await SoketiServer.StartAsync();
            await using var dispatcher = await NotifyHost.StartAsync(server.Options, database: (_, o) => o.UseNpgsql(connectionString));

            // The writer has no pool of its own, so the outage leaves it no dead connections to trip over afterwards.
            var unpooled = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
            await using var writer = await NotifyHost.StartAsync(server.Options, options: o => o.DispatcherEnabled = false, database: (_, o) => o.UseNpgsql(unpooled));
            var card = new Card { Title = "outage" };
            await writer.WithContextAsync(async db =>
            {
                db.Add(card);
                await db.SaveChangesAsync();
            });
            await using var subscriber = await PusherTestSubscriber.ConnectAsync(server);
            await subscriber.SubscribeAsync($"private-Card.{card.Id}");
            await SetNotesAsync(writer, card.Id, "before");
            await dispatcher.ExplainAsync(subscriber.WaitForEventAsync(e => TestWorker.Read(e).Notes == "before", Deadline));

            await ExecuteAsync(admin, $"ALTER DATABASE {name} ALLOW_CONNECTIONS false");
            await Eventually.UntilAsync(
                async () => await ExecuteAsync(admin, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'") == 0,
                Deadline,
                "every connection to the database terminated");
            await dispatcher.ExplainAsync(Eventually.UntilAsync(() => dispatcher.Logs.Entries.Any(e => e.Id.Id == 5), Deadline, "the loop failure logged"));

            await ExecuteAsync(admin, $"ALTER DATABASE {name} ALLOW_CONNECTIONS true");
            await Eventually.UntilAsync(
                async () =>
                {
                    try
                    {
                        await SetNotesAsync(writer, card.Id, "after");
                        return true;
                    }
                    catch (InvalidOperationException exception) when (exception.InnerException is NpgsqlException)
                    {
                        return false; // the server may refuse a new connection for a moment after the ALTER
                    }
                },
                Deadline,
                "the change after the outage committed");
            await dispatcher.ExplainAsync(subscriber.WaitForEventAsync(e => TestWorker.Read(e).Notes == "after", Deadline));
        }
        finally
        {
            await ExecuteAsync(admin, $"ALTER DATABASE {name} ALLOW_CONNECTIONS true");
            await PostgresServer.DropDatabaseAsync(connectionString);
        }
    }

    private static Task SetNotesAsync(NotifyHost writer, int id, string notes)
        => writer.WithContextAsync(async db =>
        {
            (await db.Cards.SingleAsync(c => c.Id == id)).Notes = notes;
            await db.SaveChangesAsync();
        });

    /// <returns>How many rows the statement returned.</returns>
    private static async Task<int> ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
        }

        return rows;
    }
}
