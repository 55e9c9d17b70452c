using System.Globalization;
using Chaser.Storage;
using ScottPlot;

namespace Chaser.Reporting;

/// <summary>The colours of a chart: light for files and reports, dark for the dashboard (its page is dark).</summary>
public enum ChartTheme
{
    Light,
    Dark,
}

/// <summary>
/// The picture of one parent order: bid, ask and mid over time, our child order's price as a step line, fills as
/// markers sized by quantity, and the arrival mid and average price as reference lines.
/// </summary>
public static class ExecutionChart
{
    /// <summary>The colours of one theme: the figure, the plotting area, grid, text, and each series.</summary>
    private sealed record Palette(Color Figure, Color Data, Color Grid, Color Text, Color Bid, Color Ask, Color Mid, Color Child, Color Fill, Color Rejected);

    private static readonly Palette Light = new(
        Colors.White, Colors.White, Color.FromHex("#e5e5e5"), Color.FromHex("#222222"),
        Color.FromHex("#1f77b4"), Color.FromHex("#d62728"), Color.FromHex("#7f7f7f"), Color.FromHex("#ff7f0e"), Color.FromHex("#2ca02c"), Color.FromHex("#9467bd"));

    // The dashboard's own colours (app.css): panel, page background, lines, text; series lightened to read on dark.
    private static readonly Palette Dark = new(
        Color.FromHex("#161d26"), Color.FromHex("#0f1419"), Color.FromHex("#243040"), Color.FromHex("#d8dee9"),
        Color.FromHex("#5aa9e6"), Color.FromHex("#e0524b"), Color.FromHex("#9aa5b1"), Color.FromHex("#ff9f1c"), Color.FromHex("#7ee08a"), Color.FromHex("#c5a3ff"));

    public static byte[] RenderPng(StoredExecution execution, int width = 1000, int height = 520, ChartTheme theme = ChartTheme.Light)
    {
        using var plot = Build(execution, theme);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    public static void SavePng(StoredExecution execution, string path, int width = 1000, int height = 520, ChartTheme theme = ChartTheme.Light)
    {
        using var plot = Build(execution, theme);
        plot.SavePng(path, width, height);
    }

    private static Plot Build(StoredExecution execution, ChartTheme theme)
    {
        ArgumentNullException.ThrowIfNull(execution);
        var colors = theme == ChartTheme.Dark ? Dark : Light;
        var order = execution.Order;
        var plot = new Plot();

        // Time labels to the precision of their spacing, so that no two read the same (a fixed "HH:mm:ss.f" repeated
        // itself on a short order's 50 ms ticks).
        plot.Axes.Bottom.TickGenerator = new TimeTickGenerator();

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
        plot.FigureBackground.Color = colors.Figure;
        plot.DataBackground.Color = colors.Data;
        plot.Axes.Color(colors.Text);
        plot.Grid.MajorLineColor = colors.Grid;
        plot.Legend.BackgroundColor = colors.Figure;
        plot.Legend.FontColor = colors.Text;
        plot.Legend.OutlineColor = colors.Grid;

        // The book as step lines: a quote holds until the next one.
        if (mids.Count > 0)
        {
            var xs = mids.Select(m => X(m.ReceivedTime)).ToArray();
            Step(plot, xs, [.. mids.Select(m => (double)m.Bid)], colors.Bid, 1.5f, "bid");
            Step(plot, xs, [.. mids.Select(m => (double)m.Ask)], colors.Ask, 1.5f, "ask");
            Step(plot, xs, [.. mids.Select(m => (double)m.Mid)], colors.Mid, 1f, "mid", LinePattern.Dotted);
        }

        // Each child order's price from its place and modify decisions until it was canceled or the order ended; one
        // the exchange rejected (post-only, it would have crossed) never rested, so it is a mark where it was sent.
        var (restingLabelled, rejectedLabelled) = (false, false);
        foreach (var child in ChildSegments(execution, end))
        {
            if (child.Rejected)
            {
                var mark = plot.Add.Marker(X(child.Points[0].Time), (double)child.Points[0].Price, MarkerShape.Eks, 9f, colors.Rejected);
                mark.LegendText = rejectedLabelled ? "" : "rejected (post-only)";
                rejectedLabelled = true;
                continue;
            }

            Step(plot, [.. child.Points.Select(p => X(p.Time))], [.. child.Points.Select(p => (double)p.Price)], colors.Child, 2.5f, restingLabelled ? null : "our order");
            restingLabelled = true;
        }

        // Fills: area proportional to quantity, so a fill twice the size looks twice as big.
        var largest = execution.Fills.Count > 0 ? execution.Fills.Max(f => f.Qty) : 0m;
        var labelled = false;
        foreach (var fill in execution.Fills)
        {
            var size = largest > 0 ? (float)(7 + (13 * Math.Sqrt((double)(fill.Qty / largest)))) : 8f;
            var marker = plot.Add.Marker(X(fill.ReceivedTime), (double)fill.Price, MarkerShape.FilledCircle, size, colors.Fill.WithAlpha(0.75));
            marker.LegendText = labelled ? "" : "fills (size ∝ qty)";
            labelled = true;
        }

        if (order.ArrivalMid > 0)
        {
            var arrival = plot.Add.HorizontalLine((double)order.ArrivalMid, 1, colors.Mid, LinePattern.Dashed);
            arrival.LegendText = $"arrival mid {Price(order.ArrivalMid)}";
        }

        if (order.FilledQty > 0 && order.AvgPrice > 0)
        {
            var average = plot.Add.HorizontalLine((double)order.AvgPrice, 1.5f, colors.Fill, LinePattern.Dashed);
            average.LegendText = $"avg price {Price(order.AvgPrice)}";
        }

        // The terminal's words: "#1 buy 15,000 USDT of BTCUSDT", "#3 buy 0.5 ETHUSDT".
        var side = order.Side > 0 ? "buy" : "sell";
        var what = order.SizeType == "n" ? $"{Number(order.Size)} USDT of {order.Symbol}" : $"{Number(order.Size)} {order.Symbol}";
        var fills = execution.Fills.Count == 1 ? "1 fill" : $"{execution.Fills.Count} fills";
        plot.Title($"#{order.Id} {side} {what} — {order.Status}: {Number(order.FilledNotional)} USDT filled in {fills}");
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

    /// <summary>
    /// Per child order, its price over time: a point at each place/modify and one where it stopped resting. A child
    /// the exchange rejected on arrival (a post-only order that would have crossed) never rested: it is marked
    /// <see cref="ChildSegment.Rejected"/> with its one point, where and when it was sent.
    /// </summary>
    internal static IReadOnlyList<ChildSegment> ChildSegments(StoredExecution execution, DateTimeOffset end)
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

        var segments = new List<ChildSegment>();
        foreach (var id in order)
        {
            var points = byChild[id];
            var child = execution.Children.FirstOrDefault(c => c.ClientOrderId == id);
            if (child is { Status: "rejected" })
            {
                segments.Add(new ChildSegment(id, [points[0]], Rejected: true));
                continue;
            }

            var stopped = child?.DoneAt ?? execution.Events.FirstOrDefault(e => e.Kind == "cancel" && e.ClientOrderId == id)?.Time ?? end;
            if (stopped > points[^1].Time)
            {
                points.Add((stopped, points[^1].Price));
            }

            segments.Add(new ChildSegment(id, points, Rejected: false));
        }

        return segments;
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

/// <summary>What the chart draws of one child order: its price over time, or a single mark when it was rejected.</summary>
internal sealed record ChildSegment(string ClientOrderId, IReadOnlyList<(DateTimeOffset Time, decimal Price)> Points, bool Rejected);

/// <summary>
/// Time ticks on the bottom axis (OLE automation dates, UTC): at most about one per 110 pixels, on round steps from
/// 1 ms to days, each label to the precision its step needs (".fff" for 5 ms, ".f" for 500 ms, seconds, minutes,
/// dates), so neighbouring labels never read the same.
/// </summary>
internal sealed class TimeTickGenerator : ITickGenerator
{
    private static readonly TimeSpan[] Steps =
    [
        .. new[] { 1, 2, 5, 10, 20, 50, 100, 200, 500 }.Select(ms => TimeSpan.FromMilliseconds(ms)),
        .. new[] { 1, 2, 5, 10, 15, 30 }.Select(s => TimeSpan.FromSeconds(s)),
        .. new[] { 1, 2, 5, 10, 15, 30 }.Select(m => TimeSpan.FromMinutes(m)),
        .. new[] { 1, 2, 3, 6, 12 }.Select(h => TimeSpan.FromHours(h)),
        .. new[] { 1, 2, 7, 14, 30, 91, 182, 365 }.Select(d => TimeSpan.FromDays(d)),
    ];

    // The span DateTime.FromOADate takes (0100-01-01 to 9999-12-31).
    private const double MinDate = -657_435.0;
    private const double MaxDate = 2_958_465.0;

    public Tick[] Ticks { get; set; } = [];

    public int MaxTickCount { get; set; } = 10_000;

    public void Regenerate(CoordinateRange range, Edge edge, PixelLength size, Paint paint, LabelStyle labelStyle)
    {
        var most = Math.Clamp((int)(size.Length / 110), 2, 12);
        if (!(range.Min >= MinDate && range.Max <= MaxDate))
        {
            Ticks = []; // no data yet (or none a date can hold): nothing to label
            return;
        }

        Ticks = [.. For(DateTime.FromOADate(range.Min), DateTime.FromOADate(range.Max), most).Select(t => Tick.Major(t.Time.ToOADate(), t.Label))];
    }

    /// <summary>Ticks over [from, to]: the finest round step giving at most <paramref name="most"/>, and their labels.</summary>
    public static IReadOnlyList<(DateTime Time, string Label)> For(DateTime from, DateTime to, int most)
    {
        if (!(to > from) || most < 1)
        {
            return [];
        }

        var span = to - from;
        var step = Steps.FirstOrDefault(s => span.Ticks / s.Ticks < most, Steps[^1]);
        var format = step.Ticks switch
        {
            < TimeSpan.TicksPerMillisecond * 10 => "HH:mm:ss.fff",
            < TimeSpan.TicksPerMillisecond * 100 => "HH:mm:ss.ff",
            < TimeSpan.TicksPerSecond => "HH:mm:ss.f",
            < TimeSpan.TicksPerMinute => "HH:mm:ss",
            < TimeSpan.TicksPerDay when span < TimeSpan.FromDays(1) => "HH:mm",
            < TimeSpan.TicksPerDay => "MM-dd HH:mm",
            _ => "yyyy-MM-dd",
        };

        // On whole multiples of the step: a step of a day or less divides the day, so ticks fall on round times of day.
        var first = new DateTime(Math.Min((from.Ticks + step.Ticks - 1) / step.Ticks * step.Ticks, DateTime.MaxValue.Ticks), DateTimeKind.Utc);
        var ticks = new List<(DateTime, string)>();
        for (var t = first; t <= to && ticks.Count <= most; t += step)
        {
            ticks.Add((t, t.ToString(format, CultureInfo.InvariantCulture)));
            if (DateTime.MaxValue - t < step)
            {
                break; // the calendar's end: the next step would not be a date
            }
        }

        return ticks;
    }
}
