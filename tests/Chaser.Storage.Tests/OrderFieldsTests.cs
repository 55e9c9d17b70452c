using System.Data.Common;
using Chaser.Core.Domain;
using Chaser.Tests.Shared;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage.Tests;

/// <summary>What an order is worked by — strategy, benchmark price, deadline action, re-price interval — is stored and read back whole.</summary>
public class OrderFieldsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task A_database_of_the_previous_schema_upgrades_in_place_and_keeps_its_orders(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using (var db = new ChaserDb(database.ConnectionString))
        {
            await MigrateUpToAsync(db, 5);
            await InsertOldOrderAsync(db);
        }

        await using (var db = new ChaserDb(database.ConnectionString))
        {
            Assert.Equal([6, 7, 8], await DatabaseMigrator.MigrateAsync(db, Ct));
            var old = await db.Orders.AsNoTracking().SingleAsync(Ct);
            Assert.Equal(("momentum", 65_000.5m, "take", 60_000L, (long?)null, OrderStatus.New), (old.Strategy, old.PriceExpected, old.DeadlineAction, old.TimeLimitMs!.Value, old.MinRepriceIntervalMs, old.Status));
            var spec = OrderQueries.ToSpec(old);
            Assert.Equal(("momentum", 65_000.5m, DeadlineAction.TakeRemainder, (TimeSpan?)null), (spec.Strategy, spec.PriceExpected, spec.OnDeadline, spec.MinRepriceInterval));

            db.Orders.Add(new OrderRow { Symbol = "ETHUSDT", Side = -1, Size = 2m, SizeType = "q", MinRepriceIntervalMs = 1_000, CreatedAt = T0 });
            await db.SaveChangesAsync(Ct);
        }

        await using (var db = new ChaserDb(database.ConnectionString))
        {
            var rows = await db.Orders.AsNoTracking().OrderBy(o => o.Id).ToListAsync(Ct);
            Assert.Equal(2, rows.Count);
            Assert.Equal(TimeSpan.FromSeconds(1), OrderQueries.ToSpec(rows[1]).MinRepriceInterval);

            // The column holds what an order may ask for, no more (ten minutes).
            db.Orders.Add(new OrderRow { Symbol = "ETHUSDT", Side = -1, Size = 2m, SizeType = "q", MinRepriceIntervalMs = 600_001, CreatedAt = T0 });
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync(Ct));
        }
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task An_order_the_recorder_stores_first_reads_back_as_the_order_it_worked(DatabaseProvider provider)
    {
        // A library user's or a backtest's order has no row before it starts: the recorder's row is the whole record.
        await using var database = await TestDatabase.CreateAsync(provider);
        await using (var db = new ChaserDb(database.ConnectionString))
        {
            await DatabaseMigrator.MigrateAsync(db, Ct);
        }

        var spec = new ParentOrderSpec(12, "BTCUSDT", Side.Sell, SizeType.Notional, 2_500m)
        {
            Strategy = "twap-ish",
            PriceExpected = 64_999.9m,
            OnDeadline = DeadlineAction.TakeRemainder,
            TimeLimit = TimeSpan.FromMinutes(3),
            MinRepriceInterval = TimeSpan.FromMilliseconds(750),
            ReduceOnly = true,
        };
        await using (var recorder = new StorageRecorder(database.ConnectionString))
        {
            recorder.OrderStarted(spec, T0);
            await recorder.FlushAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }

        await using var read = new ChaserDb(database.ConnectionString);
        var row = await read.Orders.AsNoTracking().SingleAsync(Ct);
        Assert.Equal(("twap-ish", 64_999.9m, "take", 180_000L, 750L), (row.Strategy, row.PriceExpected, row.DeadlineAction, row.TimeLimitMs!.Value, row.MinRepriceIntervalMs!.Value));
        Assert.Equal(spec, OrderQueries.ToSpec(row));
    }

    [Fact]
    public void A_stored_row_an_order_cannot_be_worked_by_is_refused_naming_the_order_and_the_column()
    {
        OrderRow Row() => new() { Id = 5, Symbol = "BTCUSDT", Side = 1, Size = 1m, SizeType = "q" };
        var cases = new (OrderRow Row, string Message)[]
        {
            (Row().With(r => r.Strategy = new string('s', 65)), "order 5: strategy must be at most 64 characters"),
            (Row().With(r => r.PriceExpected = -1m), "order 5: price_expected must be zero or more, got -1"),
            (Row().With(r => r.MinRepriceIntervalMs = 600_001), "order 5: min_reprice_interval_ms must be from 0 to 600000, got 600001"),
            (Row().With(r => r.MinRepriceIntervalMs = -1), "order 5: min_reprice_interval_ms must be from 0 to 600000, got -1"),
            (Row().With(r => r.DeadlineAction = "market"), "order 5: deadline_action must be 'cancel' or 'take', got 'market'"),
            (Row().With(r => r.TimeLimitMs = 0), "order 5: time_limit_ms must be positive, got 0"),
            (Row().With(r => r.Size = 0m), "order 5: size must be greater than zero"),
            (Row().With(r => r.Symbol = " "), "order 5: symbol must not be empty"),
        };
        foreach (var (row, message) in cases)
        {
            var error = Assert.Throws<ArgumentException>(() => OrderQueries.ToSpec(row));
            Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(TimeSpan.Zero, OrderQueries.ToSpec(Row().With(r => r.MinRepriceIntervalMs = 0)).MinRepriceInterval);
    }

    /// <summary>The schema as it was before version <paramref name="last"/> + 1: the scripts up to it, recorded as the migrator records them.</summary>
    private static async Task MigrateUpToAsync(ChaserDb db, int last)
    {
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync(Ct);
        await ExecuteAsync(connection, db.Provider == DatabaseProvider.PostgreSql
            ? "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            : "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)");
        foreach (var (version, name, sql) in DatabaseMigrator.Scripts(db.Provider).Where(s => s.Version <= last))
        {
            await ExecuteAsync(connection, sql);
            await ExecuteAsync(connection, $"INSERT INTO schema_migrations (version, name) VALUES ({version}, '{name}')");
        }

        await connection.CloseAsync();
    }

    /// <summary>An order as the previous schema stored it (no re-price interval column), written with plain SQL.</summary>
    private static async Task InsertOldOrderAsync(ChaserDb db)
    {
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO orders (symbol, size, size_type, side, price_expected, strategy, deadline_action, time_limit_ms, created_at)
            VALUES ('BTCUSDT', @size, 'q', 1, @price_expected, 'momentum', 'take', 60000, @created_at)
            """;
        var postgres = db.Provider == DatabaseProvider.PostgreSql;
        Add(command, "@size", postgres ? 0.5m : "0.5");
        Add(command, "@price_expected", postgres ? 65_000.5m : "65000.5");
        Add(command, "@created_at", postgres ? T0 : ChaserDb.ToStoredTicks(T0));
        Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
        await connection.CloseAsync();

        static void Add(DbCommand command, string name, object value)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }
}

internal static class OrderRowExtensions
{
    public static OrderRow With(this OrderRow row, Action<OrderRow> change)
    {
        change(row);
        return row;
    }
}
