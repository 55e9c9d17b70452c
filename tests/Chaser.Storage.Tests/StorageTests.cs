using System.Diagnostics;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Rules;
using Chaser.Engine;
using Chaser.Simulator.Server;
using Chaser.Tests.Shared;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage.Tests;

/// <summary>Every storage test runs on SQLite (the embedded default) and on real PostgreSQL.</summary>
public class StorageTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static readonly SymbolRules Btc = new()
    {
        Symbol = "BTCUSDT",
        TickSize = 0.10m,
        StepSize = 0.001m,
        MinQty = 0.001m,
        MinNotional = 100m,
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task Migrations_apply_to_an_empty_database_once(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var db = new ChaserDb(database.ConnectionString);

        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], await DatabaseMigrator.MigrateAsync(db, Ct));
        Assert.Empty(await DatabaseMigrator.MigrateAsync(db, Ct));
        Assert.Equal(0, await db.Orders.CountAsync(Ct));
        Assert.Equal(0, await db.Fills.CountAsync(Ct));
        Assert.Equal(0, await db.Mids.CountAsync(Ct));
        Assert.Equal(0, await db.Events.CountAsync(Ct));
        Assert.Equal(0, await db.ChildOrders.CountAsync(Ct));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task The_client_id_tag_is_drawn_once_per_database_kept_across_restarts_and_agreed_by_concurrent_first_users(DatabaseProvider provider)
    {
        await using var first = await TestDatabase.CreateAsync(provider);
        await using var second = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(first);
        await MigrateAsync(second);

        // Eight processes opening a fresh database at once: one tag wins and every one of them reads it.
        var tags = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            await using var db = new ChaserDb(first.ConnectionString);
            return await db.GetClientIdTagAsync(Ct);
        }));
        Assert.Single(tags.Distinct(StringComparer.Ordinal));
        Assert.True(ClientOrderIds.IsValidTag(tags[0]), tags[0]);

        // A restarted process on the same database gets the same tag; another database on the account its own.
        await using (var reopened = new ChaserDb(first.ConnectionString))
        {
            Assert.Equal(tags[0], await reopened.GetClientIdTagAsync(Ct));
        }

        await using (var other = new ChaserDb(second.ConnectionString))
        {
            Assert.NotEqual(tags[0], await other.GetClientIdTagAsync(Ct));
        }

        // One row only, and nothing else can be added beside it.
        await using var check = new ChaserDb(first.ConnectionString);
        Assert.Equal(1, await check.Database.SqlQuery<int>($"SELECT COUNT(*) AS \"Value\" FROM instance").SingleAsync(Ct));
        await Assert.ThrowsAnyAsync<Exception>(() => check.Database.ExecuteSqlAsync($"INSERT INTO instance (id, client_id_tag) VALUES (2, {"abcdef"})", Ct));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task Restart_recovery_restores_and_cancels_only_this_databases_orders_not_another_instances_with_the_same_parent_id(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        string tag;
        await using (var setup = new ChaserDb(database.ConnectionString))
        {
            tag = await setup.GetClientIdTagAsync(Ct);
            setup.Orders.Add(new OrderRow { Id = 21, Symbol = "ETHUSDT", Size = 1m, SizeType = "q", Side = 1, Status = OrderStatus.Working, Venue = "sim", Account = "key-test", CreatedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow });
            await setup.SaveChangesAsync(Ct);
        }

        // The crash left one child of ours resting and one filled; another database on the account works its own
        // parent order 21 at the same time, with a resting child and a filled one of its own.
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Source = MarketSourceKind.Manual }, Ct);
        simulator.Engine.ReplaceBook("ETHUSDT", [new(3_399.99m, 100m)], [new(3_400.00m, 100m)]);
        void Place(string clientOrderId, Chaser.Simulator.Engine.OrderType type, decimal quantity) => simulator.Engine.PlaceOrder(new Chaser.Simulator.Engine.NewOrderRequest
        {
            Symbol = "ETHUSDT",
            Side = Chaser.Simulator.Engine.OrderSide.Buy,
            Type = type,
            TimeInForce = type == Chaser.Simulator.Engine.OrderType.Limit ? Chaser.Simulator.Engine.TimeInForce.Gtc : null,
            Quantity = quantity,
            Price = type == Chaser.Simulator.Engine.OrderType.Limit ? 3_000m : null,
            NewClientOrderId = clientOrderId,
        });
        Place(ClientOrderIds.For(tag, 21, 1), Chaser.Simulator.Engine.OrderType.Limit, 0.1m);
        Place(ClientOrderIds.For(tag, 21, 2), Chaser.Simulator.Engine.OrderType.Market, 0.2m);
        Place(ClientOrderIds.For("other1", 21, 1), Chaser.Simulator.Engine.OrderType.Limit, 0.1m);
        Place(ClientOrderIds.For("other1", 21, 2), Chaser.Simulator.Engine.OrderType.Market, 1.47m);

        await using var connector = SimulatorConnector.For(simulator, webSocketOrderEntry: false);
        var report = await Recovery.RecoverAsync(database.ConnectionString, connector, connector, "sim", "key-test", cancellationToken: Ct);

        Assert.Equal(1, report.Orders);
        Assert.Equal(1, report.OrphansCanceled);
        var open = Assert.Single(simulator.Engine.GetOpenOrders("ETHUSDT"));
        Assert.Equal(ClientOrderIds.For("other1", 21, 1), open.ClientOrderId);
        await using var db = new ChaserDb(database.ConnectionString);
        var order = await db.Orders.Include(o => o.Fills).AsNoTracking().SingleAsync(o => o.Id == 21, Ct);
        Assert.Equal(0.2m, order.FilledQty);
        Assert.All(order.Fills, f => Assert.Equal(ClientOrderIds.For(tag, 21, 2), f.ClientOrderId));
        Assert.Equal(0.2m, order.Fills.Sum(f => f.Qty));
        Assert.Equal(OrderStatus.Canceled, order.Status);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task What_the_engine_records_round_trips_exactly_and_a_fill_reported_twice_is_stored_once(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        var spec = new ParentOrderSpec(7, "BTCUSDT", Side.Buy, SizeType.Notional, 1_000.5m);
        var child = PlacedChild(spec);
        var fill = new FillRecord(7, child.ClientOrderId, 42, 123_456_789.12345678m, 0.00000001m, 0.00000002m, "USDT", true, T0.AddMilliseconds(1.5), T0.AddMilliseconds(2.25));
        var place = new ChaserCommand(ChaserCommandKind.Place, child.ClientOrderId, Side.Buy, ChildOrderType.PostOnly, 65_000.1m, 0.015m, FinishReason.None, new DecisionCause(EventKind.BookTop, DecisionRule.PostAtBest));
        var finish = new ChaserCommand(ChaserCommandKind.Finish, "", Side.Buy, ChildOrderType.PostOnly, 0m, 0m, FinishReason.Filled, new DecisionCause(EventKind.Fill, DecisionRule.TargetReached), "target reached");

        await using (var recorder = new StorageRecorder(database.ConnectionString))
        {
            recorder.OrderStarted(spec, T0);
            recorder.ArrivalMid(7, 65_000.05m, T0);
            recorder.Mid(new MidSample(7, 65_000m, 65_000.1m, T0, T0.AddTicks(17)));
            recorder.MarketTrade(new MarketTradeSample(7, 65_000.1m, 0.123m, false, T0.AddMilliseconds(3), T0.AddMilliseconds(4)));
            recorder.MarketTrade(new MarketTradeSample(7, 65_000m, 0.0001m, true, T0.AddMilliseconds(5), T0.AddMilliseconds(6)));
            recorder.Decision(new DecisionRecord(7, T0, place, 123.4, 12.5));
            recorder.Child(ChildOrderSnapshot.Of(7, child, T0));
            recorder.Fill(fill);
            recorder.Fill(fill with { ReceivedAt = T0.AddSeconds(3) }); // the same trade again, from userTrades
            recorder.Decision(new DecisionRecord(7, T0.AddSeconds(1), finish, null));
            recorder.OrderCompleted(new ExecutionResult
            {
                Spec = spec,
                Status = FinishReason.Filled,
                Detail = "target reached",
                FilledQuantity = 0.00000001m,
                FilledNotional = 1.2345678912345678m,
                Fees = 0.00000002m,
                ArrivalMid = 65_000.05m,
                StartedAt = T0,
                CompletedAt = T0.AddSeconds(1),
                ChildOrders = 1,
            });
            await recorder.FlushAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }

        await using var db = new ChaserDb(database.ConnectionString);
        var order = await db.Orders.Include(o => o.Fills).Include(o => o.Mids).Include(o => o.Events).Include(o => o.Children).Include(o => o.MarketTrades).SingleAsync(Ct);
        Assert.Equal(("filled", "target reached", 1_000.5m, "n", 1), (order.Status, order.StatusDetail, order.Size, order.SizeType, order.Side));
        Assert.Equal(65_000.05m, order.ArrivalMid);
        Assert.Equal(0.00000001m, order.FilledQty);
        Assert.Equal(1.2345678912345678m, order.FilledNotional);
        Assert.Equal(T0, order.StartedAt);
        Assert.Equal(T0.AddSeconds(1), order.CompletedAt);

        var stored = Assert.Single(order.Fills);
        Assert.Equal((42L, 123_456_789.12345678m, 0.00000001m, 0.00000002m, true), (stored.TradeId, stored.Price, stored.Qty, stored.Fee, stored.IsMaker));
        Assert.Equal(T0.AddMilliseconds(1.5), stored.ExchangeTime);

        var mid = Assert.Single(order.Mids);
        Assert.Equal(65_000.05m, mid.Mid);
        Assert.Equal(T0.AddTicks(10), mid.ReceivedTime); // 1.7 µs is kept as 1 µs: microseconds, as PostgreSQL keeps them

        Assert.Equal(["place", "finish"], order.Events.OrderBy(e => e.Time).Select(e => e.Kind));
        var placed = order.Events.Single(e => e.Kind == "place");
        Assert.Equal((65_000.1m, 0.015m, "book_top", "post_at_best", 123.4, 12.5), (placed.Price!.Value, placed.Qty!.Value, placed.Trigger, placed.Rule, placed.TickToOrderUs!.Value, placed.HopUs!.Value));
        var finished = order.Events.Single(e => e.Kind == "finish");
        Assert.Equal(("filled", (double?)null), (finished.FinishReason, finished.HopUs)); // nothing sent: no hop, not 0

        Assert.Equal(
            [(65_000.1m, 0.123m, false, T0.AddMilliseconds(3), T0.AddMilliseconds(4)), (65_000m, 0.0001m, true, T0.AddMilliseconds(5), T0.AddMilliseconds(6))],
            order.MarketTrades.OrderBy(t => t.ExchangeTime).Select(t => (t.Price, t.Qty, t.BuyerIsMaker, t.ExchangeTime, t.ReceivedTime)));

        var storedChild = Assert.Single(order.Children);
        Assert.Equal((child.ClientOrderId, 65_000.1m, "pending_new"), (storedChild.ClientOrderId, storedChild.Price, storedChild.Status));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task A_child_row_counts_every_modify_the_chaser_made_also_one_answered_at_once_by_the_next(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        var spec = new ParentOrderSpec(7, "BTCUSDT", Side.Buy, SizeType.Notional, 1_000m);
        var machine = new ChaserStateMachine(spec, Btc);
        var time = T0;
        await using (var recorder = new StorageRecorder(database.ConnectionString))
        {
            recorder.OrderStarted(spec, T0);

            // What the runner does: one event, then the child as it stands after the chaser's decisions.
            void Record(Func<DateTimeOffset, ChaserDecisions> handle)
            {
                time = time.AddSeconds(1);
                handle(time);
                recorder.Child(ChildOrderSnapshot.Of(7, machine.Children[0], time));
            }

            string Id() => machine.Children[0].ClientOrderId;
            decimal Resting() => machine.Children[0].Price;
            decimal Quantity() => machine.Children[0].Quantity;
            machine.Start(T0);
            Record(now => machine.OnBookTop(new BookTop(65_000.0m, 1m, 65_000.1m, 1m, 1, now), now));
            Record(now => machine.OnAccepted(new OrderAccepted(Id(), 1, Resting(), Quantity(), false, now, now)));
            Record(now => machine.OnBookTop(new BookTop(65_000.5m, 1m, 65_000.6m, 1m, 2, now), now));
            Record(now => machine.OnBookTop(new BookTop(65_001.0m, 1m, 65_001.1m, 1m, 3, now), now));

            // The first modify is accepted while the book moved on: the chaser sends the next one at once, so the
            // child is pending again (at the accepted price) when it is recorded.
            Record(now => machine.OnAccepted(new OrderAccepted(Id(), 1, 65_000.5m, Quantity(), true, now, now)));
            Assert.Equal((ChildState.PendingModify, 65_000.5m), (machine.Children[0].State, machine.Children[0].Price));
            Record(now => machine.OnAccepted(new OrderAccepted(Id(), 1, 65_001.0m, Quantity(), true, now, now)));
            Assert.Equal(2, machine.Children[0].Modifies);
            await recorder.FlushAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }

        await using var db = new ChaserDb(database.ConnectionString);
        var child = await db.ChildOrders.AsNoTracking().SingleAsync(Ct);
        Assert.Equal(("live", 65_001.0m, 2), (child.Status, child.Price, child.Modifies));
        Assert.Equal(T0.AddSeconds(1), child.SentAt);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task Concurrent_recorders_lose_nothing(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        const int recorders = 4, ordersEach = 10, rowsEach = 50;

        await Task.WhenAll(Enumerable.Range(0, recorders).Select(r => Task.Run(async () =>
        {
            await using var recorder = new StorageRecorder(database.ConnectionString);
            for (var o = 0; o < ordersEach; o++)
            {
                WriteOrder(recorder, 1 + (r * ordersEach) + o, rowsEach);
            }

            await recorder.FlushAsync(Ct);
        }, Ct)));

        await using var db = new ChaserDb(database.ConnectionString);
        Assert.Equal(recorders * ordersEach, await db.Orders.CountAsync(Ct));
        Assert.Equal(recorders * ordersEach * rowsEach, await db.Fills.CountAsync(Ct));
        Assert.Equal(recorders * ordersEach * rowsEach, await db.Mids.CountAsync(Ct));
        Assert.Equal(recorders * ordersEach * rowsEach, await db.Events.CountAsync(Ct));
        Assert.Equal(recorders * ordersEach, await db.Orders.CountAsync(o => o.Status == OrderStatus.Filled, Ct));
    }

    // PostgreSQL only: a server that refuses connections and drops the open ones is the outage that happens in
    // production; the embedded SQLite file has no server to lose.
    [Theory]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task A_database_outage_delays_writes_and_loses_none(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        await using var recorder = new StorageRecorder(database.ConnectionString);
        WriteOrder(recorder, 1, 100);
        await recorder.FlushAsync(Ct);

        // The outage: the server refuses connections to the database and drops the open ones.
        await database.AdminAsync("ALTER DATABASE {db} ALLOW_CONNECTIONS false");
        await database.AdminAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'");

        WriteOrder(recorder, 2, 100);
        var waited = Stopwatch.StartNew();
        while (recorder.FailedAttempts == 0 && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100, Ct);
        }

        Assert.True(recorder.FailedAttempts > 0, "the outage was not noticed");
        WriteOrder(recorder, 3, 100);

        await database.AdminAsync("ALTER DATABASE {db} ALLOW_CONNECTIONS true");

        await recorder.FlushAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        await using var db = new ChaserDb(database.ConnectionString);
        Assert.Equal(3, await db.Orders.CountAsync(o => o.Status == OrderStatus.Filled, Ct));
        Assert.Equal(300, await db.Fills.CountAsync(Ct));
        Assert.Equal(300, await db.Mids.CountAsync(Ct));
        Assert.Equal(300, await db.Events.CountAsync(Ct));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task Stored_orders_execute_on_the_simulator_and_read_back_with_their_fills(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        await using (var setup = new ChaserDb(database.ConnectionString))
        {
            setup.Orders.AddRange(
                new OrderRow { Id = 11, Symbol = "BTCUSDT", Size = 2_000m, SizeType = "n", Side = 1, Strategy = "demo", PriceExpected = 65_000m, CreatedAt = T0 },
                new OrderRow { Id = 12, Symbol = "ETHUSDT", Size = 0.5m, SizeType = "q", Side = -1, Strategy = "demo", CreatedAt = T0 },
                new OrderRow { Id = 13, Symbol = "SOLUSDT", Size = 300m, SizeType = "n", Side = 1, Strategy = "other", CreatedAt = T0 });
            await setup.SaveChangesAsync(Ct);
        }

        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        await using var recorder = new StorageRecorder(database.ConnectionString);
        await using var db = new ChaserDb(database.ConnectionString);
        var store = new OrderStore(database.ConnectionString);
        var ids = new long[] { 11, 12 };

        // An engine with a tag of its own would work this database's orders under ids a restart can't recognise.
        await using (var untagged = new ExecutionEngine(SimulatorConnector.For(simulator), recorder))
        {
            var refused = await Assert.ThrowsAsync<ArgumentException>(() => untagged.ExecuteStoredAsync(store, ids, Ct));
            Assert.Equal("engine", refused.ParamName);
            Assert.Empty(simulator.Engine.GetOpenOrders(null));
        }

        await using var engine = new ExecutionEngine(SimulatorConnector.For(simulator), recorder, options: new EngineOptions { ClientIdTag = await db.GetClientIdTagAsync(Ct) });
        var results = await engine.ExecuteStoredAsync(store, ids, Ct).WaitAsync(TimeSpan.FromSeconds(90), Ct);

        Assert.All(results, r => Assert.Equal(FinishReason.Filled, r.Status));
        var stored = await db.Orders.Include(o => o.Fills).Include(o => o.Mids).Where(o => ids.Contains(o.Id)).OrderBy(o => o.Id).ToListAsync(Ct);
        foreach (var order in stored)
        {
            Assert.Equal(OrderStatus.Filled, order.Status);
            var exchange = simulator.Engine.GetUserTrades(order.Symbol, limit: 10_000);
            Assert.Equal(exchange.Select(t => t.TradeId).Order(), order.Fills.Select(f => f.TradeId).Order());
            Assert.Equal(exchange.Sum(t => t.Qty), order.FilledQty);
            Assert.Equal(order.Fills.Sum(f => f.Qty), order.FilledQty);
            Assert.NotEmpty(order.Mids);
            Assert.True(order.ArrivalMid > 0);
        }

        Assert.Equal(OrderStatus.New, (await db.Orders.AsNoTracking().SingleAsync(o => o.Id == 13, Ct)).Status);
        var report = await db.Orders.Where(o => o.Strategy == "demo").ReportAsync(Ct);
        Assert.Equal([11L, 12L], report.Select(r => r.Id));
        Assert.All(report, r => Assert.NotNull(r.Slippage));
        Assert.NotNull(report[0].SlippageVsExpected);
        Assert.Null(report[1].SlippageVsExpected);
        Assert.Equal(stored[0].Fills.Count, report[0].Fills);

        // A finished order can't be worked again.
        var again = await Assert.ThrowsAsync<OrderClaimException>(() => engine.ExecuteStoredAsync(store, [11], Ct));
        Assert.StartsWith("order 11 is filled; only new orders can be executed", again.Message, StringComparison.Ordinal);
    }

    private static async Task MigrateAsync(TestDatabase database)
    {
        await using var db = new ChaserDb(database.ConnectionString);
        await DatabaseMigrator.MigrateAsync(db, Ct);
    }

    /// <summary>One parent order's worth of writes: start, n fills, n mids, n decisions, completion.</summary>
    private static void WriteOrder(StorageRecorder recorder, long id, int rows)
    {
        var spec = new ParentOrderSpec(id, "BTCUSDT", Side.Sell, SizeType.Quantity, rows * 0.001m);
        recorder.OrderStarted(spec, T0);
        var cause = new DecisionCause(EventKind.BookTop, DecisionRule.RepriceBehindBest);
        for (var i = 0; i < rows; i++)
        {
            var time = T0.AddMilliseconds(i);
            recorder.Fill(new FillRecord(id, $"chs-{id}-1", (id * 100_000) + i, 65_000m + i, 0.001m, 0.013m, "USDT", true, time, time));
            recorder.Mid(new MidSample(id, 65_000m + i, 65_000.1m + i, time, time));
            recorder.Decision(new DecisionRecord(id, time, new ChaserCommand(ChaserCommandKind.Modify, $"chs-{id}-1", Side.Sell, ChildOrderType.PostOnly, 65_000.1m + i, 0.5m, FinishReason.None, cause), 50.0 + i));
        }

        recorder.OrderCompleted(new ExecutionResult { Spec = spec, Status = FinishReason.Filled, FilledQuantity = rows * 0.001m, StartedAt = T0, CompletedAt = T0.AddSeconds(1) });
    }

    // The recorder folds a batch's snapshots of one child into one upsert: the row must come out as upserting every
    // snapshot in turn leaves it (each in its own batch), whether the row is new to the batch or already stored.
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task A_childs_snapshots_written_in_one_batch_leave_the_row_they_leave_written_one_by_one(DatabaseProvider provider)
    {
        var spec = new ParentOrderSpec(7, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.5m);
        ChildOrderSnapshot Snapshot(string id, ChildState state, long exchangeId, decimal price, decimal filled, int modifies, int second) => new()
        {
            ParentId = 7,
            ClientOrderId = id,
            Sequence = id.EndsWith('1') ? 1 : 2,
            OrderType = ChildOrderType.PostOnly,
            ExchangeOrderId = exchangeId,
            Price = price,
            Quantity = 0.25m,
            State = state,
            FilledQuantity = filled,
            Modifies = modifies,
            SentAt = T0.AddSeconds(id.EndsWith('1') ? 1 : 3),
            Time = T0.AddSeconds(second),
        };
        ChildOrderSnapshot[] snapshots =
        [
            Snapshot("c-1", ChildState.PendingNew, 0, 65_000.0m, 0m, 0, 1),
            Snapshot("c-1", ChildState.Live, 11, 65_000.0m, 0m, 0, 2),
            Snapshot("c-2", ChildState.PendingNew, 0, 65_000.1m, 0m, 0, 3),
            Snapshot("c-1", ChildState.PendingModify, 11, 65_000.0m, 0.1m, 0, 4),
            Snapshot("c-1", ChildState.Live, 11, 65_000.2m, 0.1m, 1, 5),
            Snapshot("c-2", ChildState.Final, 0, 65_000.1m, 0m, 0, 6), // rejected: never acked
            Snapshot("c-1", ChildState.Final, 11, 65_000.2m, 0.25m, 1, 7),
            Snapshot("c-1", ChildState.Final, 11, 65_000.2m, 0.25m, 1, 8), // reported again later: done_at stays
        ];

        async Task<List<(string, long, decimal, string, decimal, int, DateTimeOffset, DateTimeOffset?, DateTimeOffset?, DateTimeOffset)>> WriteAsync(int[] flushAfter)
        {
            await using var database = await TestDatabase.CreateAsync(provider);
            await MigrateAsync(database);
            await using (var recorder = new StorageRecorder(database.ConnectionString))
            {
                recorder.OrderStarted(spec, T0);
                await recorder.FlushAsync(Ct);
                for (var i = 0; i < snapshots.Length; i++)
                {
                    recorder.Child(snapshots[i]);
                    if (flushAfter.Contains(i))
                    {
                        await recorder.FlushAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
                    }
                }

                await recorder.FlushAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            }

            await using var db = new ChaserDb(database.ConnectionString);
            return [.. (await db.ChildOrders.AsNoTracking().ToListAsync(Ct)).OrderBy(c => c.ClientOrderId, StringComparer.Ordinal)
                .Select(c => (c.ClientOrderId, c.ExchangeOrderId, c.Price, c.Status, c.FilledQty, c.Modifies, c.SentAt, c.AckedAt, c.DoneAt, c.UpdatedAt))];
        }

        var oneByOne = await WriteAsync([.. Enumerable.Range(0, snapshots.Length)]);
        Assert.Equal(
            [
                ("c-1", 11L, 65_000.2m, "filled", 0.25m, 1, T0.AddSeconds(1), (DateTimeOffset?)T0.AddSeconds(2), (DateTimeOffset?)T0.AddSeconds(7), T0.AddSeconds(8)),
                ("c-2", 0L, 65_000.1m, "rejected", 0m, 0, T0.AddSeconds(3), null, (DateTimeOffset?)T0.AddSeconds(6), T0.AddSeconds(6)),
            ],
            oneByOne);
        Assert.Equal(oneByOne, await WriteAsync([])); // all in one batch
        Assert.Equal(oneByOne, await WriteAsync([1])); // the row stored, then the rest folded onto it
        Assert.Equal(oneByOne, await WriteAsync([0, 4]));
    }

    // Fills reach PostgreSQL as one INSERT of arrays: a fill delivered again in a later batch, twice within one, or
    // beside new ones is stored once, and a fill without a fee asset keeps its null.
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task A_fill_delivered_again_in_a_later_batch_is_stored_once_beside_the_new_ones(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        var spec = new ParentOrderSpec(7, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.5m);
        FillRecord Fill(long tradeId, string? feeAsset, int second) =>
            new(7, "c-1", tradeId, 65_000m + tradeId, 0.001m, 0.00000013m, feeAsset, tradeId % 2 == 0, T0.AddSeconds(second), T0.AddSeconds(second).AddTicks(15));
        await using (var recorder = new StorageRecorder(database.ConnectionString))
        {
            recorder.OrderStarted(spec, T0);
            recorder.Fill(Fill(1, "USDT", 1));
            recorder.Fill(Fill(2, null, 2));
            await recorder.FlushAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);

            // userTrades after a reconnect: both again (one of them twice), and a new one.
            recorder.Fill(Fill(2, null, 9) with { Price = 1m });
            recorder.Fill(Fill(3, "BNB", 3));
            recorder.Fill(Fill(1, "USDT", 9) with { Price = 1m });
            recorder.Fill(Fill(1, "USDT", 10) with { Price = 1m });
            await recorder.FlushAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Equal(0, recorder.FailedAttempts);
        }

        await using var db = new ChaserDb(database.ConnectionString);
        var fills = (await db.Fills.AsNoTracking().ToListAsync(Ct)).OrderBy(f => f.TradeId).Select(f => (f.TradeId, f.Price, f.FeeAsset, f.IsMaker, f.ExchangeTime, f.ReceivedTime));
        Assert.Equal(
            [
                (1L, 65_001m, (string?)"USDT", false, T0.AddSeconds(1), T0.AddSeconds(1).AddTicks(10)),
                (2L, 65_002m, null, true, T0.AddSeconds(2), T0.AddSeconds(2).AddTicks(10)),
                (3L, 65_003m, "BNB", false, T0.AddSeconds(3), T0.AddSeconds(3).AddTicks(10)),
            ],
            fills);
    }

    /// <summary>A child order as the chaser makes it (its constructor is the core's own).</summary>
    private static ChildOrder PlacedChild(ParentOrderSpec spec)
    {
        var machine = new ChaserStateMachine(spec, Btc);
        machine.Start(T0);
        machine.OnBookTop(new BookTop(65_000.1m, 1m, 65_000.2m, 1m, 1, T0), T0);
        return machine.Children[0];
    }
}
