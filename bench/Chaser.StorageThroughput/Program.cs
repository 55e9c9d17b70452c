using System.Diagnostics;
using System.Globalization;
using Chaser.Storage;
using Chaser.StorageThroughput;
using Microsoft.Data.Sqlite;
using Npgsql;

// Write throughput of the storage recorder beside the floor, in one run: the same rows (the engine's mix, or the
// earlier fills/mids/events mix) written by StorageRecorder — the background writer the engine uses, timed from the
// first enqueue to the flush that confirms the last commit — and by RawWriter (a hand-written binary COPY on
// PostgreSQL, one prepared INSERT per table on SQLite, same batch size, one transaction per batch), each run into a
// fresh database, recorder and raw alternating, every round's tables checked against the rows expected.
//
//   dotnet run -c Release --project bench/Chaser.StorageThroughput -- [--postgres "Host=…;Username=…;Password=…"]
//       [--sqlite DIR] [--mix engine|fills-mids-events] [--orders 100] [--cycles 100] [--rounds 3]
string? postgres = null, sqliteDirectory = null, mix = "engine";
int orders = 100, cycles = 100, rounds = 3;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    int Count() => int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{args[i - 1]} takes a positive whole number");
    switch (args[i])
    {
        case "--postgres": postgres = Next(); break;
        case "--sqlite": sqliteDirectory = Next(); break;
        case "--mix": mix = Next(); break;
        case "--orders": orders = Count(); break;
        case "--cycles": cycles = Count(); break;
        case "--rounds": rounds = Count(); break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}; usage: [--postgres ADMIN_CONNECTION] [--sqlite DIR] [--mix engine|fills-mids-events] [--orders N] [--cycles N] [--rounds N]");
            return 2;
    }
}

if (postgres is null && sqliteDirectory is null)
{
    sqliteDirectory = Path.GetTempPath();
}

var workload = mix switch
{
    "engine" => Workload.Engine(orders, cycles),
    "fills-mids-events" => Workload.FillsMidsEvents(orders, cycles),
    _ => null,
};
if (workload is null)
{
    Console.Error.WriteLine($"--mix: '{mix}' is not engine or fills-mids-events");
    return 2;
}

Console.WriteLine($"mix {workload.Name}, {orders} orders: {workload.Describe()}; batches of {StorageRecorder.MaxBatch:N0}; {rounds} round(s); load average {LoadAverage()}");
var results = new List<(DatabaseProvider Provider, string Writer, int Round, double Seconds)>();
var providers = new List<DatabaseProvider>();
if (postgres is not null)
{
    providers.Add(DatabaseProvider.PostgreSql);
}

if (sqliteDirectory is not null)
{
    providers.Add(DatabaseProvider.Sqlite);
}

for (var round = 1; round <= rounds; round++)
{
    foreach (var provider in providers)
    {
        // Alternate who goes first, so neither always meets a cold (or a warm) server.
        var writers = round % 2 == 1 ? new[] { "recorder", "raw" } : ["raw", "recorder"];
        foreach (var writer in writers)
        {
            await using var database = await FreshDatabase.CreateAsync(provider, postgres, sqliteDirectory);
            var clock = Stopwatch.StartNew();
            if (writer == "recorder")
            {
                await using var recorder = new StorageRecorder(database.ConnectionString);
                workload.Feed(recorder);
                await recorder.FlushAsync();
            }
            else
            {
                await RawWriter.WriteAsync(database.ConnectionString, workload);
            }

            var seconds = clock.Elapsed.TotalSeconds;
            await database.CheckAsync(workload);
            results.Add((provider, writer, round, seconds));
            Console.WriteLine($"  round {round} {Name(provider),-10} {writer,-8} {seconds,6:0.000} s  {workload.RowWrites / seconds,10:N0} rows/s  (load {LoadAverage()})");
        }
    }
}

Console.WriteLine();
Console.WriteLine($"| database | recorder rows/s | raw rows/s | recorder / raw | per round | rounds |");
Console.WriteLine($"|---|---:|---:|---:|---|---:|");
foreach (var provider in providers)
{
    double Median(string writer) => Stats.Median(results.Where(r => r.Provider == provider && r.Writer == writer).Select(r => workload.RowWrites / r.Seconds));
    var perRound = Enumerable.Range(1, rounds).Select(round =>
        results.Single(r => r.Provider == provider && r.Round == round && r.Writer == "raw").Seconds /
        results.Single(r => r.Provider == provider && r.Round == round && r.Writer == "recorder").Seconds);
    var recorderRate = Median("recorder");
    var rawRate = Median("raw");
    Console.WriteLine($"| {Name(provider)} | {recorderRate:N0} | {rawRate:N0} | {recorderRate / rawRate:0.00}× | {string.Join(" ", perRound.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))} | {rounds} |");
}

Console.WriteLine($"load average at the end: {LoadAverage()}");
return 0;

static string Name(DatabaseProvider provider) => provider == DatabaseProvider.PostgreSql ? "PostgreSQL" : "SQLite";

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>An empty, migrated database for one run (a new PostgreSQL database, or a new SQLite file), dropped after it.</summary>
internal sealed class FreshDatabase : IAsyncDisposable
{
    private readonly string? _admin;
    private readonly string? _name;
    private readonly string? _file;

    private FreshDatabase(string connectionString, string? admin, string? name, string? file)
    {
        ConnectionString = connectionString;
        _admin = admin;
        _name = name;
        _file = file;
    }

    public string ConnectionString { get; }

    public static async Task<FreshDatabase> CreateAsync(DatabaseProvider provider, string? postgres, string? sqliteDirectory)
    {
        FreshDatabase database;
        if (provider == DatabaseProvider.PostgreSql)
        {
            var name = $"chaser_tp_{Guid.NewGuid():N}";
            await using (var connection = new NpgsqlConnection(postgres))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
                await create.ExecuteNonQueryAsync();
            }

            database = new FreshDatabase(new NpgsqlConnectionStringBuilder(postgres) { Database = name }.ConnectionString, postgres, name, null);
        }
        else
        {
            var file = Path.Combine(sqliteDirectory!, $"chaser-tp-{Guid.NewGuid():N}.db");
            database = new FreshDatabase($"Data Source={file}", null, null, file);
        }

        await using var db = new ChaserDb(database.ConnectionString);
        await DatabaseMigrator.MigrateAsync(db);
        return database;
    }

    /// <summary>Every table holds exactly the rows the workload should have left: neither writer may skip or double a row.</summary>
    public async Task CheckAsync(Workload workload)
    {
        await using var connection = _file is null ? (System.Data.Common.DbConnection)new NpgsqlConnection(ConnectionString) : new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        foreach (var (table, expected) in workload.ExpectedRows)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM {table}";
            var count = Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
            if (count != expected)
            {
                throw new InvalidOperationException($"{table}: {count:N0} rows, {expected:N0} expected");
            }
        }

        await using var unfinished = connection.CreateCommand();
        unfinished.CommandText = "SELECT COUNT(*) FROM orders WHERE status <> 'filled'";
        if (Convert.ToInt64(await unfinished.ExecuteScalarAsync(), CultureInfo.InvariantCulture) != 0)
        {
            throw new InvalidOperationException("an order is not filled");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            SqliteConnection.ClearAllPools();
            foreach (var path in new[] { _file, _file + "-wal", _file + "-shm" })
            {
                File.Delete(path);
            }
        }
        else
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(_admin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
