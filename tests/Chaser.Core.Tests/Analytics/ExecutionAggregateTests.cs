using Chaser.Core.Analytics;
using Chaser.Core.Domain;

namespace Chaser.Core.Tests.Analytics;

public class ExecutionAggregateTests
{
    private static ExecutionMetrics Metrics(decimal notional, decimal? slippage, decimal? maker = 1m) =>
        new() { FilledNotional = notional, SlippageVsArrival = slippage, MakerFraction = maker, Fees = notional * 0.0002m, MarkoutsBps = [null, null, null] };

    [Fact]
    public void Groups_weight_by_filled_notional_and_count_unfilled_orders()
    {
        var groups = ExecutionAggregate.Group(
        [
            new("BTCUSDT", Side.Buy, "a", Metrics(3_000m, 0.0002m)),      // 2 bp on 3,000
            new("BTCUSDT", Side.Buy, "a", Metrics(1_000m, -0.0002m, 0m)), // −2 bp on 1,000, all taker
            new("BTCUSDT", Side.Buy, "a", Metrics(0m, null, null)),       // nothing filled
            new("ETHUSDT", Side.Sell, "a", Metrics(500m, 0.001m)),
        ]);

        Assert.Equal(2, groups.Count);
        var btc = groups[0];
        Assert.Equal(("BTCUSDT", Side.Buy, "a", 3), (btc.Symbol, btc.Side, btc.Strategy, btc.Orders));
        Assert.Equal(4_000m, btc.FilledNotional);
        Assert.Equal(0.8m, btc.Fees);                       // 0.0002 × 4,000
        Assert.Equal(1m, btc.SlippageVsArrivalBps);         // (2 × 3,000 − 2 × 1,000) / 4,000
        Assert.Equal(0.75m, btc.MakerFraction);             // (1 × 3,000 + 0 × 1,000) / 4,000
        Assert.Null(btc.SlippageVsExpectedBps);
        Assert.Null(btc.MarkoutBps1s);
        Assert.Equal(10m, groups[1].SlippageVsArrivalBps);  // a single order: its own 10 bp
    }

    [Fact]
    public void Shortfall_sums_in_usdt_and_weights_bp_by_the_target_at_arrival_so_unfilled_orders_count()
    {
        static ExecutionMetrics Shortfall(decimal filled, decimal? usdt, decimal? arrivalNotional) =>
            new() { FilledNotional = filled, ImplementationShortfall = usdt, ArrivalNotional = arrivalNotional, MarkoutsBps = [null, null, null] };

        var groups = ExecutionAggregate.Group(
        [
            new("BTCUSDT", Side.Buy, "a", Shortfall(3_000m, 0.6m, 3_000m)),   // 2 bp, filled
            new("BTCUSDT", Side.Buy, "a", Shortfall(0m, 1m, 1_000m)),         // 10 bp, nothing filled: all opportunity cost
            new("BTCUSDT", Side.Buy, "a", Shortfall(500m, null, null)),       // no arrival mid: left out
            new("ETHUSDT", Side.Sell, "a", Shortfall(0m, null, null)),
        ]);

        // (0.6 + 1) / (3,000 + 1,000) = 4 bp; weighted by filled notional it would have been 2 bp, the unfilled order unseen.
        Assert.Equal(1.6m, groups[0].ImplementationShortfall);
        Assert.Equal(4m, groups[0].ImplementationShortfallBps);
        Assert.Null(groups[1].ImplementationShortfall);
        Assert.Null(groups[1].ImplementationShortfallBps);
    }

    [Fact]
    public void A_group_whose_shortfalls_sum_past_the_decimal_range_has_none_rather_than_no_report()
    {
        var huge = new ExecutionMetrics { FilledNotional = 1m, ImplementationShortfall = 50_000_000_000_000_000_000_000_000_000m, ArrivalNotional = 50_000_000_000_000_000_000_000_000_000m, MarkoutsBps = [null, null, null] };

        var group = Assert.Single(ExecutionAggregate.Group([new("BTCUSDT", Side.Buy, "a", huge), new("BTCUSDT", Side.Buy, "a", huge)]));

        Assert.Null(group.ImplementationShortfall);
        Assert.Null(group.ImplementationShortfallBps);
        Assert.Equal(2, group.Orders);
    }
}
