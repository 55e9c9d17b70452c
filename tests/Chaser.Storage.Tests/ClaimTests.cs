using Chaser.Core.Ports;
using Chaser.Engine;
using Chaser.Simulator.Server;
using Chaser.Tests.Shared;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage.Tests;

/// <summary>Claiming orders for execution: once, whole or not at all, on both databases; recovery stays on its venue.</summary>
public class ClaimTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task Of_eight_concurrent_claims_of_the_same_orders_exactly_one_succeeds(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await SeedAsync(database, New(1), New(2), New(3));
        long[] ids = [1, 2, 3];

        var attempts = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            await using var db = new ChaserDb(database.ConnectionString);
            try
            {
                await db.Orders.ClaimAsync(ids, $"venue-{i}", "key-test", Ct);
                return i;
            }
            catch (OrderClaimException e)
            {
                Assert.False(e.Missing);
                return -1;
            }
        }, Ct)).ToArray();
        var outcomes = await Task.WhenAll(attempts);

        var winner = Assert.Single(outcomes, o => o >= 0);
        await using var check = new ChaserDb(database.ConnectionString);
        var rows = await check.Orders.AsNoTracking().OrderBy(o => o.Id).ToListAsync(Ct);
        Assert.All(rows, r =>
        {
            Assert.Equal(OrderStatus.Working, r.Status);
            Assert.Equal($"venue-{winner}", r.Venue);
            Assert.Equal("key-test", r.Account);
        });
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task A_batch_with_an_order_that_is_not_new_claims_nothing_and_names_it(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var filled = New(1);
        filled.Status = OrderStatus.Filled;
        await SeedAsync(database, filled, New(2));

        await using var db = new ChaserDb(database.ConnectionString);
        var refused = await Assert.ThrowsAsync<OrderClaimException>(() => db.Orders.ClaimAsync([2, 1], "sim", "key-test", Ct));
        Assert.Equal([1L], refused.Refused.Keys);
        Assert.Equal("order 1 is filled; only new orders can be executed (an order is executed once)", refused.Message);

        var second = await db.Orders.AsNoTracking().SingleAsync(o => o.Id == 2, Ct);
        Assert.Equal(OrderStatus.New, second.Status);
        Assert.Null(second.Venue);

        var missing = await Assert.ThrowsAsync<OrderClaimException>(() => db.Orders.ClaimAsync([2, 99], "sim", "key-test", Ct));
        Assert.True(missing.Missing);
        Assert.Equal("no such order: 99", missing.Message);
        Assert.Equal(OrderStatus.New, (await db.Orders.AsNoTracking().SingleAsync(o => o.Id == 2, Ct)).Status);

        // A new order is canceled where it stands; a claimed or final one is not touched by that step.
        Assert.True(await db.Orders.CancelNewAsync(2, T0, Ct));
        Assert.False(await db.Orders.CancelNewAsync(2, T0, Ct));
        Assert.False(await db.Orders.CancelNewAsync(1, T0, Ct));
        Assert.Equal(OrderStatus.Canceled, (await db.Orders.AsNoTracking().SingleAsync(o => o.Id == 2, Ct)).Status);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task Recovery_reconciles_only_orders_of_its_own_venue_and_account(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var ours = Working(1, "sim here", "key-a");
        var otherVenue = Working(2, "live https://fapi.binance.com", "key-a");
        var otherAccount = Working(3, "sim here", "key-b");
        var unrecorded = Working(4, null, null);
        await SeedAsync(database, ours, otherVenue, otherAccount, unrecorded);

        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        await using var connector = SimulatorConnector.For(simulator, webSocketOrderEntry: false);
        var report = await Recovery.RecoverAsync(database.ConnectionString, connector, connector, "sim here", "key-a", cancellationToken: Ct);

        Assert.Equal(1, report.Orders);
        Assert.Equal(3, report.OtherVenues.Count);
        Assert.Contains(report.OtherVenues, line => line.StartsWith("order 2 (BTCUSDT) is working on live https://fapi.binance.com", StringComparison.Ordinal));
        Assert.Contains(report.OtherVenues, line => line.StartsWith("order 4 (BTCUSDT) is working on an unrecorded venue", StringComparison.Ordinal));
        await using var db = new ChaserDb(database.ConnectionString);
        var rows = await db.Orders.AsNoTracking().OrderBy(o => o.Id).ToListAsync(Ct);
        Assert.Equal(OrderStatus.Canceled, rows[0].Status);
        Assert.Equal("interrupted by a restart before anything was sent; re-submit it as a new order", rows[0].StatusDetail);
        Assert.All(rows.Skip(1), r => Assert.Equal(OrderStatus.Working, r.Status));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task A_batch_of_new_orders_is_never_refused_because_a_refused_batch_held_one_of_them_a_moment(DatabaseProvider provider)
    {
        // [2, 3] can never run (3 is filled); [1, 2] always can. A claim that holds 2 for a moment and gives it back
        // must not make [1, 2] fail with "order 2 is new; only new orders can be executed".
        await using var database = await TestDatabase.CreateAsync(provider);
        var filled = New(3);
        filled.Status = OrderStatus.Filled;
        await SeedAsync(database, New(1), New(2), filled);
        for (var round = 0; round < 40; round++)
        {
            using var start = new Barrier(2);
            var valid = Task.Run(() => ClaimAfter(start, database, [1, 2]), Ct);
            var doomed = Task.Run(() => ClaimAfter(start, database, [2, 3]), Ct);

            Assert.Equal("refused", await doomed);
            Assert.Equal("claimed", await valid);
            await using var reset = new ChaserDb(database.ConnectionString);
            await reset.Orders.Where(o => o.Id <= 2).ExecuteUpdateAsync(set => set.SetProperty(o => o.Status, OrderStatus.New).SetProperty(o => o.StatusDetail, (string?)null).SetProperty(o => o.Venue, (string?)null), Ct);
        }
    }

    private static async Task<string> ClaimAfter(Barrier start, TestDatabase database, long[] ids)
    {
        await using var db = new ChaserDb(database.ConnectionString);
        await db.Database.OpenConnectionAsync(Ct);
        start.SignalAndWait(Ct);
        try
        {
            await db.Orders.ClaimAsync(ids, "sim", "key-test", Ct);
            return "claimed";
        }
        catch (OrderClaimException)
        {
            return "refused";
        }
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task Recovery_leaves_an_order_alone_while_a_live_process_keeps_its_heartbeat(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var now = DateTimeOffset.UtcNow;
        var alive = Working(1, "v", "a");
        alive.HeartbeatAt = now;
        var stopped = Working(2, "v", "a");
        stopped.HeartbeatAt = now;
        var stale = Working(3, "v", "a");
        stale.HeartbeatAt = now - TimeSpan.FromMinutes(5);
        await SeedAsync(database, alive, stopped, stale);

        // Another process works order 1: its engine says so every 200 ms. Order 2's process died a moment ago.
        await using var recorder = new StorageRecorder(database.ConnectionString);

        // Seeding can take longer than the lease on a loaded machine (EF Core's first use in the process): orders 1 and
        // 2 are stamped fresh once it is done, or both would look abandoned before recovery even starts.
        recorder.Alive([1, 2], DateTimeOffset.UtcNow);
        await recorder.FlushAsync(Ct);
        using var beating = new CancellationTokenSource();
        var heartbeat = Task.Run(async () =>
        {
            while (!beating.IsCancellationRequested)
            {
                recorder.Alive([1], DateTimeOffset.UtcNow);
                await recorder.FlushAsync(CancellationToken.None);
                await Task.Delay(200, CancellationToken.None);
            }
        }, Ct);

        var exchange = new RecoveryDecisionTests.HistoryExchange();
        var report = await Recovery.RecoverAsync(database.ConnectionString, exchange, exchange, "v", "a", lease: TimeSpan.FromSeconds(1.5), cancellationToken: Ct);
        await beating.CancelAsync();
        await heartbeat;

        Assert.Equal(2, report.Orders);
        Assert.Contains("order 1 is worked by another live process (its heartbeat goes on); not reconciled here", report.OtherVenues);
        await using var db = new ChaserDb(database.ConnectionString);
        var rows = await db.Orders.AsNoTracking().OrderBy(o => o.Id).ToListAsync(Ct);
        Assert.Equal([OrderStatus.Working, OrderStatus.Canceled, OrderStatus.Canceled], rows.Select(r => r.Status));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task Executing_the_same_stored_order_twice_at_once_works_it_once(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await SeedAsync(database, New(1));
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        await using var recorder = new StorageRecorder(database.ConnectionString);
        var store = new OrderStore(database.ConnectionString);
        await using var engine = new ExecutionEngine(SimulatorConnector.For(simulator), recorder, options: new EngineOptions { ClientIdTag = await store.GetClientIdTagAsync(Ct) });

        using var start = new Barrier(2);
        var runs = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            start.SignalAndWait(Ct);
            try
            {
                return (await engine.ExecuteStoredAsync(store, [1], Ct)).Single().Status.ToString();
            }
            catch (OrderClaimException e)
            {
                return e.Message;
            }
        }, Ct)).ToArray();
        var outcomes = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(90), Ct);

        Assert.Single(outcomes, o => o == nameof(Core.Chasing.FinishReason.Filled));
        Assert.Single(outcomes, o => o.StartsWith("order 1 is working; only new orders can be executed", StringComparison.Ordinal));
        await using var db = new ChaserDb(database.ConnectionString);
        var order = await db.Orders.Include(o => o.Fills).AsNoTracking().SingleAsync(Ct);
        var exchange = simulator.Engine.GetUserTrades("BTCUSDT", limit: 10_000);
        Assert.Equal((OrderStatus.Filled, exchange.Sum(t => t.Qty)), (order.Status, order.FilledQty));
        Assert.Equal(exchange.Select(t => t.TradeId).Order(), order.Fills.Select(f => f.TradeId).Order());
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task Executing_stored_orders_with_an_unknown_id_claims_none_of_them(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await SeedAsync(database, New(1));
        var store = new OrderStore(database.ConnectionString);
        await using var engine = new ExecutionEngine(new RecoveryDecisionTests.HistoryExchange(), options: new EngineOptions { ClientIdTag = await store.GetClientIdTagAsync(Ct) });

        var refused = await Assert.ThrowsAsync<OrderClaimException>(() => engine.ExecuteStoredAsync(store, [1, 99, 99], Ct));

        Assert.True(refused.Missing);
        Assert.Equal("no such order: 99", refused.Message);
        Assert.True(Assert.Single(await store.GetAsync([1], Ct)).IsNew);
    }

    [Fact]
    public async Task The_check_before_a_claim_names_every_order_that_is_not_new()
    {
        var filled = New(1);
        filled.Status = OrderStatus.Filled;
        var working = Working(2, "v", "a");
        var exchange = new RecoveryDecisionTests.HistoryExchange();
        await using var engine = new ExecutionEngine(exchange);

        var refused = await Assert.ThrowsAsync<OrderClaimException>(() => StoredOrders.CheckAsync(new OrderStore("Data Source=:memory:"), [.. new[] { filled, working, New(3) }.Select(OrderStore.Describe)], engine, Ct));

        Assert.Equal([1L, 2L], refused.Refused.Keys.Order());
        Assert.Equal("order 1 is filled; only new orders can be executed (an order is executed once); order 2 is working; only new orders can be executed (an order is executed once)", refused.Message);
    }

    private static OrderRow New(long id) => new() { Id = id, Symbol = "BTCUSDT", Size = 500m, SizeType = "n", Side = 1, CreatedAt = T0 };

    private static OrderRow Working(long id, string? venue, string? account)
    {
        var row = New(id);
        row.Status = OrderStatus.Working;
        row.Venue = venue;
        row.Account = account;
        return row;
    }

    private static async Task SeedAsync(TestDatabase database, params OrderRow[] rows)
    {
        await using var db = new ChaserDb(database.ConnectionString);
        await DatabaseMigrator.MigrateAsync(db, Ct);
        db.Orders.AddRange(rows);
        await db.SaveChangesAsync(Ct);
    }
}

/// <summary>Recovery decides "filled" as the chaser does: something executed and the remainder can't be posted.</summary>
public class RecoveryDecisionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task A_remainder_below_one_lot_is_filled_and_a_postable_one_is_canceled(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var t0 = DateTimeOffset.UtcNow;
        await using (var db = new ChaserDb(database.ConnectionString))
        {
            await DatabaseMigrator.MigrateAsync(db, Ct);
            db.Orders.AddRange(
                new OrderRow { Id = 1, Symbol = "BTCUSDT", Size = 1_000m, SizeType = "n", Side = 1, Status = OrderStatus.Working, Venue = "v", Account = "a", CreatedAt = t0 },
                new OrderRow { Id = 2, Symbol = "BTCUSDT", Size = 1_000m, SizeType = "n", Side = 1, Status = OrderStatus.Working, Venue = "v", Account = "a", CreatedAt = t0 });
            await db.SaveChangesAsync(Ct);
        }

        // 0.015 BTC at 65,000 = 975 USDT: 25 USDT is left, below one 0.001 lot (65 USDT). 0.012 BTC leaves 220 USDT: 0.003 BTC can rest.
        var exchange = new HistoryExchange();
        await using (var db = new ChaserDb(database.ConnectionString))
        {
            var tag = await db.GetClientIdTagAsync(Ct);
            exchange.Children[1] = [Child(tag, 1, 1, 0.015m)];
            exchange.Children[2] = [Child(tag, 2, 1, 0.012m)];
        }

        var report = await Recovery.RecoverAsync(database.ConnectionString, exchange, exchange, "v", "a", cancellationToken: Ct);

        Assert.Equal(2, report.Orders);
        await using var check = new ChaserDb(database.ConnectionString);
        var rows = await check.Orders.AsNoTracking().OrderBy(o => o.Id).ToListAsync(Ct);
        Assert.Equal((OrderStatus.Filled, 0.015m), (rows[0].Status, rows[0].FilledQty));
        Assert.Equal((OrderStatus.Canceled, 0.012m), (rows[1].Status, rows[1].FilledQty));
    }

    private static Core.Ports.ChildHistory Child(string tag, long parent, int sequence, decimal quantity)
    {
        var id = Core.Chasing.ClientOrderIds.For(tag, parent, sequence);
        var now = DateTimeOffset.UtcNow;
        return new Core.Ports.ChildHistory(id, Core.Chasing.ExchangeOrderStatus.Canceled, quantity, [new Core.Chasing.Fill(id, (parent * 100) + sequence, 65_000m, quantity, 0m, "USDT", true, quantity, true, now, now)]);
    }

    /// <summary>An exchange that only remembers: rules, and each parent's child orders with their fills.</summary>
    internal sealed class HistoryExchange : Core.Ports.IExchangeConnector, Core.Ports.IExchangeHistory
    {
        public Dictionary<long, IReadOnlyList<Core.Ports.ChildHistory>> Children { get; } = [];

        public Task ConnectAsync(Core.Ports.IExchangeEventSink sink, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<Core.Rules.SymbolRules> GetSymbolRulesAsync(string symbol, CancellationToken cancellationToken) =>
            Task.FromResult(new Core.Rules.SymbolRules { Symbol = symbol, TickSize = 0.1m, StepSize = 0.001m, MinQty = 0.001m, MinNotional = 100m });

        public Task SubscribeAsync(string symbol, CancellationToken cancellationToken) => Task.CompletedTask;

        public Core.Ports.Submission Submit(in Core.Ports.OrderRequest request) => throw new InvalidOperationException("recovery sends no orders");

        public Task CancelAllAsync(string symbol, string clientIdTag, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IReadOnlyList<Core.Ports.ChildHistory>> GetChildHistoryAsync(string symbol, string clientIdTag, long parentId, DateTimeOffset since, CancellationToken cancellationToken) =>
            Task.FromResult(Children.GetValueOrDefault(parentId, []));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>The last flush of a run is bounded: a database that stopped taking writes can't hold the process for good.</summary>
public class BoundedFlushTests
{
    [Fact]
    public async Task A_flush_that_runs_out_of_time_gives_the_writes_up_and_closing_returns_at_once()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using (var db = new ChaserDb(database.ConnectionString))
        {
            await DatabaseMigrator.MigrateAsync(db, TestContext.Current.CancellationToken);
        }

        // Another process holds the write lock for the rest of the run.
        await using var holder = new Microsoft.Data.Sqlite.SqliteConnection(database.ConnectionString);
        await holder.OpenAsync(TestContext.Current.CancellationToken);
        await using (var exclusive = holder.CreateCommand())
        {
            exclusive.CommandText = "BEGIN EXCLUSIVE";
            await exclusive.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var recorder = new StorageRecorder(database.ConnectionString) { CloseTimeout = TimeSpan.FromMinutes(5) };
        recorder.ArrivalMid(1, 65_000m, DateTimeOffset.UtcNow);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var timeout = await Assert.ThrowsAsync<StorageUnreachableException>(() => recorder.FlushAsync(TimeSpan.FromSeconds(1)));

        // What the run still records while it winds down (an engine's last markout mid) is lost with the rest; it
        // threw "the recorder is closed" out of `chaser serve`'s shutdown (exit 1, "internal error").
        recorder.ArrivalMid(1, 65_001m, DateTimeOffset.UtcNow);
        await recorder.DisposeAsync();

        Assert.Equal("storage: 1 queued write(s) could not reach the database within 1 s; the exchange remains the record of what was filled", timeout.Message);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed.TotalSeconds:0.0} s, not bounded by the flush's 1 s");
    }
}
