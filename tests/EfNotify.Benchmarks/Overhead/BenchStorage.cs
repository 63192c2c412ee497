using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EfNotify.Benchmarks.Overhead;

/// <summary>
/// Where one <see cref="BenchDatabase"/> lives, and how a context reaches it. Disposing it removes the database, so a
/// run leaves nothing behind: the SQLite file (with its -wal and -shm) or the throwaway PostgreSQL database.
/// </summary>
internal abstract class BenchStorage : IDisposable
{
    public const string File = "file";
    public const string Memory = "memory";
    public const string Postgres = "postgres";

    /// <summary>The server the PostgreSQL variant creates its throwaway databases on, if one is given.</summary>
    public const string PostgresVariable = "EFNOTIFY_TEST_POSTGRES";

    public static string? PostgresServer => Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value ? value : null;

    /// <summary>"file", "memory", and "postgres" when <see cref="PostgresVariable"/> names a server.</summary>
    public static IEnumerable<string> Available => PostgresServer is null ? [File, Memory] : [File, Memory, Postgres];

    /// <summary>A fresh, empty database of the given kind; <paramref name="name"/> tells two of them in one run apart.</summary>
    public static BenchStorage Create(string kind, string directory, string name) => kind switch
    {
        File => new SqliteFileStorage(Path.Combine(directory, name + ".db")),
        Memory => new SqliteMemoryStorage(),
        Postgres => new PostgresStorage(PostgresServer ?? throw new InvalidOperationException($"{PostgresVariable} is not set"), name),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "expected file, memory or postgres"),
    };

    public static string Describe(string kind) => kind switch
    {
        File => "SQLite file",
        Memory => "SQLite in memory",
        Postgres => "PostgreSQL",
        _ => kind,
    };

    public abstract DbContextOptionsBuilder Use(DbContextOptionsBuilder options);

    /// <summary>The settings that decide what a commit costs, read back from the database (e.g. <c>journal_mode=wal synchronous=2</c>).</summary>
    public abstract string Settings(DbContext context);

    public abstract void Dispose();

    protected static string Query(DbContext context, params string[] statements)
    {
        var connection = context.Database.GetDbConnection();
        context.Database.OpenConnection();
        try
        {
            return string.Join(' ', statements.Select(sql =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            }));
        }
        finally
        {
            context.Database.CloseConnection();
        }
    }

    /// <summary>A file created by EF Core (<c>EnsureCreated</c> puts it in WAL mode), <c>synchronous</c> left at FULL, ADO.NET pooling on.</summary>
    private sealed class SqliteFileStorage(string path) : BenchStorage
    {
        private readonly string _connectionString = new SqliteConnectionStringBuilder { DataSource = path }.ToString();

        public override DbContextOptionsBuilder Use(DbContextOptionsBuilder options) => options.UseSqlite(_connectionString);

        public override string Settings(DbContext context)
            => "journal_mode=" + Query(context, "PRAGMA journal_mode") + " synchronous=" + Query(context, "PRAGMA synchronous");

        public override void Dispose()
        {
            using (var connection = new SqliteConnection(_connectionString))
            {
                SqliteConnection.ClearPool(connection);
            }

            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                System.IO.File.Delete(file);
            }
        }
    }

    /// <summary>An in-memory database on one connection held open for its lifetime: no disk, only CPU work.</summary>
    private sealed class SqliteMemoryStorage : BenchStorage
    {
        private readonly SqliteConnection _connection = new("Data Source=:memory:");

        public SqliteMemoryStorage() => _connection.Open();

        public override DbContextOptionsBuilder Use(DbContextOptionsBuilder options) => options.UseSqlite(_connection);

        public override string Settings(DbContext context) => "journal_mode=" + Query(context, "PRAGMA journal_mode");

        public override void Dispose() => _connection.Dispose();
    }

    /// <summary>
    /// A database of its own on the given server, created here and dropped on dispose (<c>WITH (FORCE)</c>, so a
    /// connection left in a pool cannot keep it). The server's settings are used as they are.
    /// </summary>
    internal sealed class PostgresStorage : BenchStorage
    {
        private readonly string _admin;
        private readonly string _database;
        private readonly string _connectionString;

        public PostgresStorage(string server, string name)
        {
            var builder = new NpgsqlConnectionStringBuilder(server);
            _admin = new NpgsqlConnectionStringBuilder(server) { Pooling = false }.ConnectionString;
            _database = string.Create(CultureInfo.InvariantCulture, $"efnotify_bench_{Environment.ProcessId}_{name}_{Guid.NewGuid().ToString("N")[..8]}");
            builder.Database = _database;
            _connectionString = builder.ConnectionString;
            Execute($"CREATE DATABASE \"{_database}\"");
        }

        public string ConnectionString => _connectionString;

        public override DbContextOptionsBuilder Use(DbContextOptionsBuilder options) => options.UseNpgsql(_connectionString);

        public override string Settings(DbContext context)
            => "fsync=" + Query(context, "SHOW fsync") + " synchronous_commit=" + Query(context, "SHOW synchronous_commit")
               + " server " + Query(context, "SHOW server_version");

        public override void Dispose()
        {
            using (var connection = new NpgsqlConnection(_connectionString))
            {
                NpgsqlConnection.ClearPool(connection);
            }

            Execute($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
        }

        private void Execute(string sql)
        {
            using var connection = new NpgsqlConnection(_admin);
            connection.Open();
            using var command = new NpgsqlCommand(sql, connection);
            command.ExecuteNonQuery();
        }
    }
}
