using System.Globalization;
using Chaser.Core.Analytics;
using ScottPlot;

namespace Chaser.Reporting;

/// <summary>
/// The picture of a strategy comparison: per window, one bar per strategy at its mean cost (bp against the arrival mid,
/// fees included), with ±2 standard errors of that mean.
/// </summary>
public static class ComparisonChart
{
    private static readonly Color[] Series =
    [
        Color.FromHex("#1f77b4"), Color.FromHex("#ff7f0e"), Color.FromHex("#2ca02c"), Color.FromHex("#d62728"),
        Color.FromHex("#9467bd"), Color.FromHex("#8c564b"), Color.FromHex("#e377c2"), Color.FromHex("#7f7f7f"),
    ];

    public static void SavePng(IReadOnlyList<WindowMean> means, IReadOnlyList<string> strategies, string title, string path, int width = 1100, int height = 560)
    {
        using var plot = Build(means, strategies, title);
        plot.SavePng(path, width, height);
    }

    public static byte[] RenderPng(IReadOnlyList<WindowMean> means, IReadOnlyList<string> strategies, string title, int width = 1100, int height = 560)
    {
        using var plot = Build(means, strategies, title);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    private static Plot Build(IReadOnlyList<WindowMean> means, IReadOnlyList<string> strategies, string title)
    {
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(strategies);
        var plot = new Plot();
        plot.Font.Set("DejaVu Sans");
        var windows = means.Select(m => m.Window).Distinct().ToArray();
        // Bars of one window side by side, a gap of one bar between windows.
        var slot = strategies.Count + 1;
        for (var s = 0; s < strategies.Count; s++)
        {
            var bars = new List<Bar>();
            for (var w = 0; w < windows.Length; w++)
            {
                if (means.FirstOrDefault(m => m.Window == windows[w] && m.Strategy == strategies[s]) is not { MeanBps: { } mean } cell)
                {
                    continue;
                }

                var error = 2 * (cell.StandardErrorBps ?? 0);
                bars.Add(new Bar
                {
                    Position = (w * slot) + s,
                    Value = (double)mean,
                    Error = error,
                    FillColor = Series[s % Series.Length],
                    // The whiskers are drawn with the bar's line: a thin dark outline, so they show on any fill.
                    LineColor = Color.FromHex("#333333"),
                    LineWidth = 1.5f,
                    ErrorSize = 0.3,
                });
            }

            var plotted = plot.Add.Bars(bars);
            plotted.LegendText = strategies[s];
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. windows.Select((w, i) => (i * slot) + ((strategies.Count - 1) / 2.0))], windows);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = value => value.ToString("0.0", CultureInfo.InvariantCulture),
        };
        plot.Add.HorizontalLine(0, 1, Colors.Gray);
        plot.Axes.Margins(bottom: 0.05, top: 0.1);
        plot.Title(title);
        plot.YLabel("cost (bp, positive = cost)");
        plot.ShowLegend(Edge.Right);
        return plot;
    }
}
