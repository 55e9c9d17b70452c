using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Simulator.Server;
using Chaser.Tests.Shared;

namespace Chaser.Backtesting.Tests;

/// <summary>
/// The five strategies on the real BTCUSDT 2024 recording: 50,000 USDT each side, a 3-minute deadline, starting a minute
/// into the window. Each is the same host on the same matching engine; what each must show is what makes it itself.
/// </summary>
public class StrategyBacktestTests
{
    // A minute after the window's first quote (2024-07-18 23:57:02.507Z).
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_721_347_082_507);

    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    public static TheoryData<Side> Sides => new(Side.Buy, Side.Sell);

    [Theory]
    [MemberData(nameof(Sides))]
    public void Every_fill_of_the_taker_is_a_taker_fill_and_nothing_is_posted(Side side)
    {
        var recorder = new DecisionList();
        var result = Run(BacktestStrategy.Taker, side, recorder);
        var execution = result.Execution;

        Assert.Equal(FinishReason.Filled, execution.Status);
        Assert.NotEmpty(execution.Fills);
        Assert.All(execution.Fills, f => Assert.False(f.IsMaker, $"trade {f.TradeId} is a maker fill"));
        var places = recorder.Decisions.Where(d => d.Command.Kind == ChaserCommandKind.Place).ToArray();
        Assert.All(places, p => Assert.Equal((ChildOrderType.Market, DecisionRule.TakeAtArrival), (p.Command.OrderType, p.Command.Cause.Rule)));
        Assert.Equal(places[0].Time, execution.StartedAt);
        // Done within a few round trips of the start, not at the deadline.
        Assert.True(execution.Duration < TimeSpan.FromSeconds(1), $"took {execution.Duration}");
        AssertMatchesTheExchange(result);
    }

    [Theory]
    [MemberData(nameof(Sides))]
    public void A_queue_order_keeps_one_child_unless_a_post_only_reject_forced_a_repost(Side side)
    {
        foreach (var strategy in new[] { BacktestStrategy.Queue, BacktestStrategy.QueueTake })
        {
            var recorder = new DecisionList();
            var result = Run(strategy, side, recorder);
            var execution = result.Execution;

            Assert.Equal(1 + execution.PostOnlyRejects, PostedChildren(recorder));
            Assert.Equal(0, execution.Modifies);
            Assert.DoesNotContain(recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Modify);
            // The only cancel a queue order sends is the deadline's.
            Assert.All(recorder.Decisions.Where(d => d.Command.Kind == ChaserCommandKind.Cancel), d => Assert.True(
                d.Command.Cause.Rule is DecisionRule.DeadlineExpire or DecisionRule.DeadlineTakeRemainder, $"{strategy}: a cancel by {d.Command.Cause.Rule}"));
            AssertMatchesTheExchange(result);
        }
    }

    [Theory]
    [MemberData(nameof(Sides))]
    public void Queue_take_completes_by_the_deadline_and_queue_does_not_take(Side side)
    {
        // Five seconds: on this data the resting order fills in about eleven (buy) or a hundred (sell).
        var deadline = TimeSpan.FromSeconds(5);
        var queue = Backtester.Run(Options(BacktestStrategy.Queue, side) with { Deadline = deadline }, cancellationToken: TestContext.Current.CancellationToken).Execution;
        var queueTake = Backtester.Run(Options(BacktestStrategy.QueueTake, side) with { Deadline = deadline }, cancellationToken: TestContext.Current.CancellationToken).Execution;

        Assert.Equal(FinishReason.Expired, queue.Status);
        Assert.Equal(FinishReason.Filled, queueTake.Status);
        Assert.InRange(queueTake.Duration, deadline, deadline + TimeSpan.FromSeconds(1));
        Assert.Contains(queueTake.Fills, f => !f.IsMaker);
        Assert.All(queue.Fills, f => Assert.True(f.IsMaker));
        // The same resting order until the deadline: what the queue filled as maker, queue-take filled too.
        Assert.Equal(
            queue.Fills.Select(f => (f.Price, f.Quantity, f.ExchangeTime)),
            queueTake.Fills.Where(f => f.IsMaker).Select(f => (f.Price, f.Quantity, f.ExchangeTime)));
    }

    [Fact]
    public void Naive_re_prices_to_the_touch_unpaced_and_the_chaser_is_the_default()
    {
        var naiveReprices = 0;
        var chaserReprices = 0;
        foreach (var side in new[] { Side.Buy, Side.Sell })
        {
            var naiveDecisions = new DecisionList();
            var naive = Run(BacktestStrategy.Naive, side, naiveDecisions);
            var chaserDecisions = new DecisionList();
            var chaser = Run(BacktestStrategy.Chaser, side, chaserDecisions).Execution;
            var mine = Backtester.Run(Options(BacktestStrategy.Chaser, side) with { Order = Order(side) with { Strategy = "mine" } }, cancellationToken: TestContext.Current.CancellationToken).Execution;

            Assert.All(
                naiveDecisions.Decisions.Where(d => d.Command.Kind is ChaserCommandKind.Modify or ChaserCommandKind.Cancel),
                d => Assert.Equal(DecisionRule.RepriceBehindBest, d.Command.Cause.Rule));
            naiveReprices += naiveDecisions.Reprices().Length;
            chaserReprices += chaserDecisions.Reprices().Length;
            AssertMatchesTheExchange(naive);

            // The chaser strategy is the chaser as it stands: the same decisions as a run with its own tag.
            Assert.Equal("chaser", chaser.Spec.Strategy);
            Assert.Equal("mine", mine.Spec.Strategy);
            Assert.Equal(chaser.Fills.Select(f => (f.TradeId, f.Price, f.Quantity)), mine.Fills.Select(f => (f.TradeId, f.Price, f.Quantity)));
            Assert.Equal((chaser.Modifies, chaser.Cancels, chaser.ChildOrders), (mine.Modifies, mine.Cancels, mine.ChildOrders));
        }

        // On this data the naive order re-prices more often than the chaser (the sell: four times against two).
        Assert.True(naiveReprices > chaserReprices, $"naive re-priced {naiveReprices} times, the chaser {chaserReprices}");
    }

    [Fact]
    public void Each_result_is_tagged_with_its_strategys_name()
    {
        foreach (var strategy in BacktestStrategies.All)
        {
            var (order, _) = BacktestStrategies.Configure(strategy, Order(Side.Buy), new ChaserOptions(), hasDeadline: true);
            Assert.Equal(BacktestStrategies.NameOf(strategy), order.Strategy);
            Assert.True(BacktestStrategies.TryParse(order.Strategy, out var parsed) && parsed == strategy);
        }

        Assert.False(BacktestStrategies.TryParse("QueueTake", out _));
    }

    [Theory]
    [InlineData(BacktestStrategy.Queue, "min_reprice_interval", true, false)]
    [InlineData(BacktestStrategy.Taker, "min_reprice_interval", true, false)]
    [InlineData(BacktestStrategy.QueueTake, "min_reprice_interval", true, false)]
    [InlineData(BacktestStrategy.Queue, "deadline_action", false, true)]
    [InlineData(BacktestStrategy.Taker, "deadline_action", false, true)]
    public void A_combination_that_means_nothing_is_refused_naming_the_field(BacktestStrategy strategy, string field, bool interval, bool take)
    {
        var order = Order(Side.Buy) with
        {
            MinRepriceInterval = interval ? TimeSpan.FromSeconds(1) : null,
            OnDeadline = take ? DeadlineAction.TakeRemainder : DeadlineAction.CancelAndExpire,
        };
        var refused = Assert.Throws<ArgumentException>(() => BacktestStrategies.Configure(strategy, order, new ChaserOptions(), hasDeadline: true));
        Assert.StartsWith(field + ": ", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Queue_take_without_a_deadline_is_refused_before_anything_runs()
    {
        var options = Options(BacktestStrategy.QueueTake, Side.Buy) with { Deadline = null };
        var refused = Assert.Throws<ArgumentException>(() => Backtester.Run(options, cancellationToken: TestContext.Current.CancellationToken));
        Assert.StartsWith("deadline: ", refused.Message, StringComparison.Ordinal);
    }

    private static ParentOrderSpec Order(Side side) => new(1, "BTCUSDT", side, SizeType.Notional, 50_000m);

    private static BacktestOptions Options(BacktestStrategy strategy, Side side)
    {
        static string File(string kind) => RecordedData.File("BTCUSDT-UM-20240718T2357Z", kind);
        return new BacktestOptions
        {
            Order = Order(side),
            Data = new ReplayFiles
            {
                Symbol = "BTCUSDT",
                BookTicker = File("bookTicker"),
                Trades = File("trades"),
                DepthSnapshot = File("depthSnapshot"),
                DepthUpdates = File("depthUpdates"),
            },
            Start = Start,
            Deadline = Deadline,
            Strategy = strategy,
        };
    }

    private static BacktestResult Run(BacktestStrategy strategy, Side side, DecisionList? recorder = null) =>
        Backtester.Run(Options(strategy, side), recorder, TestContext.Current.CancellationToken);

    /// <summary>Post-only children placed (the market orders that take a remainder not counted).</summary>
    private static int PostedChildren(DecisionList recorder) =>
        recorder.Decisions.Count(d => d.Command.Kind == ChaserCommandKind.Place && d.Command.OrderType == ChildOrderType.PostOnly);

    private static void AssertMatchesTheExchange(BacktestResult result)
    {
        var execution = result.Execution;
        Assert.Equal(result.ExchangeTradeIds.Order(), execution.Fills.Select(f => f.TradeId).Order());
        Assert.Equal(execution.FilledQuantity, execution.Fills.Sum(f => f.Quantity));
        Assert.Equal(0, result.OpenOrdersLeft);
        Assert.InRange(execution.FilledNotional, 0m, 50_000m + (0.001m * 70_000m));
    }
}
