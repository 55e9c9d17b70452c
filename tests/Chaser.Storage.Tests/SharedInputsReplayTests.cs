using Chaser.Backtesting;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Replay;
using Chaser.Core.Rules;
using Chaser.Engine;
using Chaser.Engine.Tests;
using Chaser.Simulator.Server;
using Chaser.Tests.Shared;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Storage.Tests;

/// <summary>
/// What an order decides from beyond itself reaches it as an input, and so replays: the cancel budget its symbol's other
/// orders spend; and a backtest, run by the same host, records and replays as a live run does.
/// </summary>
public class SharedInputsReplayTests
{
    private static readonly SymbolRules Btc = new()
    {
        Symbol = "BTCUSDT",
        TickSize = 0.1m,
        StepSize = 0.001m,
        MinQty = 0.001m,
        MaxQty = 1000m,
        MinNotional = 100m,
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task An_order_whose_young_cancels_another_order_held_back_replays_the_same(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var exchange = new InMemoryExchange(Btc);
        var options = new EngineOptions { Chaser = new ChaserOptions { MaxInvalidCancelRatio = 0.3m, InvalidCancelRatioMinOrders = 2, MinRepriceInterval = TimeSpan.Zero } };
        await using (var recorder = new StorageRecorder(database.ConnectionString))
        {
            await using (var engine = new ExecutionEngine(exchange, recorder, time, options))
            {
                exchange.SetBook("BTCUSDT", 65_000.0m, 65_001.0m);
                var buy = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), Ct);
                await Until(() => exchange.Orders.Count == 1);

                // The buy re-prices its 1 s old child: 2 placements, 1 young cancel, over the 0.3 bound from now on.
                time.Advance(TimeSpan.FromSeconds(1));
                exchange.SetBook("BTCUSDT", 65_000.1m, 65_001.0m);
                await Until(() => Child(Side.Buy).Price == 65_000.1m);

                // The sell, told the budget is spent, leaves its young child to age, then re-prices it on its timer.
                var sell = engine.ExecuteAsync(new ParentOrderSpec(2, "BTCUSDT", Side.Sell, SizeType.Quantity, 0.01m), Ct);
                await Until(() => exchange.Orders.Count == 2);
                time.Advance(TimeSpan.FromSeconds(1));
                exchange.SetBook("BTCUSDT", 65_000.1m, 65_000.9m);
                await Until(() => engine.Progress.TryGetValue(2, out var progress) && progress.Mid == 65_000.5m);
                Assert.Equal(65_001.0m, Child(Side.Sell).Price);
                time.Advance(TimeSpan.FromSeconds(4));
                await Until(() => Child(Side.Sell).Price == 65_000.9m);

                engine.Cancel(1);
                engine.Cancel(2);
                await Task.WhenAll(buy, sell).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            }

            await recorder.FlushAsync(Ct);
        }

        await using var db = new ChaserDb(database.ConnectionString);
        foreach (var id in new long[] { 1, 2 })
        {
            var (start, inputs, decisions) = await LoadAsync(db, id);
            var replay = OrderReplay.Run(start, inputs, decisions);
            Assert.True(replay.Same, $"order {id}: {replay.Divergence}");
            Assert.True(replay.RecordingComplete, $"order {id}");
            Assert.Equal(decisions.Count, replay.SameDecisions);
        }

        // The sell was handed the spent budget as an input, and it is what made it wait: without it the replay
        // re-prices the young child at the second book, where the recording has no decision.
        var (sellStart, sellInputs, sellDecisions) = await LoadAsync(db, 2);
        Assert.Contains(sellInputs, i => i.Input is { Kind: EventKind.CancelBudget, YoungCancelsAllowed: false });
        var unbudgeted = OrderReplay.Run(sellStart, [.. sellInputs.Where(i => i.Input.Kind != EventKind.CancelBudget)], sellDecisions);
        var divergence = Assert.IsType<ReplayDivergence>(unbudgeted.Divergence);
        Assert.Equal((ChaserCommandKind?)null, divergence.Expected?.Kind);
        Assert.Equal(ChaserCommandKind.Modify, divergence.Got?.Kind);

        InMemoryExchange.RestingOrder Child(Side side) => exchange.Orders.Values.Single(o => o.Side == side);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task A_backtest_stored_by_the_recorder_replays_to_the_same_decisions(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrateAsync(database);

        // A bound the tape runs into, so that the backtest hands its order a cancel-budget input too; the post-only child
        // does not fill on this tape, so the remainder taken at the deadline is the fill.
        string File(string kind) => RecordedData.File("BTCUSDT-UM-20240718T2357Z", kind);
        var options = new BacktestOptions
        {
            Order = new ParentOrderSpec(9, "BTCUSDT", Side.Buy, SizeType.Notional, 15_000m) { OnDeadline = DeadlineAction.TakeRemainder },
            Data = new ReplayFiles { Symbol = "BTCUSDT", BookTicker = File("bookTicker"), Trades = File("trades"), DepthSnapshot = File("depthSnapshot"), DepthUpdates = File("depthUpdates") },
            Deadline = TimeSpan.FromSeconds(60),
            Latency = TimeSpan.FromMilliseconds(20),
            Chaser = new ChaserOptions { MaxInvalidCancelRatio = 0.3m, InvalidCancelRatioMinOrders = 4, MinRepriceInterval = TimeSpan.Zero },
        };
        await using (var recorder = new StorageRecorder(database.ConnectionString))
        {
            Backtester.Run(options, recorder, Ct);
            await recorder.FlushAsync(Ct);
        }

        await using var db = new ChaserDb(database.ConnectionString);
        var (start, inputs, decisions) = await LoadAsync(db, 9);
        var replay = OrderReplay.Run(start, inputs, decisions);

        Assert.True(replay.Same, $"{replay.Divergence}");
        Assert.True(replay.RecordingComplete);
        Assert.Equal(await db.Events.CountAsync(e => e.OrderId == 9, Ct), replay.SameDecisions);
        Assert.Contains(inputs, i => i.Input.Kind == EventKind.Depth);
        Assert.Contains(inputs, i => i.Input.Kind == EventKind.Fill);
        Assert.Contains(inputs, i => i.Input is { Kind: EventKind.CancelBudget, YoungCancelsAllowed: false });
    }

    [Theory]
    [InlineData(BacktestStrategy.Naive)]
    [InlineData(BacktestStrategy.Queue)]
    [InlineData(BacktestStrategy.QueueTake)]
    [InlineData(BacktestStrategy.Taker)]
    public async Task A_backtest_of_each_baseline_replays_to_the_same_decisions(BacktestStrategy strategy)
    {
        // The strategy's knobs are options of the machine: the recorded start carries them, or the replay would chase.
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await MigrateAsync(database);
        string File(string kind) => RecordedData.File("BTCUSDT-UM-20240718T2357Z", kind);
        var options = new BacktestOptions
        {
            Order = new ParentOrderSpec(10, "BTCUSDT", Side.Sell, SizeType.Notional, 50_000m),
            Data = new ReplayFiles { Symbol = "BTCUSDT", BookTicker = File("bookTicker"), Trades = File("trades"), DepthSnapshot = File("depthSnapshot"), DepthUpdates = File("depthUpdates") },
            Start = DateTimeOffset.FromUnixTimeMilliseconds(1_721_347_082_507),
            Deadline = TimeSpan.FromSeconds(5),
            Strategy = strategy,
        };
        await using (var recorder = new StorageRecorder(database.ConnectionString))
        {
            Backtester.Run(options, recorder, Ct);
            await recorder.FlushAsync(Ct);
        }

        await using var db = new ChaserDb(database.ConnectionString);
        var (start, inputs, decisions) = await LoadAsync(db, 10);
        var replay = OrderReplay.Run(start, inputs, decisions);

        Assert.True(replay.Same, $"{replay.Divergence}");
        Assert.True(replay.RecordingComplete);
        Assert.Equal(await db.Events.CountAsync(e => e.OrderId == 10, Ct), replay.SameDecisions);
        Assert.Equal(BacktestStrategies.NameOf(strategy), start.Spec.Strategy);
    }

    private static async Task<(ReplayStart Start, List<ReplayInput> Inputs, List<RecordedDecision> Decisions)> LoadAsync(ChaserDb db, long id)
    {
        var (start, inputs) = await OrderInputs.LoadAsync(db, id, Ct);
        Assert.NotNull(start);
        return (start, inputs, await OrderInputs.LoadDecisionsAsync(db, id, start.StartedAt, Ct));
    }

    private static async Task MigrateAsync(TestDatabase database)
    {
        await using var db = new ChaserDb(database.ConnectionString);
        await DatabaseMigrator.MigrateAsync(db, Ct);
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the condition did not become true in time");
            }

            await Task.Delay(5, Ct);
        }
    }
}
