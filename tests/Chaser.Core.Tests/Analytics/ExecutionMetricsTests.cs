using Chaser.Core.Analytics;
using Chaser.Core.Domain;

namespace Chaser.Core.Tests.Analytics;

/// <summary>Metrics against values worked out by hand (the arithmetic is in the comments).</summary>
public class ExecutionMetricsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(double seconds) => T0.AddSeconds(seconds);

    // A buy of 1,000.6 USDT: 4 @ 100.0 (maker) at +1 s and 6 @ 100.1 (taker) at +3 s; done at +4 s.
    private static readonly ExecutionTrace Buy = new()
    {
        Side = Side.Buy,
        SizeType = SizeType.Notional,
        Size = 1_000.6m,
        PriceExpected = 100m,
        StartedAt = T0,
        CompletedAt = At(4),
        ArrivalMid = 100.05m,
        Fills = [new(At(1), 100.0m, 4m, 0.08m, true), new(At(3), 100.1m, 6m, 0.12m, false)],
        Quotes = [new(T0, 100.0m, 100.1m), new(At(2), 100.1m, 100.2m), new(At(5), 100.0m, 100.1m), new(At(70), 99.9m, 100.0m)],
        Tape = [new(At(0.5), 100.0m, 2m), new(At(2.5), 100.2m, 3m), new(At(10), 90m, 100m)],
        ChildOrders = 2,
        Modifies = 3,
        Cancels = 1,
        PostOnlyRejects = 1,
        TickToOrderMicroseconds = [5, 1, 3, 100],
    };

    [Fact]
    public void Sizes_prices_and_slippage_against_arrival_and_expected()
    {
        var m = ExecutionMetrics.Compute(Buy);

        Assert.Equal(10m, m.FilledQuantity);                 // 4 + 6
        Assert.Equal(1_000.6m, m.FilledNotional);            // 400 + 600.6
        Assert.Equal(100.06m, m.AveragePrice);               // 1000.6 / 10
        Assert.Equal(0.01m / 100.05m, m.SlippageVsArrival);  // +1 × (100.06 − 100.05) / 100.05: a cost
        Assert.Equal(0.01m / 100.05m * 10_000m, m.SlippageVsArrivalBps);
        Assert.Equal(0.0006m, m.SlippageVsExpected);         // (100.06 − 100) / 100
        Assert.Equal(1m, m.FillRate);                        // 1000.6 of 1000.6 USDT
        Assert.Equal(0.4m, m.MakerFraction);                 // 4 of 10 made
        Assert.Equal(0.20m, m.Fees);
        Assert.Equal(TimeSpan.FromSeconds(4), m.Duration);
        Assert.Equal(TimeSpan.FromSeconds(1), m.TimeToFirstFill);
        Assert.Equal((2, 3, 1, 1), (m.ChildOrders, m.Modifies, m.Cancels, m.PostOnlyRejects));
    }

    [Fact]
    public void Vwap_uses_the_tape_within_the_orders_life_only()
    {
        var m = ExecutionMetrics.Compute(Buy);

        // (100.0 × 2 + 100.2 × 3) / 5 = 500.6 / 5 = 100.12; the print at +10 s is after the order and left out.
        Assert.Equal(100.12m, m.MarketVwap);
        Assert.Equal((100.06m - 100.12m) / 100.12m, m.SlippageVsVwap); // negative: better than the market's VWAP
        Assert.Null(ExecutionMetrics.Compute(Buy with { Tape = null }).MarketVwap);
    }

    [Fact]
    public void Half_spread_captured_uses_the_quote_in_effect_at_each_fill()
    {
        // Fill 1 at +1 s: quote 100.0/100.1, mid 100.05, earned 4 × 0.05 = 0.2 of 4 × 0.05 = 0.2 available.
        // Fill 2 at +3 s: quote 100.1/100.2 (from +2 s), mid 100.15, earned 6 × 0.05 = 0.3 of 0.3. Total 0.5 / 0.5 = 1.
        Assert.Equal(1m, ExecutionMetrics.Compute(Buy).HalfSpreadCaptured);

        // Paying the ask instead: 10 @ 100.1 against mid 100.05 earns 10 × −0.05 of 10 × 0.05 → −1.
        var crossed = Buy with { Fills = [new(At(1), 100.1m, 10m, 0m, false)] };
        Assert.Equal(-1m, ExecutionMetrics.Compute(crossed).HalfSpreadCaptured);
    }

    [Fact]
    public void Half_spread_ignores_a_quote_stamped_with_the_fills_own_time()
    {
        // Our bid of 100.0 is consumed at +1 s and the book's update at +1 s already shows 99.9/100.0. The quote in
        // effect before the fill (100.0/100.1) says we earned the whole half-spread: 10 × 0.05 of 10 × 0.05 = 1.
        // Read at-or-before, the +1 s quote (mid 99.95) would make it 10 × −0.05 of 10 × 0.05 = −1.
        var trace = Buy with
        {
            Fills = [new(At(1), 100.0m, 10m, 0m, true)],
            Quotes = [new(T0, 100.0m, 100.1m), new(At(1), 99.9m, 100.0m)],
        };

        Assert.Equal(1m, ExecutionMetrics.Compute(trace).HalfSpreadCaptured);
    }

    [Fact]
    public void Markouts_are_size_weighted_and_positive_when_the_market_moves_against_us()
    {
        var m = ExecutionMetrics.Compute(Buy);

        // +1 s: fill 1 → mid at +2 s = 100.15: (100.0 − 100.15) / 100.0 = −0.0015;
        //       fill 2 → mid at +4 s (quote of +2 s) = 100.15: (100.1 − 100.15) / 100.1.
        var oneSecond = ((4m * (100.0m - 100.15m) / 100.0m) + (6m * (100.1m - 100.15m) / 100.1m)) / 10m * 10_000m;
        // +10 s and +60 s: both fills see the mid of +5 s, 100.05 (the +70 s quote is later than +63 s).
        var later = ((4m * (100.0m - 100.05m) / 100.0m) + (6m * (100.1m - 100.05m) / 100.1m)) / 10m * 10_000m;
        Assert.Equal([oneSecond, later, later], m.MarkoutsBps);

        // Quotes that stop at +30 s can't say anything about +60 s.
        var shortData = ExecutionMetrics.Compute(Buy with { Quotes = [.. Buy.Quotes.Take(3), new(At(30), 100m, 100.1m)] });
        Assert.Null(shortData.MarkoutsBps[2]);
        Assert.NotNull(shortData.MarkoutsBps[1]);
    }

    [Fact]
    public void A_sell_below_the_arrival_mid_is_a_cost()
    {
        var sell = new ExecutionTrace
        {
            Side = Side.Sell,
            SizeType = SizeType.Quantity,
            Size = 4m,
            StartedAt = T0,
            CompletedAt = At(2),
            ArrivalMid = 100m,
            Fills = [new(At(1), 99.9m, 2m, 0m, true)],
            Quotes = [new(T0, 99.9m, 100.1m), new(At(5), 99.5m, 99.7m)],
        };

        var m = ExecutionMetrics.Compute(sell);

        Assert.Equal(0.001m, m.SlippageVsArrival);  // −1 × (99.9 − 100) / 100
        Assert.Equal(0.5m, m.FillRate);             // 2 of 4
        Assert.Equal(-1m, m.HalfSpreadCaptured);    // sold at the bid: 2 × −1 × (100.0 − 99.9) = −0.2 of 2 × 0.1 = 0.2 available
        // +1 s: mid at +2 s is still 100.0 (quote of T0): −1 × (99.9 − 100.0) / 99.9 → the price rose after we sold: adverse.
        Assert.Equal(-1m * (99.9m - 100.0m) / 99.9m * 10_000m, m.MarkoutsBps[0]);
    }

    [Fact]
    public void Without_fills_the_price_metrics_are_null_not_zero()
    {
        var m = ExecutionMetrics.Compute(Buy with { Fills = [], TickToOrderMicroseconds = [] });

        Assert.Null(m.AveragePrice);
        Assert.Null(m.SlippageVsArrival);
        Assert.Null(m.SlippageVsExpected);
        Assert.Null(m.HalfSpreadCaptured);
        Assert.Null(m.MakerFraction);
        Assert.Null(m.TimeToFirstFill);
        Assert.All(m.MarkoutsBps, Assert.Null);
        Assert.Null(m.LatencyP50Microseconds);
        Assert.Equal(0m, m.FillRate);
    }

    [Fact]
    public void Latency_percentiles_are_nearest_rank()
    {
        var m = ExecutionMetrics.Compute(Buy);

        Assert.Equal(3, m.LatencyP50Microseconds);  // sorted 1, 3, 5, 100: rank ⌈0.5 × 4⌉ = 2
        Assert.Equal(100, m.LatencyP99Microseconds); // rank ⌈0.99 × 4⌉ = 4
    }

    [Fact]
    public void Order_rate_peak_is_the_busiest_ten_second_window()
    {
        // Requests at 0, 1, 9.9, 10, 10.5, 25 s: [0, 10) holds 3; [1, 11) holds 4 (1, 9.9, 10, 10.5); [10, 20) holds 2.
        var m = ExecutionMetrics.Compute(Buy with { OrderRequestTimes = [At(10), At(0), At(1), At(9.9), At(10.5), At(25)] });

        Assert.Equal(6, m.OrderRequests);
        Assert.Equal(4, m.PeakOrderRequestsPer10s);
    }

    [Fact]
    public void Without_order_requests_the_peak_is_zero()
    {
        var m = ExecutionMetrics.Compute(Buy);

        Assert.Equal(0, m.OrderRequests);
        Assert.Equal(0, m.PeakOrderRequestsPer10s);
    }
}
