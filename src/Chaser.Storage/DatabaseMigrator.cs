using System.Data.Common;
using System.Globalization;
using System.Reflection;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage;

/// <summary>
/// Applies the versioned schema scripts embedded from <c>Schema/</c> (<c>&lt;provider&gt;-NNN-name.sql</c>), each once,
/// in order, in its own transaction, recording it in <c>schema_migrations</c>. Run at start (idempotent) or with
/// <c>chaser db migrate</c>. On PostgreSQL an advisory lock keeps two starting processes from migrating at once.
/// </summary>
public static class DatabaseMigrator
{
    private const long AdvisoryLockKey = 0x43_48_41_53_45_52; // "CHASER"

    /// <summary>The scripts for a provider, ordered by version.</summary>
    public static IReadOnlyList<(int Version, string Name, string Sql)> Scripts(DatabaseProvider provider)
    {
        var prefix = provider == DatabaseProvider.PostgreSql ? "postgres-" : "sqlite-";
        var assembly = typeof(DatabaseMigrator).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Select(resource => (resource, file: resource.Split('.')[^2]))
            .Where(x => x.file.StartsWith(prefix, StringComparison.Ordinal))
            .Select(x => (Version: int.Parse(x.file.Split('-')[1], CultureInfo.InvariantCulture), Name: x.file, Sql: Read(assembly, x.resource)))
            .OrderBy(x => x.Version)];
    }

    /// <summary>Applies what is missing; returns the versions applied now (empty when the schema is current).</summary>
    public static Task<IReadOnlyList<int>> MigrateAsync(ChaserDb db, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        return MigrateAsync(db.Database.GetDbConnection(), db.Provider, cancellationToken);
    }

    /// <summary>
    /// The same on a plain connection (<see cref="ChaserDb.CreateConnection"/>), as every start does: the check of a
    /// current schema is a few ms of SQL, and through a <see cref="ChaserDb"/> it would cost EF Core's first use too.
    /// </summary>
    public static async Task<IReadOnlyList<int>> MigrateAsync(string? connectionString, CancellationToken cancellationToken = default)
    {
        var text = string.IsNullOrWhiteSpace(connectionString) ? ChaserDb.DefaultSqlite : connectionString;
        await using var connection = ChaserDb.CreateConnection(text);
        return await MigrateAsync(connection, ChaserDb.ProviderOf(text), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<int>> MigrateAsync(DbConnection connection, DatabaseProvider provider, CancellationToken cancellationToken)
    {
        var opened = connection.State != System.Data.ConnectionState.Open;
        if (opened)
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            if (provider == DatabaseProvider.PostgreSql)
            {
                await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({AdvisoryLockKey})", cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Foreign keys are off by default in SQLite; WAL lets readers run beside the background writer.
                await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await ExecuteAsync(connection, null, provider == DatabaseProvider.PostgreSql
                    ? "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
                    : "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)", cancellationToken).ConfigureAwait(false);

                var applied = new HashSet<int>();
                await using (var command = connection.CreateCommand())
                {
                    command.CommandText = "SELECT version FROM schema_migrations";
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        applied.Add(Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture));
                    }
                }

                var now = new List<int>();
                foreach (var (version, name, sql) in Scripts(provider).Where(s => !applied.Contains(s.Version)))
                {
                    await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                    await ExecuteAsync(connection, transaction, sql, cancellationToken).ConfigureAwait(false);
                    await using (var record = connection.CreateCommand())
                    {
                        record.Transaction = transaction;
                        record.CommandText = "INSERT INTO schema_migrations (version, name) VALUES (@version, @name)";
                        AddParameter(record, "@version", version);
                        AddParameter(record, "@name", name);
                        await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    now.Add(version);
                }

                return now;
            }
            finally
            {
                if (provider == DatabaseProvider.PostgreSql)
                {
                    await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (opened)
            {
                await connection.CloseAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource) ?? throw new InvalidOperationException($"missing schema resource {resource}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
