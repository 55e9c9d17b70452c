using System.Globalization;
using Chaser.Core.Domain;
using Chaser.Engine;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Chaser.Cli;

/// <summary>The post-trade table, like the seed's: one row per parent order.</summary>
internal static class ResultTable
{
    public static IRenderable Render(IReadOnlyList<ExecutionResult> results)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "id", "symbol", "side", "target", "filled", "status", "avg price", "arrival mid", "slippage", "duration", "children", "fills", "tick→order p50/p99" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var result in results)
        {
            var spec = result.Spec;
            var target = spec.SizeType == SizeType.Notional ? Number(spec.Size) + " USDT" : Number(spec.Size) + " " + BaseAsset(spec.Symbol);
            var filled = spec.SizeType == SizeType.Notional ? Number(result.FilledNotional) + " USDT" : Number(result.FilledQuantity) + " " + BaseAsset(spec.Symbol);
            table.AddRow(
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
                result.Latency.Count == 0 ? "-" : $"{result.Latency.P50:0} / {result.Latency.P99:0} µs");
        }

        table.Caption("slippage against the arrival mid, positive = cost");
        return table;
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
