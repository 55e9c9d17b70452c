using Chaser.Core.Analytics;
using Chaser.Core.Domain;

namespace Chaser.Core.Tests.Analytics;

/// <summary>The statistics of <c>chaser compare</c>, against figures worked out by hand.</summary>
public class PairedComparisonTests
{
    private const double Tolerance = 1e-9;

    // point, window, side, cost of "ref", cost of "s", did "s" complete, requests of "s"
    //   0     W1    buy     1.0          2.0          yes     3      d = +1.0
    //   1     W1    buy     2.0          2.5          yes     2      d = +0.5
    //   2     W1    sell    3.0          2.0          yes     4      d = -1.0
    //   3     W2    buy     1.0          3.0          yes     1      d = +2.0
    //   4     W2    sell    2.0          2.5          yes     2      d = +0.5
    //   5     W2    sell    1.0          4.0          no      6      (not both completed: left out)
    // Every "ref" run completed with 1 request.
    private static readonly ComparisonRun[] Table =
    [
        .. Pair(0, "W1", Side.Buy, 1.0m, 2.0m, true, 3),
        .. Pair(1, "W1", Side.Buy, 2.0m, 2.5m, true, 2),
        .. Pair(2, "W1", Side.Sell, 3.0m, 2.0m, true, 4),
        .. Pair(3, "W2", Side.Buy, 1.0m, 3.0m, true, 1),
        .. Pair(4, "W2", Side.Sell, 2.0m, 2.5m, true, 2),
        .. Pair(5, "W2", Side.Sell, 1.0m, 4.0m, false, 6),
    ];

    private static ComparisonRun[] Pair(int point, string window, Side side, decimal reference, decimal other, bool otherCompleted, int otherRequests) =>
    [
        new(point, window, side, "ref", reference, true, 1),
        new(point, window, side, "s", other, otherCompleted, otherRequests),
    ];

    [Fact]
    public void The_cost_is_against_the_arrival_mid_with_fees_positive_for_a_cost_on_either_side()
    {
        // Bought 2 at 100.5 against a mid of 100, 0.1 fees: (201 - 200 + 0.1) / 200 = 55 bp.
        Assert.Equal(55m, PairedComparison.CostBps(Side.Buy, 2m, 201m, 0.1m, 100m));
        // Sold 2 at 99.5: (-(199 - 200) + 0.1) / 200 = 55 bp.
        Assert.Equal(55m, PairedComparison.CostBps(Side.Sell, 2m, 199m, 0.1m, 100m));
        // Sold above the mid with a maker rebate: (-(201 - 200) - 0.04) / 200 = -52 bp, a gain.
        Assert.Equal(-52m, PairedComparison.CostBps(Side.Sell, 2m, 201m, -0.04m, 100m));
        // Nothing filled, or no arrival mid: no cost, not a cost of 0.
        Assert.Null(PairedComparison.CostBps(Side.Buy, 0m, 0m, 0m, 100m));
        Assert.Null(PairedComparison.CostBps(Side.Buy, 2m, 201m, 0.1m, 0m));
    }

    [Fact]
    public void Each_strategy_has_its_mean_median_completion_and_requests()
    {
        var summaries = PairedComparison.Summarize(Table, ["ref", "s"]);

        var reference = summaries[0];
        Assert.Equal(("ref", 6, 6, 6), (reference.Strategy, reference.Runs, reference.Costed, reference.Completed));
        Assert.Equal(10m / 6m, reference.MeanBps);     // (1 + 2 + 3 + 1 + 2 + 1) / 6
        Assert.Equal(1.5m, reference.MedianBps);       // 1 1 1 | 2 2 3
        Assert.Equal(1m, reference.CompletedFraction);
        Assert.Equal(1m, reference.RequestsPerOrder);

        var other = summaries[1];
        Assert.Equal(("s", 6, 6, 5), (other.Strategy, other.Runs, other.Costed, other.Completed));
        Assert.Equal(16m / 6m, other.MeanBps);         // (2 + 2.5 + 2 + 3 + 2.5 + 4) / 6
        Assert.Equal(2.5m, other.MedianBps);           // 2 2 2.5 | 2.5 3 4
        Assert.Equal(5m / 6m, other.CompletedFraction);
        Assert.Equal(3m, other.RequestsPerOrder);      // (3 + 2 + 4 + 1 + 2 + 6) / 6
    }

    [Fact]
    public void The_paired_difference_has_a_standard_error_clustered_by_window_and_side()
    {
        var paired = Assert.Single(PairedComparison.Against("ref", Table, ["ref", "s"]));

        // d = 1, 0.5, -1, 2, 0.5 (point 5 left out): n = 5, mean 0.6.
        Assert.Equal(("s", "ref", 5, 1), (paired.Strategy, paired.Reference, paired.Pairs, paired.Excluded));
        Assert.Equal(0.6m, paired.MeanBps);
        // Residual sums per cluster: (W1,buy) 0.4 - 0.1 = 0.3, (W1,sell) -1.6, (W2,buy) 1.4, (W2,sell) -0.1; G = 4.
        // SE = sqrt(4/3 × (0.09 + 2.56 + 1.96 + 0.01)) / 5 = sqrt(6.16) / 5 = 0.496386945…, t = 0.6 / SE = 1.208734…
        Assert.Equal(4, paired.Clusters);
        Assert.Equal(0.4963869458396343, paired.StandardErrorBps!.Value, Tolerance);
        Assert.Equal(1.2087344460380705, paired.T!.Value, Tolerance);
    }

    [Fact]
    public void With_one_cluster_the_standard_error_is_undefined_never_a_division_by_zero()
    {
        ComparisonRun[] runs = [.. Pair(0, "W1", Side.Buy, 1m, 2m, true, 1), .. Pair(1, "W1", Side.Buy, 1m, 4m, true, 1)];

        var paired = PairedComparison.Difference("s", "ref", runs);

        Assert.Equal((2, 0, 1), (paired.Pairs, paired.Excluded, paired.Clusters));
        Assert.Equal(2m, paired.MeanBps);               // (1 + 3) / 2
        Assert.Null(paired.StandardErrorBps);
        Assert.Null(paired.T);
    }

    [Fact]
    public void Without_a_completed_pair_nothing_is_computed_and_every_point_is_counted_apart()
    {
        ComparisonRun[] runs =
        [
            new(0, "W1", Side.Buy, "ref", 1m, true, 1),
            new(0, "W1", Side.Buy, "s", null, false, 1),     // no fill at all
            new(1, "W1", Side.Sell, "ref", 1m, false, 1),    // the reference did not complete
            new(1, "W1", Side.Sell, "s", 1m, true, 1),
            new(2, "W2", Side.Sell, "s", 1m, true, 1),       // no reference run on this point
        ];

        var paired = PairedComparison.Difference("s", "ref", runs);
        var summary = PairedComparison.Summarize(runs, ["s"])[0];

        Assert.Equal((0, 3, 0), (paired.Pairs, paired.Excluded, paired.Clusters));
        Assert.Null(paired.MeanBps);
        Assert.Null(paired.StandardErrorBps);
        Assert.Null(paired.T);
        // The run without a fill counts as a run and not as completed, but has no cost to average.
        Assert.Equal((3, 2, 2), (summary.Runs, summary.Costed, summary.Completed));
        Assert.Equal(1m, summary.MeanBps);
    }

    [Fact]
    public void Each_window_has_each_strategys_mean_with_its_standard_error()
    {
        var windows = PairedComparison.PerWindow(Table, ["ref", "s"]);

        Assert.Equal([("W1", "ref"), ("W1", "s"), ("W2", "ref"), ("W2", "s")], windows.Select(w => (w.Window, w.Strategy)));
        var first = windows[0];
        Assert.Equal((3, 3, 3), (first.Runs, first.Costed, first.Completed));
        Assert.Equal(2m, first.MeanBps);                                  // (1 + 2 + 3) / 3
        Assert.Equal(0.5773502691896258, first.StandardErrorBps!.Value, Tolerance); // s = 1, 1 / sqrt(3)
        Assert.Equal(9.5m / 3m, windows[3].MeanBps);                      // W2's "s": (3 + 2.5 + 4) / 3
        Assert.Equal(2, windows[3].Completed);
    }
}
