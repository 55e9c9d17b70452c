using Chaser.Core.Domain;

namespace Chaser.Core.Analytics;

/// <summary>One parent order's metrics with the keys it is grouped by.</summary>
public sealed record LabelledMetrics(string Symbol, Side Side, string Strategy, ExecutionMetrics Metrics);

/// <summary>
/// Metrics over many parent orders of one group (symbol, side, strategy), weighted by filled notional so that a large
/// order counts for what it traded: the group's slippage is what the group as a whole paid. Orders without fills add
/// to the counts but not to the weighted figures — except implementation shortfall, which also charges what was left
/// unfilled: the group's is the sum of its orders' in the quote asset, and in bp of their targets' arrival notional
/// (the mean of the orders' bp weighted by what each set out to trade).
/// </summary>
public sealed record ExecutionAggregate(
    string Symbol,
    Side Side,
    string Strategy,
    int Orders,
    decimal FilledNotional,
    decimal Fees,
    decimal? SlippageVsArrivalBps,
    decimal? SlippageVsExpectedBps,
    decimal? HalfSpreadCaptured,
    decimal? MakerFraction,
    decimal? MarkoutBps1s,
    decimal? ImplementationShortfall,
    decimal? ImplementationShortfallBps)
{
    public static IReadOnlyList<ExecutionAggregate> Group(IEnumerable<LabelledMetrics> orders)
    {
        ArgumentNullException.ThrowIfNull(orders);
        return [.. orders
            .GroupBy(o => (o.Symbol, o.Side, o.Strategy))
            .OrderBy(g => g.Key.Symbol, StringComparer.Ordinal).ThenBy(g => g.Key.Side).ThenBy(g => g.Key.Strategy, StringComparer.Ordinal)
            .Select(g => Of(g.Key.Symbol, g.Key.Side, g.Key.Strategy, [.. g.Select(o => o.Metrics)]))];
    }

    private static ExecutionAggregate Of(string symbol, Side side, string strategy, IReadOnlyList<ExecutionMetrics> metrics)
    {
        // The notional-weighted mean of a metric over the orders that have it.
        decimal? Weighted(Func<ExecutionMetrics, decimal?> value)
        {
            decimal sum = 0, weight = 0;
            foreach (var m in metrics)
            {
                if (value(m) is { } v && m.FilledNotional > 0)
                {
                    sum += v * m.FilledNotional;
                    weight += m.FilledNotional;
                }
            }

            return weight > 0 ? sum / weight : null;
        }

        var (shortfall, shortfallBps) = Shortfall(metrics);

        return new ExecutionAggregate(
            symbol,
            side,
            strategy,
            metrics.Count,
            metrics.Sum(m => m.FilledNotional),
            metrics.Sum(m => m.Fees),
            Weighted(m => m.SlippageVsArrivalBps),
            Weighted(m => m.SlippageVsExpected * 10_000m),
            Weighted(m => m.HalfSpreadCaptured),
            Weighted(m => m.MakerFraction),
            Weighted(m => m.MarkoutsBps.Count > 0 ? m.MarkoutsBps[0] : null),
            shortfall,
            shortfallBps);
    }

    // Over the orders that have one; a notional-weighted mean of bp would drop the unfilled orders, all opportunity cost.
    private static (decimal? Usdt, decimal? Bps) Shortfall(IReadOnlyList<ExecutionMetrics> metrics)
    {
        var measured = metrics.Where(m => m.ImplementationShortfall is not null && m.ArrivalNotional > 0).ToArray();
        if (measured.Length == 0)
        {
            return (null, null);
        }

        try
        {
            var shortfall = measured.Sum(m => m.ImplementationShortfall!.Value);
            return (shortfall, shortfall / measured.Sum(m => m.ArrivalNotional!.Value) * 10_000m);
        }
        catch (OverflowException)
        {
            return (null, null); // targets whose sum leaves the decimal range: no figure, rather than no report
        }
    }
}
