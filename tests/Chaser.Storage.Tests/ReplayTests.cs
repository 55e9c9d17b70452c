using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Replay;
using Chaser.Core.Rules;
using Chaser.Engine;
using Chaser.Simulator.Server;
using Chaser.Tests.Shared;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage.Tests;

/// <summary>Each order's machine inputs reach <c>order_inputs</c> exactly, and replay to the recorded decisions, on both providers.</summary>
public class ReplayTests
{
    // Ticks below the microsecond: the machine sees them, so the recording keeps them (the other tables truncate).
    private static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero).AddTicks(1_234_567);

    private static readonly SymbolRules Btc = new()
    {
        Symbol = "BTCUSDT",
        TickSize = 0.10m,
        StepSize = 0.001m,
        MinQty = 0.001m,
        MinNotional = 100m,
        PercentPriceMultiplierUp = 1.05m,
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task Every_kind_of_input_and_the_start_round_trip_exactly(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        var spec = new ParentOrderSpec(7, "BTCUSDT", Side.Sell, SizeType.Quantity, 0.123m)
        {
            Deadline = T0.AddMinutes(5),
            TimeLimit = TimeSpan.FromTicks(3_000_000_001),
            OnDeadline = DeadlineAction.TakeRemainder,
            Strategy = "twap \"quoted\" é",
            PriceExpected = 65_000.5m,
            MinRepriceInterval = TimeSpan.FromMilliseconds(350),
            ReduceOnly = true,
        };
        var start = new ReplayStart(spec, Btc, new ChaserOptions { PreferModify = false, MaxInvalidCancelRatio = 0.25m, Reprice = RepricePolicy.Never, StepBack = false, TakeAtArrival = true }, "abc123", T0, 0.05m);
        var cid = ClientOrderIds.For("abc123", 7, 1);
        var far = new DateTimeOffset(2026, 11, 24, 11, 59, 59, TimeSpan.FromHours(2)); // another offset, before the time
        (ChaserInput Input, DateTimeOffset Time, int DecisionsBefore)[] inputs =
        [
            (ChaserInput.OfBook("BTCUSDT", new BookTop(65_000.1m, 1.5m, 65_000.2m, 0.00000001m, 1_000_099, T0.AddTicks(-478_399)), 12_345), T0, 0),
            (ChaserInput.OfBook("BTCUSDT", default, 0), T0.AddTicks(1), 0), // an empty book, exchange time 0001-01-01
            (ChaserInput.OfDepth("BTCUSDT", new DepthLevels([new(65_000.1m, 1m), new(65_000m, 2.5m)], [new(65_000.2m, 0.1m)], 17, far), 0), T0.AddTicks(2), 0),
            (ChaserInput.OfDepth("BTCUSDT", new DepthLevels([], [], 0, T0), 0), T0.AddTicks(3), 0),
            (ChaserInput.OfTrade("BTCUSDT", new TradePrint(65_000.2m, 0.004m, true, T0.AddMilliseconds(-3), T0.AddTicks(4))), T0.AddTicks(4), 0),
            (ChaserInput.OfAccepted(new OrderAccepted(cid, 4_000_000_001, 65_000.2m, 0.123m, true, far, T0.AddTicks(5))), T0.AddTicks(5), 0),
            (ChaserInput.OfRejected(new OrderRejected(cid, RequestKind.Modify, RejectKind.PostOnlyWouldCross, -5022, "Due to the order could not be executed as maker, the Post Only order will be rejected.", T0.AddTicks(6))), T0.AddTicks(6), 0),
            (ChaserInput.OfRejected(new OrderRejected(cid, RequestKind.Cancel, RejectKind.UnknownOrder, -2011, null, T0.AddTicks(7))), T0.AddTicks(7), 0),
            (ChaserInput.OfRejected(new OrderRejected(cid, RequestKind.Place, RejectKind.Fatal, 400, "", T0.AddTicks(8))), T0.AddTicks(8), 0),
            (ChaserInput.OfFill(new Fill(cid, 42, 65_000.2m, 0.061m, 0.00000002m, "USDT", true, 0.061m, false, far, T0.AddTicks(9))), T0.AddTicks(9), 0),
            (ChaserInput.OfFill(new Fill(cid, 43, 65_000.2m, 0.062m, 0m, null, false, 0.123m, true, T0, T0.AddTicks(10))), T0.AddTicks(10), 0),
            (ChaserInput.OfFinished(new OrderFinished(cid, ExchangeOrderStatus.PartiallyFilled, 0.061m, far, T0.AddTicks(11))), T0.AddTicks(11), 0),
            (ChaserInput.OfUnknown(new RequestOutcomeUnknown(cid, RequestKind.Cancel, T0.AddTicks(12))), T0.AddTicks(12), 0),
            (ChaserInput.OfStatus(new OrderStatusReport(cid, false, ExchangeOrderStatus.Expired, 65_000.2m, 0.123m, 0.061m, T0.AddTicks(13))), T0.AddTicks(13), 0),
            (ChaserInput.OfConnectivity(ConnectionScope.OrderEntry, null, up: false), T0.AddTicks(14), 0),
            (ChaserInput.OfConnectivity(ConnectionScope.MarketData, "BTCUSDT", up: true), T0.AddTicks(15), 0),
            (ChaserInput.OfRateBudget(0.0625m), T0.AddTicks(16), 0),
            (ChaserInput.OfCancelBudget(false), T0.AddTicks(17), 1),
            (ChaserInput.OfCancelBudget(true), T0.AddTicks(18), 1),
            (ChaserInput.UserCancel, T0.AddTicks(19), 3),
            (ChaserInput.Timer, T0.AddSeconds(1), 4),
        ];

        await using (var recorder = new StorageRecorder(database.ConnectionString))
        {
            recorder.OrderStarted(spec, T0);
            recorder.MachineStarted(start);
            foreach (var input in inputs)
            {
                // The recorder counts the order's decisions before each input itself (a host hands none over).
                for (var d = inputs.Where(i => i.Time < input.Time).Select(i => i.DecisionsBefore).DefaultIfEmpty().Max(); d < input.DecisionsBefore; d++)
                {
                    recorder.Decision(new DecisionRecord(spec.Id, input.Time, new ChaserCommand(ChaserCommandKind.Cancel, cid, Side.Sell, ChildOrderType.PostOnly, 0m, 0m, FinishReason.None, new DecisionCause(EventKind.Timer, DecisionRule.UserCancel)), null));
                }

                recorder.MachineInput(spec.Id, input.Time, input.Input);
            }

            await recorder.FlushAsync(Ct);
        }

        await using var db = new ChaserDb(database.ConnectionString);
        var (loadedStart, loaded) = await OrderInputs.LoadAsync(db, spec.Id, Ct);

        Assert.NotNull(loadedStart);
        Assert.Equal(start with { Spec = null!, Rules = null!, Options = null! }, loadedStart with { Spec = null!, Rules = null!, Options = null! });
        Assert.Equal(spec, loadedStart.Spec);
        Assert.Equal(Btc, loadedStart.Rules);
        Assert.Equal(start.Options, loadedStart.Options);
        Assert.Equal(inputs.Length, loaded.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            // The machine takes every event at the input's time (Apply sets it); depth levels are lists, compared level by level.
            var (expected, time, decisionsBefore) = inputs[i];
            var got = loaded[i].Input;
            Assert.Equal((time.UtcTicks, decisionsBefore), (loaded[i].Time.UtcTicks, loaded[i].DecisionsBefore));
            Assert.Equal(expected.Kind, got.Kind);
            Assert.Equal(expected.Symbol, got.Symbol);
            if (expected.Kind == EventKind.Depth)
            {
                Assert.Equal(expected.Depth!.Bids, got.Depth!.Bids);
                Assert.Equal(expected.Depth.Asks, got.Depth!.Asks);
                Assert.Equal((expected.Depth.UpdateId, expected.Depth.ExchangeTime.UtcTicks), (got.Depth!.UpdateId, got.Depth!.ExchangeTime.UtcTicks));
                continue;
            }

            Assert.Equal(FieldsOf(expected), FieldsOf(got));
        }
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task Orders_created_as_rows_and_executed_replay_to_the_same_decisions(DatabaseProvider provider)
    {
        // As the Django app creates them: rows in `orders`, status new; executed through the library, as `serve` does.
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        await using (var setup = new ChaserDb(database.ConnectionString))
        {
            setup.Orders.AddRange(
                new OrderRow { Id = 11, Symbol = "BTCUSDT", Size = 40_000m, SizeType = "n", Side = 1, Strategy = "django", CreatedAt = T0 },
                new OrderRow { Id = 12, Symbol = "ETHUSDT", Size = 2.5m, SizeType = "q", Side = -1, Strategy = "django", CreatedAt = T0, MinRepriceIntervalMs = 50, TimeLimitMs = 60_000 });
            await setup.SaveChangesAsync(Ct);
        }

        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        await using var db = new ChaserDb(database.ConnectionString);
        await using (var recorder = new StorageRecorder(database.ConnectionString))
        {
            await using var engine = new ExecutionEngine(SimulatorConnector.For(simulator), recorder, options: new EngineOptions { ClientIdTag = await db.GetClientIdTagAsync(Ct) });
            var results = await engine.ExecuteStoredAsync(new OrderStore(database.ConnectionString), [11, 12], Ct).WaitAsync(TimeSpan.FromSeconds(90), Ct);
            Assert.All(results, r => Assert.Equal(FinishReason.Filled, r.Status));
            await recorder.FlushAsync(Ct);
        }

        foreach (var id in new long[] { 11, 12 })
        {
            var (start, inputs) = await OrderInputs.LoadAsync(db, id, Ct);
            Assert.NotNull(start);
            var decisions = await OrderInputs.LoadDecisionsAsync(db, id, start.StartedAt, Ct);
            var replay = OrderReplay.Run(start, inputs, decisions);

            Assert.True(replay.Same, $"order {id}: {replay.Divergence}");
            Assert.True(replay.RecordingComplete);
            Assert.Equal(await db.Events.CountAsync(e => e.OrderId == id, Ct), replay.SameDecisions);
            Assert.Contains(inputs, i => i.Input.Kind == EventKind.BookTop);
            Assert.Contains(inputs, i => i.Input.Kind == EventKind.Fill);
        }

        // The time limit was resolved as the order started (by the engine, just before the machine's start), and that
        // deadline is what the machine was built with.
        var (ethStart, _) = await OrderInputs.LoadAsync(db, 12, Ct);
        Assert.InRange(ethStart!.Spec.Deadline!.Value - ethStart.StartedAt, TimeSpan.FromSeconds(50), TimeSpan.FromMinutes(1));
        Assert.Equal(TimeSpan.FromMilliseconds(50), ethStart.Spec.MinRepriceInterval);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task An_order_cut_off_by_a_crash_and_closed_by_restart_recovery_replays_what_was_recorded(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        string tag;
        await using (var setup = new ChaserDb(database.ConnectionString))
        {
            tag = await setup.GetClientIdTagAsync(Ct);
            setup.Orders.Add(new OrderRow { Id = 21, Symbol = "BTCUSDT", Size = 20_000m, SizeType = "n", Side = 1, Status = OrderStatus.Working, Venue = "sim", Account = "key-test", CreatedAt = T0, StartedAt = T0 });
            await setup.SaveChangesAsync(Ct);
        }

        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        await using (var storage = new StorageRecorder(database.ConnectionString))
        {
            // The process dies once its first child was accepted: nothing after that reaches the database.
            var crashing = new CrashingRecorder(storage, input => input.Kind == EventKind.Accepted);
            await using var engine = new ExecutionEngine(SimulatorConnector.For(simulator), crashing, options: new EngineOptions { ClientIdTag = tag });
            var spec = new ParentOrderSpec(21, "BTCUSDT", Side.Buy, SizeType.Notional, 20_000m);
            Assert.Equal(FinishReason.Filled, (await engine.ExecuteAsync(spec, Ct).WaitAsync(TimeSpan.FromSeconds(90), Ct)).Status);
            Assert.True(crashing.Crashed);
            await storage.FlushAsync(Ct);
        }

        await using var connector = SimulatorConnector.For(simulator, webSocketOrderEntry: false);
        var report = await Recovery.RecoverAsync(database.ConnectionString, connector, connector, "sim", "key-test", lease: TimeSpan.Zero, cancellationToken: Ct);
        Assert.Equal(1, report.Orders);

        await using var db = new ChaserDb(database.ConnectionString);
        Assert.Equal(OrderStatus.Filled, (await db.Orders.AsNoTracking().SingleAsync(o => o.Id == 21, Ct)).Status);
        var (start, inputs) = await OrderInputs.LoadAsync(db, 21, Ct);
        Assert.NotNull(start);
        Assert.Equal(EventKind.Accepted, inputs[^1].Input.Kind);
        var replay = OrderReplay.Run(start, inputs, await OrderInputs.LoadDecisionsAsync(db, 21, start.StartedAt, Ct));

        Assert.True(replay.Same, $"{replay.Divergence}");
        Assert.False(replay.RecordingComplete);
        Assert.True(replay.SameDecisions >= 1);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task An_order_a_library_caller_ran_twice_replays_its_latest_run(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        var spec = new ParentOrderSpec(31, "ETHUSDT", Side.Buy, SizeType.Quantity, 0.5m);
        var runs = new List<ExecutionResult>();
        await using (var recorder = new StorageRecorder(database.ConnectionString))
        {
            for (var run = 0; run < 2; run++)
            {
                // A fresh engine each time: one engine refuses an id it holds; nothing else stops a library caller.
                await using var engine = new ExecutionEngine(SimulatorConnector.For(simulator), recorder);
                runs.Add(await engine.ExecuteAsync(spec, Ct).WaitAsync(TimeSpan.FromSeconds(90), Ct));
            }

            await recorder.FlushAsync(Ct);
        }

        await using var db = new ChaserDb(database.ConnectionString);
        var (start, inputs) = await OrderInputs.LoadAsync(db, 31, Ct);
        var decisions = await OrderInputs.LoadDecisionsAsync(db, 31, start!.StartedAt, Ct);
        var replay = OrderReplay.Run(start, inputs, decisions);

        Assert.Equal(2, await db.OrderInputs.CountAsync(r => r.OrderId == 31 && r.Kind == OrderInputs.StartKind, Ct));
        Assert.Equal(runs[1].StartedAt, start.StartedAt);
        Assert.True(replay.Same, $"{replay.Divergence}");
        Assert.True(replay.RecordingComplete);
        Assert.True(decisions.Count < await db.Events.CountAsync(e => e.OrderId == 31, Ct), "the first run's decisions are not the latest run's");
    }

    [Fact]
    public async Task Recording_a_book_top_a_mid_a_decision_a_child_and_an_ack_allocates_nothing_on_the_order_loop()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await MigrateAsync(database);
        await using var recorder = new StorageRecorder(database.ConnectionString);
        recorder.OrderStarted(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 1_000m), T0);
        const int frames = 1_000;
        var child = new ChildOrderSnapshot { ParentId = 1, ClientOrderId = "chs-abcdef-1-1", Sequence = 1, Price = 65_000.1m, Quantity = 0.015m, State = ChildState.Live, SentAt = T0, PlacedAt = T0, Time = T0 };
        var modify = new ChaserCommand(ChaserCommandKind.Modify, child.ClientOrderId, Side.Buy, ChildOrderType.PostOnly, 65_000.2m, 0.015m, FinishReason.None, new DecisionCause(EventKind.BookTop, DecisionRule.RepriceBehindBest));

        // Per frame, as the order's loop does: each record handed over as a value and queued as one. Counted in rounds
        // the writer drains between: a burst faster than the writer grows the queue by a segment (its storage, once),
        // which is then reused; the smallest round is what a frame costs once the queue has room.
        long BytesPerFrame(Action<int> record)
        {
            var smallest = long.MaxValue;
            for (var round = 0; round < 8; round++)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < frames; i++)
                {
                    record(i);
                }

                smallest = Math.Min(smallest, GC.GetAllocatedBytesForCurrentThread() - before);
                recorder.FlushAsync(Ct).GetAwaiter().GetResult();
            }

            return smallest / frames;
        }

        var book = BytesPerFrame(i => recorder.MachineInput(1, T0.AddTicks(i), ChaserInput.OfBook("BTCUSDT", new BookTop(65_000.1m + i, 1.5m, 65_000.2m + i, 2m, i, T0), i)));
        var mid = BytesPerFrame(i => recorder.Mid(new MidSample(1, 65_000.1m + i, 65_000.2m + i, T0, T0.AddTicks(i))));
        var decision = BytesPerFrame(i => recorder.Decision(new DecisionRecord(1, T0.AddTicks(i), modify, 12.5)));
        var snapshot = BytesPerFrame(i => recorder.Child(child with { Price = 65_000.1m + i, Time = T0.AddTicks(i) }));
        var ack = BytesPerFrame(i => recorder.MachineInput(1, T0.AddTicks(i), ChaserInput.OfAccepted(new OrderAccepted(child.ClientOrderId, 7, 65_000.2m, 0.015m, true, T0, T0))));
        await recorder.FlushAsync(Ct);

        Assert.Equal((0L, 0L, 0L, 0L, 0L), (book, mid, decision, snapshot, ack));
        await using var db = new ChaserDb(database.ConnectionString);
        Assert.Equal(2 * 8 * frames, await db.OrderInputs.CountAsync(Ct));
        Assert.Equal(8 * frames, await db.Mids.CountAsync(Ct));
        Assert.Equal(8 * frames, await db.Events.CountAsync(Ct));
    }

    /// <summary>The fields of an input's kind the machine reads, every time in UTC and an event record's own time left out (Apply replaces it).</summary>
    private static object? FieldsOf(in ChaserInput input) => input.Kind switch
    {
        EventKind.BookTop => input.Book with { ExchangeTime = Utc(input.Book.ExchangeTime) },
        EventKind.Trade => input.Trade with { Time = default, ExchangeTime = Utc(input.Trade.ExchangeTime) },
        EventKind.Accepted => input.Accepted with { Time = default, ExchangeTime = Utc(input.Accepted.ExchangeTime) },
        EventKind.Rejected => input.Rejected with { Time = default },
        EventKind.Fill => input.Fill with { Time = default, ExchangeTime = Utc(input.Fill.ExchangeTime) },
        EventKind.OrderFinished => input.Finished with { Time = default, ExchangeTime = Utc(input.Finished.ExchangeTime) },
        EventKind.OutcomeUnknown => input.Unknown with { Time = default },
        EventKind.StatusReport => input.Status with { Time = default },
        EventKind.ConnectivityLost or EventKind.ConnectivityRestored => input.Scope,
        EventKind.RateBudget => input.Budget,
        EventKind.CancelBudget => input.YoungCancelsAllowed,
        _ => null,
    };

    private static DateTimeOffset Utc(DateTimeOffset time) => new(time.UtcTicks, TimeSpan.Zero);

    private static async Task MigrateAsync(TestDatabase database)
    {
        await using var db = new ChaserDb(database.ConnectionString);
        await DatabaseMigrator.MigrateAsync(db, Ct);
    }

    /// <summary>Forwards to the database until an input matching <paramref name="lastInput"/> was recorded; then drops everything, as a killed process.</summary>
    private sealed class CrashingRecorder(IExecutionRecorder inner, Func<ChaserInput, bool> lastInput) : IExecutionRecorder
    {
        private volatile bool _crashed;

        public bool Crashed => _crashed;

        public void OrderStarted(ParentOrderSpec spec, DateTimeOffset time) => Forward(() => inner.OrderStarted(spec, time));

        public void ArrivalMid(long parentId, decimal mid, DateTimeOffset time) => Forward(() => inner.ArrivalMid(parentId, mid, time));

        public void Mid(MidSample sample) => Forward(() => inner.Mid(sample));

        public void MarketTrade(MarketTradeSample trade) => Forward(() => inner.MarketTrade(trade));

        public void Decision(DecisionRecord decision) => Forward(() => inner.Decision(decision));

        public void MachineStarted(ReplayStart start) => Forward(() => inner.MachineStarted(start));

        public void MachineInput(long parentId, DateTimeOffset time, in ChaserInput input)
        {
            if (_crashed)
            {
                return;
            }

            inner.MachineInput(parentId, time, input);
            _crashed = lastInput(input);
        }

        public void Child(ChildOrderSnapshot child) => Forward(() => inner.Child(child));

        public void Fill(FillRecord fill) => Forward(() => inner.Fill(fill));

        public void OrderCompleted(ExecutionResult result) => Forward(() => inner.OrderCompleted(result));

        public void Alive(IReadOnlyCollection<long> parentIds, DateTimeOffset time) => Forward(() => inner.Alive(parentIds, time));

        private void Forward(Action write)
        {
            if (!_crashed)
            {
                write();
            }
        }
    }
}
