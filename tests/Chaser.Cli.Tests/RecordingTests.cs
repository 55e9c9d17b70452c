using Chaser.Core.Domain;
using Chaser.Reporting;
using Chaser.Storage;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Cli.Tests;

/// <summary>What the command line stores for an order: its strategy, benchmark price, deadline action and re-price interval, as given.</summary>
public sealed class RecordingTests : IAsyncDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"chaser-recording-{Guid.NewGuid():N}.db");

    private string Database => "Data Source=" + _file;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var path in new[] { _file, _file + "-wal", _file + "-shm" })
        {
            File.Delete(path);
        }

        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task An_order_stored_with_a_strategy_is_stored_as_given_and_shows_under_that_strategy_in_the_report()
    {
        var tagged = new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 15_000m)
        {
            Strategy = "momentum-7",
            PriceExpected = 65_000.5m,
            OnDeadline = DeadlineAction.TakeRemainder,
            TimeLimit = TimeSpan.FromMinutes(2),
            MinRepriceInterval = TimeSpan.FromSeconds(1),
        };
        var untagged = new ParentOrderSpec(1, "ETHUSDT", Side.Sell, SizeType.Quantity, 0.5m);

        var created = await Recording.CreateOrdersAsync(Database, [tagged, untagged], TimeProvider.System, Ct);

        Assert.Equal(tagged, created[0], new SpecFields());
        Assert.Equal((Recording.DefaultStrategy, 0m, DeadlineAction.CancelAndExpire, (TimeSpan?)null), (created[1].Strategy, created[1].PriceExpected, created[1].OnDeadline, created[1].MinRepriceInterval));

        await using var db = new ChaserDb(Database);
        var row = await db.Orders.AsNoTracking().SingleAsync(o => o.Id == created[0].Id, Ct);
        Assert.Equal(("momentum-7", 65_000.5m, "take", 1_000L), (row.Strategy, row.PriceExpected, row.DeadlineAction, row.MinRepriceIntervalMs!.Value));

        // The report's strategy filter and its aggregate groups find it under its own tag.
        Assert.Equal([created[0].Id], (await db.Orders.Matching(strategy: "momentum-7").ReportAsync(Ct)).Select(r => r.Id));
        var report = ExecutionReport.Build(await StoredExecution.LoadAsync(db, db.Orders.Matching(), Ct), DateTimeOffset.UtcNow);
        Assert.Equal("momentum-7", report.Orders.Single(o => o.Id == created[0].Id).Strategy);
        Assert.Equal(["chaser-cli", "momentum-7"], report.Aggregates.Select(a => a.Strategy).Order());
    }

    [Fact]
    public async Task Execute_by_id_refuses_options_that_disagree_with_the_stored_order_and_takes_the_stored_values_for_the_rest()
    {
        var stored = new ParentOrderSpec(7, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m)
        {
            Strategy = "alpha",
            PriceExpected = 65_000m,
            MinRepriceInterval = TimeSpan.FromMilliseconds(500),
        };
        await Recording.CreateOrdersAsync(Database, [stored], TimeProvider.System, Ct, explicitId: true);
        var bare = new ParentOrderSpec(7, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m);

        var cases = new (ParentOrderSpec Given, string Difference)[]
        {
            (bare with { Strategy = "beta" }, "strategy 'alpha' (not 'beta')"),
            (bare with { PriceExpected = 64_000m }, "price expected 65000 (not 64000)"),
            (bare with { OnDeadline = DeadlineAction.TakeRemainder }, "cancel at the deadline (not take the remainder)"),
            (bare with { MinRepriceInterval = TimeSpan.FromSeconds(2) }, "minimum re-price interval 500 ms (not 2000 ms)"),

            // Worked as stored, these would run without the deadline asked for, or open a position instead of reducing one.
            (bare with { TimeLimit = TimeSpan.FromSeconds(3) }, "no deadline (not 3000 ms after it starts)"),
            (bare with { ReduceOnly = true }, "reduce-only off (not --reduce-only)"),
        };
        foreach (var (given, difference) in cases)
        {
            var refused = await Assert.ThrowsAsync<UsageException>(() => Recording.UseIdAsync(Database, given, TimeProvider.System, Ct));
            Assert.Equal($"option '--id': order 7 is stored with {difference}; give the same order or leave out --id", refused.Message);
        }

        // An order stored with a time limit of its own (the API's time_limit) and asked for with another.
        await Recording.CreateOrdersAsync(Database, [new ParentOrderSpec(8, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m) { TimeLimit = TimeSpan.FromSeconds(10), ReduceOnly = true }], TimeProvider.System, Ct, explicitId: true);
        var limited = new ParentOrderSpec(8, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m);
        var other = await Assert.ThrowsAsync<UsageException>(() => Recording.UseIdAsync(Database, limited with { TimeLimit = TimeSpan.FromSeconds(3) }, TimeProvider.System, Ct));
        Assert.Equal("option '--id': order 8 is stored with deadline 10000 ms after it starts (not 3000 ms after it starts); give the same order or leave out --id", other.Message);
        var same = await Recording.UseIdAsync(Database, limited with { TimeLimit = TimeSpan.FromSeconds(10), ReduceOnly = true }, TimeProvider.System, Ct);
        Assert.Equal((TimeSpan.FromSeconds(10), true), (same.TimeLimit!.Value, same.ReduceOnly));

        // Left out, or given the same: the order runs as stored.
        foreach (var given in new[] { bare, bare with { Strategy = "alpha", PriceExpected = 65_000.00m, MinRepriceInterval = TimeSpan.FromMilliseconds(500) } })
        {
            var used = await Recording.UseIdAsync(Database, given, TimeProvider.System, Ct);
            Assert.Equal(("alpha", 65_000m, TimeSpan.FromMilliseconds(500)), (used.Strategy, used.PriceExpected, used.MinRepriceInterval!.Value));
        }
    }

    /// <summary>Every field a stored order is worked by, except the id the database gives it.</summary>
    private sealed class SpecFields : IEqualityComparer<ParentOrderSpec>
    {
        public bool Equals(ParentOrderSpec? x, ParentOrderSpec? y) =>
            x is not null && y is not null
            && (x.Symbol, x.Side, x.SizeType, x.Size, x.ReduceOnly, x.Deadline, x.TimeLimit, x.OnDeadline, x.Strategy, x.PriceExpected, x.MinRepriceInterval)
            == (y.Symbol, y.Side, y.SizeType, y.Size, y.ReduceOnly, y.Deadline, y.TimeLimit, y.OnDeadline, y.Strategy, y.PriceExpected, y.MinRepriceInterval);

        public int GetHashCode(ParentOrderSpec obj) => obj.Symbol.GetHashCode(StringComparison.Ordinal);
    }
}
