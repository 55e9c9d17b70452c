using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Simulator.Server;
using Chaser.Tests.Shared;

namespace Chaser.Backtesting.Tests;

/// <summary>A backtest keeps the invalid-cancellation budget of its lone order, as the live engine keeps a symbol's.</summary>
public class CancelBudgetBacktestTests
{
    [Fact]
    public void A_backtest_keeps_its_orders_invalid_cancellation_ratio_within_the_bound()
    {
        var bound = new ChaserOptions { MaxInvalidCancelRatio = 0.3m, InvalidCancelRatioMinOrders = 4, MinRepriceInterval = TimeSpan.Zero };
        string File(string kind) => RecordedData.File("BTCUSDT-UM-20240718T2357Z", kind);
        var options = new BacktestOptions
        {
            Order = new ParentOrderSpec(9, "BTCUSDT", Side.Buy, SizeType.Notional, 1_500_000m),
            Data = new ReplayFiles { Symbol = "BTCUSDT", BookTicker = File("bookTicker"), Trades = File("trades"), DepthSnapshot = File("depthSnapshot"), DepthUpdates = File("depthUpdates") },
            Deadline = TimeSpan.FromSeconds(60),
            Chaser = bound,
        };
        var recorder = new DecisionList();
        Backtester.Run(options, recorder, TestContext.Current.CancellationToken);

        // Replays what Binance counts, request by request: every young cancel sent kept the ratio within the bound.
        var sent = recorder.Decisions.Where(d => d.Command.Kind is not (ChaserCommandKind.Finish or ChaserCommandKind.Query)).ToList();
        var placements = 0;
        var young = 0;
        foreach (var decision in sent)
        {
            if (decision.Command.CountsAsYoungCancel)
            {
                Assert.True(placements < bound.InvalidCancelRatioMinOrders || (young + 1m) / (placements + 1m) <= bound.MaxInvalidCancelRatio, $"young cancel {young + 1} after {placements} placements at {decision.Time:HH:mm:ss.fff}");
                young++;
            }

            if (decision.Command.Kind is ChaserCommandKind.Place or ChaserCommandKind.Modify)
            {
                placements++;
            }
        }

        // The bound was in play, not idle: without it the same tape draws more young cancels.
        var unbounded = new DecisionList();
        Backtester.Run(options with { Chaser = bound with { MaxInvalidCancelRatio = 1m } }, unbounded, TestContext.Current.CancellationToken);
        var unboundedYoung = unbounded.Decisions.Count(d => d.Command.CountsAsYoungCancel);
        Assert.True(young > 0 && young < unboundedYoung, $"{young} young cancels within the bound, {unboundedYoung} without it");
    }
}
