using Chaser.Core.Analytics;
using Chaser.Core.Domain;
using CsCheck;

namespace Chaser.Core.Tests.Analytics;

/// <summary>
/// Implementation shortfall (Perold 1988): <c>side × Σ q (p − M0) + F + side × R × (M_end − M0)</c>, in the quote asset
/// and in bp of <c>S × M0</c>, against values worked out by hand (the arithmetic is in the comments).
/// </summary>
public class ImplementationShortfallTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static ExecutionTrace Trace(Side side, SizeType sizeType, decimal size, decimal arrivalMid, decimal? endMid, params TraceFill[] fills) => new()
    {
        Side = side,
        SizeType = sizeType,
        Size = size,
        StartedAt = T0,
        CompletedAt = T0.AddSeconds(10),
        ArrivalMid = arrivalMid,
        EndMid = endMid,
        QuoteAsset = "USDT",
        Fills = fills,
    };

    private static TraceFill Fill(decimal price, decimal quantity, decimal fee = 0m, string? feeAsset = "USDT") =>
        new(T0.AddSeconds(1), price, quantity, fee, true, feeAsset);

    [Fact]
    public void A_filled_buy_is_what_the_fills_paid_beyond_the_arrival_mid_plus_fees()
    {
        // Buy 10 at M0 = 100: 4 @ 100.0 (fee 0.08) and 6 @ 100.1 (fee 0.12). 4 × 0 + 6 × 0.1 = 0.6, + 0.2 fees = 0.8 USDT;
        // of 10 × 100 = 1,000 USDT: 8 bp. Nothing is left, so the end mid doesn't matter (and may be missing).
        var m = ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Quantity, 10m, 100m, null, Fill(100.0m, 4m, 0.08m), Fill(100.1m, 6m, 0.12m)));

        Assert.Equal(0m, m.UnfilledQuantity);
        Assert.Equal(0m, m.OpportunityCost);
        Assert.Equal(1_000m, m.ArrivalNotional);
        Assert.Equal(0.8m, m.ImplementationShortfall);
        Assert.Equal(8m, m.ImplementationShortfallBps);
    }

    [Fact]
    public void A_partly_filled_sell_with_a_maker_rebate_pays_for_the_remainder_at_the_end_mid()
    {
        // Sell 4 at M0 = 100: 2 @ 99.9 with a rebate of 0.01998 (fee −0.01998); the market then fell to M_end = 99.6.
        // Fills: −1 × 2 × (99.9 − 100) = 0.2. Fees: −0.01998. Remainder 2: −1 × 2 × (99.6 − 100) = 0.8.
        // IS = 0.2 − 0.01998 + 0.8 = 0.98002 USDT, of 4 × 100 = 400 USDT: 24.5005 bp.
        var m = ExecutionMetrics.Compute(Trace(Side.Sell, SizeType.Quantity, 4m, 100m, 99.6m, Fill(99.9m, 2m, -0.01998m)));

        Assert.Equal(2m, m.UnfilledQuantity);
        Assert.Equal(0.8m, m.OpportunityCost);
        Assert.Equal(0.98002m, m.ImplementationShortfall);
        Assert.Equal(24.5005m, m.ImplementationShortfallBps);
    }

    [Fact]
    public void Nothing_filled_is_all_opportunity_cost_a_gain_when_the_market_came_our_way()
    {
        // Buy 1,000 USDT at M0 = 100 is S = 10; nothing filled, M_end = 101: 1 × 10 × 1 = 10 USDT = 100 bp of 1,000.
        var up = ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Notional, 1_000m, 100m, 101m));
        Assert.Equal((10m, 10m, 10m, 100m), (up.UnfilledQuantity!.Value, up.OpportunityCost!.Value, up.ImplementationShortfall!.Value, up.ImplementationShortfallBps!.Value));

        // A sell of 10 not done while the price rose to 101: −1 × 10 × 1 = −10, a gain of 100 bp.
        var sell = ExecutionMetrics.Compute(Trace(Side.Sell, SizeType.Quantity, 10m, 100m, 101m));
        Assert.Equal(-10m, sell.ImplementationShortfall);
        Assert.Equal(-100m, sell.ImplementationShortfallBps);
    }

    [Fact]
    public void A_notional_target_is_converted_to_base_quantity_at_the_arrival_mid()
    {
        // Buy 1,000 USDT at M0 = 100: S = 10. 4 @ 100.5 (fee 0.2); M_end = 101. Fills 4 × 0.5 = 2, fees 0.2,
        // remainder 6 × 1 = 6: 8.2 USDT = 82 bp of 1,000.
        var m = ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Notional, 1_000m, 100m, 101m, Fill(100.5m, 4m, 0.2m)));

        Assert.Equal(6m, m.UnfilledQuantity);
        Assert.Equal(6m, m.OpportunityCost);
        Assert.Equal(8.2m, m.ImplementationShortfall);
        Assert.Equal(82m, m.ImplementationShortfallBps);
        Assert.Equal(1_000m, m.ArrivalNotional);
    }

    [Fact]
    public void A_notional_buy_that_bought_more_as_the_price_fell_is_charged_as_the_equivalent_quantity_order()
    {
        // Buy 1,000 USDT at M0 = 100 (S = 10), all filled at 95: 10.5 (997.5 USDT), M_end = 95. The 0.5 bought beyond S
        // is a negative remainder: 1 × −0.5 × (95 − 100) = 2.5; fills 10.5 × −5 = −52.5; IS = −50: the same as buying
        // exactly 10 @ 95 (10 × −5).
        var notional = ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Notional, 1_000m, 100m, 95m, Fill(95m, 10.5m)));
        var quantity = ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Quantity, 10m, 100m, 95m, Fill(95m, 10m)));

        Assert.Equal(-0.5m, notional.UnfilledQuantity);
        Assert.Equal(2.5m, notional.OpportunityCost);
        Assert.Equal(-50m, notional.ImplementationShortfall);
        Assert.Equal(quantity.ImplementationShortfall, notional.ImplementationShortfall);
        Assert.Equal(-500m, notional.ImplementationShortfallBps);
    }

    [Fact]
    public void A_notional_target_keeps_the_arithmetic_exact_when_the_arrival_mid_does_not_divide_it()
    {
        // Buy 1,000 USDT at M0 = 3: 333 @ 3 (999 USDT), M_end = 6. Remainder 1,000 / 3 − 333 = 1/3, × 3 = 1 exactly
        // (1,000 × 3 / 3 − 333 × 3). Rounding S = 333.33…33 first leaves 0.33…33 with two digits fewer: 0.99…99.
        var m = ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Notional, 1_000m, 3m, 6m, Fill(3m, 333m)));

        Assert.Equal(1m, m.OpportunityCost);
        Assert.Equal(1m, m.ImplementationShortfall);
        Assert.Equal(10m, m.ImplementationShortfallBps);
    }

    [Fact]
    public void Without_an_arrival_mid_it_is_null_not_zero()
    {
        var m = ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Quantity, 10m, 0m, 101m, Fill(100m, 10m)));

        Assert.Null(m.ImplementationShortfall);
        Assert.Null(m.ImplementationShortfallBps);
        Assert.Null(m.OpportunityCost);
        Assert.Null(m.ArrivalNotional);
    }

    [Fact]
    public void A_remainder_without_an_end_mid_can_not_be_valued()
    {
        var m = ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Quantity, 10m, 100m, null, Fill(100.1m, 4m)));

        Assert.Equal(6m, m.UnfilledQuantity);
        Assert.Null(m.OpportunityCost);
        Assert.Null(m.ImplementationShortfall);
        Assert.Null(m.ImplementationShortfallBps);
    }

    [Fact]
    public void A_fee_paid_in_another_asset_than_the_quote_can_not_be_added()
    {
        // 0.0001 BNB is not 0.0001 USDT; a zero BNB fee and a USDT fee are fine.
        Assert.Null(ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Quantity, 10m, 100m, null, Fill(100m, 10m, 0.0001m, "BNB"))).ImplementationShortfall);
        Assert.Equal(0.02m, ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Quantity, 10m, 100m, null, Fill(100m, 5m, 0m, "BNB"), Fill(100m, 5m, 0.02m))).ImplementationShortfall);
        Assert.Equal(0.02m, ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Quantity, 10m, 100m, null, Fill(100m, 10m, 0.02m, null))).ImplementationShortfall);
    }

    [Fact]
    public void The_largest_target_a_user_can_give_is_measured_or_left_empty_never_an_overflow()
    {
        // 99,999,999,999,999,999,999 (20 digits, DecimalText's most) BTC at M0 = 100,000, nothing filled, M_end = 200,000:
        // IS = S × 100,000 ≈ 10^25 USDT, the whole target's worth: 10,000 bp. IS × 10,000 would be 10^29, past decimal's range.
        var size = 99_999_999_999_999_999_999m;
        var m = ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Quantity, size, 100_000m, 200_000m));
        Assert.Equal(size * 100_000m, m.ImplementationShortfall);
        Assert.Equal(10_000m, m.ImplementationShortfallBps);

        // At M0 = 10^9 even S × M0 doesn't fit: no figure, and the other metrics are still there.
        var beyond = ExecutionMetrics.Compute(Trace(Side.Buy, SizeType.Quantity, size, 1_000_000_000m, 1_000_000_001m, Fill(1_000_000_000m, 1m)));
        Assert.Null(beyond.ImplementationShortfall);
        Assert.Null(beyond.ImplementationShortfallBps);
        Assert.Equal(1_000_000_000m, beyond.AveragePrice);
    }

    [Fact]
    public void It_is_the_paper_portfolio_minus_the_real_one()
    {
        // Perold's definition: the paper portfolio trades S at M0 and is worth side × S × (M_end − M0) at the end; the
        // real one is worth side × Σ q (M_end − p) − F. Their difference is the shortfall, for any fills.
        var fill = Gen.Select(Gen.Int[9_000, 11_000], Gen.Int[1, 5_000], Gen.Int[-100, 1_000])
            .Select((ticks, lots, fee) => Fill(ticks * 0.01m, lots * 0.001m, fee * 0.0001m));
        Gen.Select(Gen.Bool, Gen.Int[1, 20_000], Gen.Int[9_000, 11_000], Gen.Int[9_000, 11_000], fill.Array[0, 6])
            .Sample((buy, lots, m0Ticks, endTicks, fills) =>
            {
                var (side, size, m0, end) = (buy ? 1 : -1, lots * 0.001m, m0Ticks * 0.01m, endTicks * 0.01m);
                var m = ExecutionMetrics.Compute(Trace(buy ? Side.Buy : Side.Sell, SizeType.Quantity, size, m0, end, fills));

                var paper = side * size * (end - m0);
                var real = (side * fills.Sum(f => f.Quantity * (end - f.Price))) - fills.Sum(f => f.Fee);
                Assert.Equal(paper - real, m.ImplementationShortfall);
                Assert.Equal((paper - real) / (size * m0) * 10_000m, m.ImplementationShortfallBps);

                // The same target given as its notional at the arrival mid is the same order.
                var notional = ExecutionMetrics.Compute(Trace(buy ? Side.Buy : Side.Sell, SizeType.Notional, size * m0, m0, end, fills));
                Assert.Equal(paper - real, notional.ImplementationShortfall);
            }, iter: 2_000);
    }

    [Fact]
    public void Filled_without_fees_it_is_the_slippage_against_the_arrival_mid()
    {
        Gen.Select(Gen.Bool, Gen.Int[9_000, 11_000], Gen.Int[9_000, 11_000], Gen.Int[1, 5_000], Gen.Int[9_000, 11_000])
            .Sample((buy, m0Ticks, p1Ticks, lots, p2Ticks) =>
            {
                var (m0, q) = (m0Ticks * 0.01m, lots * 0.001m);
                var m = ExecutionMetrics.Compute(Trace(buy ? Side.Buy : Side.Sell, SizeType.Quantity, 2 * q, m0, null, Fill(p1Ticks * 0.01m, q), Fill(p2Ticks * 0.01m, q)));

                // Equal but for the last of 28 digits: slippage divides twice (average price, then by M0), shortfall once.
                Assert.InRange(m.ImplementationShortfallBps!.Value - m.SlippageVsArrivalBps!.Value, -1e-18m, 1e-18m);
            }, iter: 1_000);
    }
}
