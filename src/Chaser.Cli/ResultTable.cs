using System.Globalization;
using Chaser.Core.Domain;
using Chaser.Engine;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Chaser.Cli;

/// <summary>The post-trade table, like the seed's: one row per parent order.</summary>
internal static class ResultTable
{
    /// <summary>Columns of the one wide table; a terminal narrower than this gets the same cells as two tables.</summary>
    public const int WideWidth = 152;

    /// <summary>
    /// The table for a console <paramref name="width"/> columns wide: one table when it fits, else two stacked tables
    /// sharing the id column (an 80-column terminal squeezed the one table into cells wrapped over five lines).
    /// </summary>
    public static IRenderable Render(IReadOnlyList<ExecutionResult> results, int width = WideWidth)
    {
        var wide = width >= WideWidth;
        var cells = results.Select(r => Cells(r, latencyUnit: wide)).ToList();
        string[] columns = ["id", "symbol", "side", "target", "filled", "status", "avg price", "arrival mid", "slippage", "duration", "children", "fills", wide ? "tick→order p50/p99" : "p50/p99 µs"];
        if (wide)
        {
            return Table(columns, cells, Enumerable.Range(0, columns.Length).ToArray(), "slippage against the arrival mid, positive = cost");
        }

        return new Rows(
            Table(columns, cells, [0, 1, 2, 3, 4, 5, 6], null),
            Table(columns, cells, [0, 7, 8, 9, 10, 11, 12], "slippage against the arrival mid, positive = cost; p50/p99: tick→order"));
    }

    private static Table Table(string[] columns, IReadOnlyList<string[]> rows, int[] pick, string? caption)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var index in pick)
        {
            table.AddColumn(new TableColumn(columns[index]).RightAligned());
        }

        foreach (var row in rows)
        {
            table.AddRow(pick.Select(index => Markup.Escape(row[index])).ToArray());
        }

        if (caption is not null)
        {
            table.Caption(caption);
        }

        return table;
    }

    /// <summary>One order's cells; the latency's unit is in the narrow layout's column heading instead.</summary>
    private static string[] Cells(ExecutionResult result, bool latencyUnit)
    {
        var spec = result.Spec;
        var target = spec.SizeType == SizeType.Notional ? Number(spec.Size) + " USDT" : Number(spec.Size) + " " + BaseAsset(spec.Symbol);
        var filled = spec.SizeType == SizeType.Notional ? Number(result.FilledNotional) + " USDT" : Number(result.FilledQuantity) + " " + BaseAsset(spec.Symbol);
        return
        [
            spec.Id.ToString(CultureInfo.InvariantCulture),
            spec.Symbol,
            spec.Side == Side.Buy ? "buy" : "sell",
            target,
            filled,
            ResultJson.StatusName(result.Status),
            Number(result.AveragePrice),
            Number(result.ArrivalMid),
            result.FilledQuantity == 0 ? "-" : result.SlippageBps.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) + " bp",
            result.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s",
            result.ChildOrders.ToString(CultureInfo.InvariantCulture),
            result.Fills.Count.ToString(CultureInfo.InvariantCulture),
            result.Latency.Count == 0 ? "-" : $"{result.Latency.P50:0} / {result.Latency.P99:0}" + (latencyUnit ? " µs" : string.Empty),
        ];
    }

    /// <summary>A console that writes to <paramref name="writer"/>: colours on a terminal, plain text when redirected.</summary>
    public static IAnsiConsole ConsoleFor(TextWriter writer, bool interactive)
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
            // Redirected output (a file, a pipe, CI) has no terminal width: don't squeeze the table into 80 columns.
            console.Profile.Width = 200;
        }

        return console;
    }

    private static string Number(decimal value) => value.ToString("#,0.########", CultureInfo.InvariantCulture);

    public static string BaseAsset(string symbol) =>
        symbol.EndsWith("USDT", StringComparison.Ordinal) ? symbol[..^4] : symbol.EndsWith("USDC", StringComparison.Ordinal) ? symbol[..^4] : symbol;
}
