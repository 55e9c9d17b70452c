using System.CommandLine;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Engine;
using Chaser.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Chaser.Cli;

/// <summary>
/// Where runs are recorded: <c>--db</c>, else <c>CHASER_DB</c>, else the embedded SQLite file <c>chaser.db</c> in the
/// current directory. Parent orders get their ids from the database, so runs never mix.
/// </summary>
internal static class Recording
{
    public const string DatabaseVariable = "CHASER_DB";

    public static string ConnectionString(string? option, Func<string, string?> environment) =>
        option ?? FromEnvironment(environment);

    /// <summary>The same choice from raw arguments, for naming the database in an error after the command failed.</summary>
    public static string ConnectionString(IReadOnlyList<string> argv, Func<string, string?> environment)
    {
        for (var i = 0; i < argv.Count; i++)
        {
            if (argv[i] == "--db" && i + 1 < argv.Count)
            {
                return argv[i + 1];
            }

            if (argv[i].StartsWith("--db=", StringComparison.Ordinal))
            {
                return argv[i]["--db=".Length..];
            }
        }

        return FromEnvironment(environment);
    }

    private static string FromEnvironment(Func<string, string?> environment) =>
        environment(DatabaseVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : ChaserDb.DefaultSqlite;

    /// <summary>Names the database without its password (connection strings never reach the output).</summary>
    public static string Describe(string connectionString)
    {
        var provider = ChaserDb.ProviderOf(connectionString);
        if (provider == DatabaseProvider.Sqlite)
        {
            var text = connectionString.Contains('=', StringComparison.Ordinal) ? connectionString : "Data Source=" + connectionString;
            try
            {
                return "SQLite " + new SqliteConnectionStringBuilder(text).DataSource;
            }
            catch (ArgumentException)
            {
                return "SQLite (an unreadable connection string)";
            }
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString.Contains("://", StringComparison.Ordinal) ? null : connectionString);
            return $"PostgreSQL {builder.Host}/{builder.Database ?? builder.Username}";
        }
        catch (ArgumentException)
        {
            return "PostgreSQL";
        }
    }

    /// <summary>Applies the schema (idempotent); a database that can't be opened is a usage error naming --db.</summary>
    public static async Task<IReadOnlyList<int>> MigrateAsync(string connectionString, CancellationToken cancellationToken)
    {
        try
        {
            return await DatabaseMigrator.MigrateAsync(connectionString, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or ArgumentException)
        {
            throw new UsageException($"option '--db': cannot open {Describe(connectionString)}: {e.Message}");
        }
    }

    /// <summary>The database's instance tag for client order ids (the schema must be applied first).</summary>
    public static async Task<string> ClientIdTagAsync(string connectionString, CancellationToken cancellationToken)
    {
        try
        {
            return await ChaserDb.ClientIdTagAsync(connectionString, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
        {
            throw new UsageException($"option '--db': {Describe(connectionString)}: {e.Message}");
        }
    }

    /// <summary>
    /// Proves the database takes writes (a row inserted and rolled back) and, for SQLite, that its file is whole
    /// (<c>PRAGMA quick_check</c>), so a read-only, locked or damaged database is refused before an order starts rather
    /// than leaving the recorder retrying behind a live order, or writing into a damaged file. Waits the provider's busy
    /// timeout for a lock.
    /// </summary>
    public static async Task EnsureWritableAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = ChaserDb.CreateConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (ChaserDb.ProviderOf(connectionString) == DatabaseProvider.Sqlite)
            {
                await using var check = connection.CreateCommand();
                check.CommandText = "PRAGMA quick_check(1)";
                if (await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is var verdict && !Equals(verdict, "ok"))
                {
                    throw new UsageException($"option '--db': {Describe(connectionString)} is damaged ({verdict}); nothing was written to it");
                }
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var probe = connection.CreateCommand())
            {
                probe.Transaction = transaction;
                probe.CommandText = "INSERT INTO schema_migrations (version, name) VALUES (-1, 'write probe')";
                await probe.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException e)
        {
            throw new UsageException($"option '--db': cannot write to {Describe(connectionString)}: {e.Message}");
        }
    }

    /// <summary>
    /// The end of a run: what was recorded reaches the database, within the recorder's close timeout. A database that
    /// failed mid-run is named (exit 2) instead of holding the process for good; the result was printed already and
    /// the exchange's trades stay the truth (<c>chaser serve</c> reconciles orders left working when it starts).
    /// </summary>
    public static async Task FinishAsync(StorageRecorder recorder, string connectionString)
    {
        try
        {
            await recorder.FlushAsync(recorder.CloseTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new UsageException($"option '--db': {Describe(connectionString)}: {e.Message}");
        }
    }

    /// <summary>The strategy tag of an order the command line stores without one: its runs group under it in the report.</summary>
    public const string DefaultStrategy = "chaser-cli";

    /// <summary>The tag an order is stored under: its own, else <see cref="DefaultStrategy"/>.</summary>
    public static string StrategyOf(ParentOrderSpec spec) => spec.Strategy.Length > 0 ? spec.Strategy : DefaultStrategy;

    /// <summary>Migrates the database and stores the parent orders as new rows, returning them with their ids.</summary>
    public static async Task<IReadOnlyList<ParentOrderSpec>> CreateOrdersAsync(string connectionString, IReadOnlyList<ParentOrderSpec> specs, TimeProvider time, CancellationToken cancellationToken, bool explicitId = false)
    {
        await MigrateAsync(connectionString, cancellationToken).ConfigureAwait(false);
        await EnsureWritableAsync(connectionString, cancellationToken).ConfigureAwait(false);
        return await StoreOrdersAsync(connectionString, specs, time, cancellationToken, explicitId).ConfigureAwait(false);
    }

    /// <summary>Stores the parent orders as new rows in a database already migrated and checked writable, returning them with their ids.</summary>
    public static async Task<IReadOnlyList<ParentOrderSpec>> StoreOrdersAsync(string connectionString, IReadOnlyList<ParentOrderSpec> specs, TimeProvider time, CancellationToken cancellationToken, bool explicitId = false)
    {
        await using var db = new ChaserDb(connectionString);

        var rows = specs.Select(spec => new OrderRow
        {
            Id = explicitId ? spec.Id : 0,
            Symbol = spec.Symbol,
            Size = spec.Size,
            SizeType = spec.SizeType == SizeType.Notional ? "n" : "q",
            Side = spec.Side.Sign(),
            ReduceOnly = spec.ReduceOnly,
            Deadline = spec.Deadline,
            TimeLimitMs = spec.TimeLimit is { } limit ? (long)limit.TotalMilliseconds : null,
            DeadlineAction = spec.OnDeadline == DeadlineAction.TakeRemainder ? "take" : "cancel",
            Strategy = StrategyOf(spec),
            PriceExpected = spec.PriceExpected,
            MinRepriceIntervalMs = OrderQueries.ToIntervalMs(spec.MinRepriceInterval),
            CreatedAt = time.GetUtcNow(),
        }).ToList();
        db.Orders.AddRange(rows);
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        if (explicitId && db.Provider == DatabaseProvider.PostgreSql)
        {
            // An id given by hand does not move PostgreSQL's identity sequence: move it, or a later order would get N.
            // Forward only: an id the sequence already handed out (to an order another process has not committed
            // yet, so not in MAX(id)) must never be handed out again.
            await db.Database.ExecuteSqlRawAsync(
                "SELECT setval(s.seq, GREATEST((SELECT MAX(id) FROM orders), COALESCE(pg_sequence_last_value(s.seq), 1))) FROM (SELECT pg_get_serial_sequence('orders', 'id')::regclass AS seq) AS s",
                cancellationToken).ConfigureAwait(false);
        }
        return [.. rows.Select(OrderQueries.ToSpec)];
    }

    /// <summary>
    /// <c>execute --id N</c>: an order stored under N is worked only while it is new and only as stored (the options
    /// must describe the same order); an id not stored yet gets a new row under it. Returns the order to claim.
    /// </summary>
    public static async Task<ParentOrderSpec> UseIdAsync(string connectionString, ParentOrderSpec spec, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await StoredAsync(connectionString, spec, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            return stored;
        }

        try
        {
            var created = await CreateOrdersAsync(connectionString, [spec], time, cancellationToken, explicitId: true).ConfigureAwait(false);
            return created[0];
        }
        catch (DbUpdateException)
        {
            // Another execute stored the id between our look and our insert: its row is the order, taken as stored
            // (and the claim lets only one of us work it).
            if (await StoredAsync(connectionString, spec, cancellationToken).ConfigureAwait(false) is { } theirs)
            {
                return theirs;
            }

            throw;
        }
    }

    /// <summary>The order stored under the spec's id, when it is new and describes the same order; null when none is stored.</summary>
    private static async Task<ParentOrderSpec?> StoredAsync(string connectionString, ParentOrderSpec spec, CancellationToken cancellationToken)
    {
        await using var db = new ChaserDb(connectionString);
        if (await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == spec.Id, cancellationToken).ConfigureAwait(false) is not { } stored)
        {
            return null;
        }

        if (stored.Status != OrderStatus.New)
        {
            throw new UsageException($"option '--id': order {spec.Id} is {stored.Status}; only a new order can be executed (an order is executed once)");
        }

        var asStored = OrderQueries.ToSpec(stored);
        if (asStored.Symbol != spec.Symbol || asStored.Side != spec.Side || asStored.SizeType != spec.SizeType || asStored.Size != spec.Size)
        {
            throw new UsageException($"option '--id': order {spec.Id} is stored as {ExecuteCommand.Describe(asStored)}; give the same order or leave out --id");
        }

        // The rest of what the order is worked by must agree too, or --id would run something else than was asked.
        var differences = Differences(asStored, spec);
        if (differences.Count > 0)
        {
            throw new UsageException($"option '--id': order {spec.Id} is stored with {string.Join(", ", differences)}; give the same order or leave out --id");
        }

        return asStored;
    }

    /// <summary>
    /// Where an option given for the order disagrees with the stored order, each as "stored (not given)". An option left
    /// out (no strategy, no benchmark price, no deadline, not reduce-only, the engine's interval, cancel at the deadline)
    /// takes the stored value.
    /// </summary>
    private static List<string> Differences(ParentOrderSpec stored, ParentOrderSpec given)
    {
        var differences = new List<string>();
        if (given.Strategy.Length > 0 && !string.Equals(stored.Strategy, given.Strategy, StringComparison.Ordinal))
        {
            differences.Add($"strategy '{stored.Strategy}' (not '{given.Strategy}')");
        }

        if (given.PriceExpected != 0 && stored.PriceExpected != given.PriceExpected)
        {
            differences.Add($"price expected {Text(stored.PriceExpected)} (not {Text(given.PriceExpected)})");
        }

        if (given.OnDeadline == DeadlineAction.TakeRemainder && stored.OnDeadline != DeadlineAction.TakeRemainder)
        {
            differences.Add("cancel at the deadline (not take the remainder)");
        }

        // --deadline is a time limit from the start; an order stored with none, another, or an absolute deadline would
        // run past (or short of) the one asked for.
        if (given.TimeLimit is { } limit && (stored.TimeLimit != limit || stored.Deadline is not null))
        {
            var storedLimit = stored.Deadline is { } at ? $"deadline {at.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}Z"
                : stored.TimeLimit is { } own ? $"deadline {(long)own.TotalMilliseconds} ms after it starts"
                : "no deadline";
            differences.Add($"{storedLimit} (not {(long)limit.TotalMilliseconds} ms after it starts)");
        }

        if (given.ReduceOnly && !stored.ReduceOnly)
        {
            differences.Add("reduce-only off (not --reduce-only)");
        }

        var givenInterval = OrderQueries.ToIntervalMs(given.MinRepriceInterval);
        if (givenInterval is not null && OrderQueries.ToIntervalMs(stored.MinRepriceInterval) != givenInterval)
        {
            differences.Add($"minimum re-price interval {Interval(stored.MinRepriceInterval)} (not {givenInterval} ms)");
        }

        return differences;

        static string Text(decimal value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

        static string Interval(TimeSpan? interval) => OrderQueries.ToIntervalMs(interval) is { } ms ? $"{ms} ms" : "the engine's";
    }

    /// <summary>Claims the orders for execution on the engine's venue; an order that is not new any more is named (exit 2).</summary>
    public static async Task ClaimAsync(string connectionString, IReadOnlyList<ParentOrderSpec> specs, ExecutionEngine engine, CancellationToken cancellationToken)
    {
        await using var db = new ChaserDb(connectionString);
        try
        {
            await db.Orders.ClaimAsync([.. specs.Select(s => s.Id)], engine.Options.Venue, engine.Options.Account, cancellationToken).ConfigureAwait(false);
        }
        catch (OrderClaimException e)
        {
            throw new UsageException(e.Message);
        }
    }
}

/// <summary><c>chaser db migrate [--db CONN]</c>: applies the schema explicitly (every command also does it on start).</summary>
internal static class DatabaseCommand
{
    private static readonly Option<string?> Database = CliOption.Database("the database");

    /// <summary><c>chaser db migrate</c>, the one command of <c>chaser db</c>.</summary>
    public static readonly Command Migrate = new("migrate", "apply the database schema (every command also does it on start)") { Database };

    public static readonly Command Definition = new("db", "db migrate: apply the database schema (SQLite chaser.db by default, or --db / CHASER_DB)") { Migrate };

    public const string Notes = "";

    public static async Task<int> RunAsync(ParseResult args, CommandContext context)
    {
        var connectionString = Recording.ConnectionString(args.GetValue(Database), context.Environment);
        var applied = await Recording.MigrateAsync(connectionString, context.Stop).ConfigureAwait(false);

        await context.Output.WriteLineAsync(applied.Count == 0
            ? $"{Recording.Describe(connectionString)}: schema is current"
            : $"{Recording.Describe(connectionString)}: applied migration(s) {string.Join(", ", applied)}").ConfigureAwait(false);
        return 0;
    }
}
