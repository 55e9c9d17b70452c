using System.Globalization;
using Chaser.Storage;
using ScottPlot;

namespace Chaser.Reporting;

/// <summary>
/// The picture of one parent order: bid, ask and mid over time, our child order's price as a step line, fills as
/// markers sized by quantity, and the arrival mid and average price as reference lines.
/// </summary>
public static class ExecutionChart
{
    private static readonly Color BidColor = Color.FromHex("#1f77b4");
    private static readonly Color AskColor = Color.FromHex("#d62728");
    private static readonly Color MidColor = Color.FromHex("#7f7f7f");
    private static readonly Color ChildColor = Color.FromHex("#ff7f0e");
    private static readonly Color FillColor = Color.FromHex("#2ca02c");

    public static byte[] RenderPng(StoredExecution execution, int width = 1000, int height = 520)
    {
        using var plot = Build(execution);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    public static void SavePng(StoredExecution execution, string path, int width = 1000, int height = 520)
    {
        using var plot = Build(execution);
        plot.SavePng(path, width, height);
    }

    private static Plot Build(StoredExecution execution)
    {
        ArgumentNullException.ThrowIfNull(execution);
        var order = execution.Order;
        var plot = new Plot();
        var timeAxis = plot.Axes.DateTimeTicksBottom();
        if (timeAxis.TickGenerator is ScottPlot.TickGenerators.DateTimeAutomatic automatic)
        {
            automatic.LabelFormatter = time => time.ToString("HH:mm:ss.f", CultureInfo.InvariantCulture);
        }

        // The window is the order's life with a little margin either side; the markout tail recorded after it is for
        // the numbers, and drawn in full it would squeeze the order itself into a sliver.
        var start = order.StartedAt ?? order.CreatedAt;
        var end = order.CompletedAt ?? (execution.Mids.Count > 0 ? execution.Mids[^1].ReceivedTime : start);
        var margin = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, (end - start).Ticks / 10));
        var (from, to) = (start - margin, end + margin);
        var mids = Window(execution.Mids.Where(m => m.Bid > 0 && m.Ask > 0).ToList(), from, to);

        // Prices to the symbol's precision (the most decimals any recorded price has), with ticks on whole price
        // steps so neighbouring labels differ: about eight of them over the range shown.
        var decimals = Math.Clamp(execution.Mids.Select(m => Decimals(m.Bid)).Concat(execution.Mids.Select(m => Decimals(m.Ask))).DefaultIfEmpty(2).Max(), 0, 8);
        var priceStep = Math.Pow(10, -decimals);
        var prices = mids.SelectMany(m => new[] { m.Bid, m.Ask }).Concat(execution.Fills.Select(f => f.Price))
            .Concat(execution.Events.Where(e => e.Price is > 0).Select(e => e.Price!.Value)).Where(p => p > 0).ToList();
        var range = prices.Count > 0 ? (double)(prices.Max() - prices.Min()) : 0;
        var priceFormat = "#,0." + new string('0', decimals);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(priceStep * Math.Max(1, Math.Ceiling(range / priceStep / 8)))
        {
            LabelFormatter = value => value.ToString(priceFormat, CultureInfo.InvariantCulture),
        };
        plot.Axes.Margins(0.02, 0.12);
        plot.Font.Set("DejaVu Sans");

        // The book as step lines: a quote holds until the next one.
        if (mids.Count > 0)
        {
            var xs = mids.Select(m => X(m.ReceivedTime)).ToArray();
            Step(plot, xs, [.. mids.Select(m => (double)m.Bid)], BidColor, 1.5f, "bid");
            Step(plot, xs, [.. mids.Select(m => (double)m.Ask)], AskColor, 1.5f, "ask");
            Step(plot, xs, [.. mids.Select(m => (double)m.Mid)], MidColor, 1f, "mid", LinePattern.Dotted);
        }

        // Each child order's price from its place and modify decisions until it was canceled or the order ended.
        var labelled = false;
        foreach (var child in ChildPrices(execution, end))
        {
            Step(plot, [.. child.Select(p => X(p.Time))], [.. child.Select(p => (double)p.Price)], ChildColor, 2.5f, labelled ? null : "our order");
            labelled = true;
        }

        // Fills: area proportional to quantity, so a fill twice the size looks twice as big.
        var largest = execution.Fills.Count > 0 ? execution.Fills.Max(f => f.Qty) : 0m;
        labelled = false;
        foreach (var fill in execution.Fills)
        {
            var size = largest > 0 ? (float)(7 + (13 * Math.Sqrt((double)(fill.Qty / largest)))) : 8f;
            var marker = plot.Add.Marker(X(fill.ReceivedTime), (double)fill.Price, MarkerShape.FilledCircle, size, FillColor.WithAlpha(0.75));
            marker.LegendText = labelled ? "" : "fills (size ∝ qty)";
            labelled = true;
        }

        if (order.ArrivalMid > 0)
        {
            var arrival = plot.Add.HorizontalLine((double)order.ArrivalMid, 1, MidColor, LinePattern.Dashed);
            arrival.LegendText = $"arrival mid {Price(order.ArrivalMid)}";
        }

        if (order.FilledQty > 0 && order.AvgPrice > 0)
        {
            var average = plot.Add.HorizontalLine((double)order.AvgPrice, 1.5f, FillColor, LinePattern.Dashed);
            average.LegendText = $"avg price {Price(order.AvgPrice)}";
        }

        var side = order.Side > 0 ? "BUY" : "SELL";
        var unit = order.SizeType == "n" ? "USDT" : order.Symbol.Replace("USDT", "", StringComparison.Ordinal);
        plot.Title($"#{order.Id} {side} {Number(order.Size)} {unit} {order.Symbol} — {order.Status}, filled {Number(order.FilledNotional)} USDT in {execution.Fills.Count} fill(s)");
        plot.YLabel("price (USDT)");
        plot.XLabel("time (UTC)");
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    private static void Step(Plot plot, double[] xs, double[] ys, Color color, float width, string? label, LinePattern? pattern = null)
    {
        var line = plot.Add.Scatter(xs, ys, color);
        line.ConnectStyle = ConnectStyle.StepHorizontal;
        line.MarkerSize = 0;
        line.LineWidth = width;
        if (pattern is { } p)
        {
            line.LinePattern = p;
        }

        line.LegendText = label ?? "";
    }

    /// <summary>Per child order, its price over time: a point at each place/modify and one where it stopped resting.</summary>
    private static IEnumerable<List<(DateTimeOffset Time, decimal Price)>> ChildPrices(StoredExecution execution, DateTimeOffset end)
    {
        var byChild = new Dictionary<string, List<(DateTimeOffset Time, decimal Price)>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var e in execution.Events)
        {
            if (e.ClientOrderId is not { } id)
            {
                continue;
            }

            if (e.Kind is "place" or "modify" && e.Price is { } price && price > 0)
            {
                if (!byChild.TryGetValue(id, out var points))
                {
                    byChild[id] = points = [];
                    order.Add(id);
                }

                points.Add((e.Time, price));
            }
        }

        foreach (var id in order)
        {
            var points = byChild[id];
            var child = execution.Children.FirstOrDefault(c => c.ClientOrderId == id);
            var stopped = child?.DoneAt ?? execution.Events.FirstOrDefault(e => e.Kind == "cancel" && e.ClientOrderId == id)?.Time ?? end;
            if (stopped > points[^1].Time)
            {
                points.Add((stopped, points[^1].Price));
            }

            yield return points;
        }
    }

    /// <summary>
    /// The quotes in effect over [from, to]: the one in effect at <paramref name="from"/> (moved to it), those inside,
    /// and the last one carried to <paramref name="to"/> when the record reaches that far, so the step lines span the window.
    /// </summary>
    private static List<MidRow> Window(List<MidRow> mids, DateTimeOffset from, DateTimeOffset to)
    {
        var inside = mids.Where(m => m.ReceivedTime >= from && m.ReceivedTime <= to).ToList();
        if (mids.LastOrDefault(m => m.ReceivedTime < from) is { } before)
        {
            inside.Insert(0, new MidRow { Bid = before.Bid, Ask = before.Ask, Mid = before.Mid, ReceivedTime = from });
        }

        if (inside.Count > 0 && mids.Any(m => m.ReceivedTime > to))
        {
            var last = inside[^1];
            inside.Add(new MidRow { Bid = last.Bid, Ask = last.Ask, Mid = last.Mid, ReceivedTime = to });
        }

        return inside;
    }

    private static int Decimals(decimal value) => (decimal.GetBits(value / 1.0000000000000000000000000000m)[3] >> 16) & 0xFF;

    private static double X(DateTimeOffset time) => time.UtcDateTime.ToOADate();

    private static string Price(decimal value) => value.ToString("0.########", CultureInfo.InvariantCulture);

    private static string Number(decimal value) => value.ToString("#,0.########", CultureInfo.InvariantCulture);
}
