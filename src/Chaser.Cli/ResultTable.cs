using System.Globalization;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Chaser.Cli;

/// <summary>The post-trade table, like the seed's: one line per parent order at any console width.</summary>
internal static class ResultTable
{
    /// <summary>
    /// The width redirected output (a file, a pipe, CI) is laid out for when <c>COLUMNS</c> doesn't say: wider than any
    /// table, so that nothing is dropped or abbreviated and every figure keeps its full precision.
    /// </summary>
    public const int FullWidth = 1024;

    /// <summary>
    /// Every column, most needed first by rank: which order, side, how much and how it ended are always shown; the
    /// price and slippage next; the order traffic and latency go first on a narrow console.
    /// </summary>
    private static readonly FitColumn<ExecutionResult>[] Columns =
    [
        new("id", FitColumn<ExecutionResult>.Kept, r => Display.Count(r.Spec.Id)),
        new("symbol", 1, r => r.Spec.Symbol),
        new("side", FitColumn<ExecutionResult>.Kept, r => Display.Side(r.Spec.Side)),
        new("target", 4, r => Amount(r.Spec, r.Spec.Size)),
        new("filled", FitColumn<ExecutionResult>.Kept, r => Amount(r.Spec, r.Spec.SizeType == SizeType.Notional ? r.FilledNotional : r.FilledQuantity)),
        new("status", FitColumn<ExecutionResult>.Kept, r => ResultJson.StatusName(r.Status)),
        new("avg price", "avg", 2, r => Display.Number(AveragePrice(r))),
        new("arrival mid", "mid", 7, r => Display.Number(ArrivalMid(r))),
        new("slippage bp", "slip bp", 3, r => Display.Bps(SlippageBps(r))),
        new("fees USDT", "fees", 8, r => Display.Fee(r.Fees)),
        new("duration", "dur", 6, r => Display.Seconds(r.Duration.TotalSeconds)),
        new("children", "child", 10, r => Display.Count(r.ChildOrders)),
        new("fills", 5, r => Display.Count(r.Fills.Count)),
        new("tick→order p50/p99 µs", "p50/p99 µs", 9, r => Percentiles(r.Latency)),
        new("hop p50/p99 µs", "hop µs", 11, r => Percentiles(r.Hop)),
    ];

    /// <summary>The table for a console <paramref name="width"/> columns wide (<paramref name="unicode"/>: see <see cref="FittedTable"/>).</summary>
    public static IRenderable Render(IReadOnlyList<ExecutionResult> results, int width = FullWidth, bool unicode = true) =>
        FittedTable.Build(Columns, results, width, "slippage against the arrival mid, positive = cost", unicode);

    /// <summary>
    /// The engine's hop and tick-to-order of the order with the highest of each (p50 and p99 taken apart), in one line
    /// under 80 columns; null when no order sent a measured request.
    /// </summary>
    public static string? WorstLatencies(IReadOnlyList<ExecutionResult> results)
    {
        var hops = results.Select(r => r.Hop).Where(l => l.Count > 0).ToList();
        var ticks = results.Select(r => r.Latency).Where(l => l.Count > 0).ToList();
        if (hops.Count == 0 && ticks.Count == 0)
        {
            return null;
        }

        var worst = results.Count == 1 ? "" : "worst order: ";
        return worst + "hop p50/p99 " + Worst(hops) + " µs, tick→order p50/p99 " + Worst(ticks) + " µs";

        static string Worst(List<LatencySummary> measured) => measured.Count == 0
            ? Display.Missing
            : string.Create(CultureInfo.InvariantCulture, $"{measured.Max(l => l.P50):0} / {measured.Max(l => l.P99):0}");
    }

    /// <summary>p50 / p99 in whole microseconds; none when nothing was measured (not a latency of 0).</summary>
    private static string Percentiles(LatencySummary latency) =>
        latency.Count == 0 ? Display.Missing : string.Create(CultureInfo.InvariantCulture, $"{latency.P50:0} / {latency.P99:0}");

    /// <summary>None until a share filled: an average of nothing is not a price of 0.</summary>
    public static decimal? AveragePrice(ExecutionResult result) => result.FilledQuantity == 0 ? null : result.AveragePrice;

    /// <summary>None when no sane book was seen before the order ended.</summary>
    public static decimal? ArrivalMid(ExecutionResult result) => result.ArrivalMid == 0 ? null : result.ArrivalMid;

    /// <summary>None without a fill or an arrival mid to compare it with (the engine's 0 would read as a perfect fill).</summary>
    public static decimal? Slippage(ExecutionResult result) => result.FilledQuantity == 0 || result.ArrivalMid == 0 ? null : result.Slippage;

    public static decimal? SlippageBps(ExecutionResult result) => Slippage(result) is null ? null : result.SlippageBps;

    private static string Amount(ParentOrderSpec spec, decimal amount) =>
        Display.Number(amount) + " " + (spec.SizeType == SizeType.Notional ? "USDT" : SymbolAssets.BaseAsset(spec.Symbol));

    /// <summary>The width to lay redirected output out for: <c>COLUMNS</c> when it is a positive number, else none (full width).</summary>
    public static int? ColumnsFrom(Func<string, string?> environment) =>
        int.TryParse(environment("COLUMNS"), NumberStyles.None, CultureInfo.InvariantCulture, out var columns) && columns > 0 ? columns : null;

    /// <summary>
    /// A console that writes to <paramref name="writer"/>: on a terminal, colours and the terminal's width; redirected,
    /// plain ASCII text <paramref name="columns"/> wide (from <c>COLUMNS</c>), else <see cref="FullWidth"/>.
    /// </summary>
    public static IAnsiConsole ConsoleFor(TextWriter writer, bool interactive, int? columns)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!interactive)
        {
            console.Profile.Width = columns ?? FullWidth;
            console.Profile.Capabilities.Unicode = false;
        }

        return console;
    }
}
