using Chaser.Storage;
using Npgsql;

namespace Chaser.Tests.Shared;

/// <summary>
/// A fresh, empty database for one test: a temporary SQLite file, or a new PostgreSQL database on the server named by
/// CHASER_TEST_POSTGRES (which .ci/run always sets), dropped afterwards.
/// </summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "CHASER_TEST_POSTGRES";

    private readonly string? _file;
    private readonly string? _adminConnection;
    private readonly string? _databaseName;

    private TestDatabase(string connectionString, string? file, string? adminConnection, string? databaseName)
    {
        ConnectionString = connectionString;
        _file = file;
        _adminConnection = adminConnection;
        _databaseName = databaseName;
    }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Sqlite)
        {
            var file = Path.Combine(Path.GetTempPath(), $"chaser-test-{Guid.NewGuid():N}.db");
            return new TestDatabase($"Data Source={file}", file, null, null);
        }

        var admin = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Skip($"{PostgresVariable} is not set (.ci/run sets it; start PostgreSQL and set it to run these locally)");
        }

        var name = $"chaser_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        return new TestDatabase(builder.ConnectionString, null, admin, name);
    }

    /// <summary>Runs SQL as the server's admin (for outage tests).</summary>
    public async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_adminConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{db}", _databaseName, StringComparison.Ordinal), connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var path in new[] { _file, _file + "-wal", _file + "-shm" })
            {
                File.Delete(path);
            }
        }

        if (_adminConnection is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await AdminAsync("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
        }
    }
}
