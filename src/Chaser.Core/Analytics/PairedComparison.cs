using Chaser.Core.Domain;
using Chaser.Core.Ports;

namespace Chaser.Core.Analytics;

/// <summary>
/// One run of a strategy comparison: which grid point (the same for every strategy: the runs are paired), the cluster
/// it belongs to (window and side), and what it cost.
/// </summary>
/// <param name="Point">The grid point's index: runs of different strategies with the same index are a pair.</param>
/// <param name="Window">The recording the run replayed.</param>
/// <param name="Side">Buy or sell: with the window, the cluster (runs of one window and side share the market's moves).</param>
/// <param name="Strategy">The strategy's name.</param>
/// <param name="CostBps">See <see cref="PairedComparison.CostBps(ExecutionResult)"/>; null without a fill.</param>
/// <param name="Completed">The order filled.</param>
/// <param name="Requests">Places, modifies and cancels the strategy sent.</param>
public sealed record ComparisonRun(int Point, string Window, Side Side, string Strategy, decimal? CostBps, bool Completed, int Requests);

/// <summary>One strategy over the whole grid.</summary>
/// <param name="Strategy">The strategy's name.</param>
/// <param name="Runs">Runs of the strategy.</param>
/// <param name="Costed">Runs with a cost (at least one fill): what the mean and median are over.</param>
/// <param name="MeanBps">Mean cost; null without a costed run.</param>
/// <param name="MedianBps">Median cost; null without a costed run.</param>
/// <param name="Completed">Runs that filled.</param>
/// <param name="RequestsPerOrder">Places, modifies and cancels per run.</param>
public sealed record StrategySummary(string Strategy, int Runs, int Costed, decimal? MeanBps, decimal? MedianBps, int Completed, decimal RequestsPerOrder)
{
    public decimal CompletedFraction => Runs == 0 ? 0m : (decimal)Completed / Runs;
}

/// <summary>
/// A strategy against the reference, over the grid points where both completed: d = cost(strategy) − cost(reference).
/// </summary>
/// <param name="Strategy">The strategy compared.</param>
/// <param name="Reference">The strategy it is compared with.</param>
/// <param name="Pairs">Grid points where both runs completed: what the mean is over (n).</param>
/// <param name="Excluded">Grid points where either run did not complete (or one is missing): counted apart.</param>
/// <param name="Clusters">Distinct (window, side) among the pairs (G).</param>
/// <param name="MeanBps">Mean d; null without a pair.</param>
/// <param name="StandardErrorBps">Cluster-robust standard error of the mean; null when it is undefined (fewer than two clusters).</param>
/// <param name="T">Mean over standard error; null when either is undefined or the error is zero.</param>
public sealed record PairedDifference(string Strategy, string Reference, int Pairs, int Excluded, int Clusters, decimal? MeanBps, double? StandardErrorBps, double? T);

/// <summary>One strategy's mean cost on one window, with the standard error of that mean (runs taken as independent).</summary>
public sealed record WindowMean(string Window, string Strategy, int Runs, int Costed, decimal? MeanBps, double? StandardErrorBps, int Completed);

/// <summary>
/// The statistics of a paired strategy comparison (<c>chaser compare</c>): the cost of each run against its arrival mid,
/// per-strategy summaries, paired differences against a reference with standard errors clustered by (window, side),
/// and per-window means. Pure: the runs in, the figures out.
/// </summary>
public static class PairedComparison
{
    /// <summary>
    /// The run's cost in basis points of what it filled at the arrival mid, fees included, positive = cost:
    /// (side·(filled_notional − filled_qty·arrival_mid) + fees) / (filled_qty·arrival_mid) · 10⁴. Null without a fill
    /// or an arrival mid (a cost of nothing is not a cost of 0).
    /// </summary>
    public static decimal? CostBps(ExecutionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return CostBps(result.Spec.Side, result.FilledQuantity, result.FilledNotional, result.Fees, result.ArrivalMid);
    }

    public static decimal? CostBps(Side side, decimal filledQuantity, decimal filledNotional, decimal fees, decimal arrivalMid)
    {
        var atArrival = filledQuantity * arrivalMid;
        if (atArrival <= 0m)
        {
            return null;
        }

        return (side.Sign() * (filledNotional - atArrival) + fees) / atArrival * 10_000m;
    }

    /// <summary>Places, modifies and cancels the order's strategy sent (each child order was one place).</summary>
    public static int Requests(ExecutionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.ChildOrders + result.Modifies + result.Cancels;
    }

    /// <summary>Each strategy's summary, in the order given.</summary>
    public static IReadOnlyList<StrategySummary> Summarize(IReadOnlyList<ComparisonRun> runs, IReadOnlyList<string> strategies)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(strategies);
        return [.. strategies.Select(strategy =>
        {
            var own = runs.Where(r => r.Strategy == strategy).ToArray();
            var costs = own.Where(r => r.CostBps is not null).Select(r => r.CostBps!.Value).ToArray();
            return new StrategySummary(
                strategy,
                own.Length,
                costs.Length,
                Mean(costs),
                Median(costs),
                own.Count(r => r.Completed),
                own.Length == 0 ? 0m : (decimal)own.Sum(r => r.Requests) / own.Length);
        })];
    }

    /// <summary>Every strategy but the reference against it, in the order given.</summary>
    public static IReadOnlyList<PairedDifference> Against(string reference, IReadOnlyList<ComparisonRun> runs, IReadOnlyList<string> strategies)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(strategies);
        return [.. strategies.Where(s => s != reference).Select(s => Difference(s, reference, runs))];
    }

    /// <summary>
    /// d over the points where both runs completed; the rest are counted in <see cref="PairedDifference.Excluded"/>.
    /// The standard error is cluster-robust with the small-sample factor G/(G−1): sqrt(G/(G−1) · Σ_g (Σ_{i∈g} (d_i −
    /// d̄))²) / n, clusters g = (window, side); with one cluster it is undefined, not zero.
    /// </summary>
    public static PairedDifference Difference(string strategy, string reference, IReadOnlyList<ComparisonRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var mine = runs.Where(r => r.Strategy == strategy).ToDictionary(r => r.Point);
        var theirs = runs.Where(r => r.Strategy == reference).ToDictionary(r => r.Point);
        var pairs = new List<(string Window, Side Side, decimal D)>();
        var excluded = 0;
        foreach (var point in mine.Keys.Union(theirs.Keys).Order())
        {
            if (mine.TryGetValue(point, out var a) && theirs.TryGetValue(point, out var b)
                && a.Completed && b.Completed && a.CostBps is { } costA && b.CostBps is { } costB)
            {
                pairs.Add((a.Window, a.Side, costA - costB));
            }
            else
            {
                excluded++;
            }
        }

        var n = pairs.Count;
        if (n == 0)
        {
            return new PairedDifference(strategy, reference, 0, excluded, 0, null, null, null);
        }

        var mean = pairs.Sum(p => p.D) / n;
        var clusters = pairs.GroupBy(p => (p.Window, p.Side)).Select(g => (double)g.Sum(p => p.D - mean)).ToArray();
        var g = clusters.Length;
        double? se = g < 2 ? null : Math.Sqrt(g / (g - 1.0) * clusters.Sum(s => s * s)) / n;
        double? t = se is { } e && e > 0 ? (double)mean / e : null;
        return new PairedDifference(strategy, reference, n, excluded, g, mean, se, t);
    }

    /// <summary>Each window's mean cost per strategy: windows in the order first seen, strategies in the order given.</summary>
    public static IReadOnlyList<WindowMean> PerWindow(IReadOnlyList<ComparisonRun> runs, IReadOnlyList<string> strategies)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(strategies);
        var windows = runs.Select(r => r.Window).Distinct().ToArray();
        return [.. windows.SelectMany(window => strategies.Select(strategy =>
        {
            var own = runs.Where(r => r.Window == window && r.Strategy == strategy).ToArray();
            var costs = own.Where(r => r.CostBps is not null).Select(r => r.CostBps!.Value).ToArray();
            return new WindowMean(window, strategy, own.Length, costs.Length, Mean(costs), StandardErrorOfMean(costs), own.Count(r => r.Completed));
        }))];
    }

    public static decimal? Mean(IReadOnlyCollection<decimal> values) => values.Count == 0 ? null : values.Sum() / values.Count;

    /// <summary>The middle value, or the mean of the two middle ones.</summary>
    public static decimal? Median(IReadOnlyCollection<decimal> values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2m;
    }

    /// <summary>s / √n with the sample standard deviation s; undefined for fewer than two values.</summary>
    public static double? StandardErrorOfMean(IReadOnlyCollection<decimal> values)
    {
        if (values.Count < 2)
        {
            return null;
        }

        var mean = values.Sum() / values.Count;
        var squares = values.Sum(v => (double)((v - mean) * (v - mean)));
        return Math.Sqrt(squares / (values.Count - 1)) / Math.Sqrt(values.Count);
    }
}
