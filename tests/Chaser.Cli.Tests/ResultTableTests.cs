using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Engine;
using Spectre.Console;

namespace Chaser.Cli.Tests;

/// <summary>The post-trade table as a newcomer's 80-column terminal shows it.</summary>
public class ResultTableTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static ExecutionResult Result(long id, string symbol, Side side, SizeType sizeType, decimal size, decimal quantity, decimal notional) => new()
    {
        Spec = new ParentOrderSpec(id, symbol, side, sizeType, size),
        Status = FinishReason.Filled,
        FilledQuantity = quantity,
        FilledNotional = notional,
        ArrivalMid = 65_000.05m,
        StartedAt = Start,
        CompletedAt = Start.AddSeconds(3.1),
        Latency = new LatencySummary(12, 268, 2956, 3100),
    };

    private static string[] Draw(int width)
    {
        var writer = new StringWriter();
        var console = ResultTable.ConsoleFor(writer, interactive: false);
        console.Profile.Width = width;
        console.Write(ResultTable.Render(
            [
                Result(1, "BTCUSDT", Side.Buy, SizeType.Notional, 15_000m, 0.23m, 14_950m),
                Result(2, "ETHUSDT", Side.Sell, SizeType.Notional, 8_000m, 2.352m, 7_996.8m),
                Result(3, "ETHUSDT", Side.Buy, SizeType.Quantity, 0.5m, 0.5m, 1_700.005m),
            ],
            width));
        return writer.ToString().Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
    }

    [Fact]
    public void At_80_columns_every_line_fits_and_each_order_is_one_line_per_table()
    {
        var lines = Draw(80);
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));

        // Two tables, one line per order in each (the one wide table wrapped each cell over five lines here).
        Assert.Single(lines, l => l.Contains("BTCUSDT", StringComparison.Ordinal));
        Assert.Equal(3, lines.Count(l => l.Contains("65,000.05", StringComparison.Ordinal)));
        Assert.Equal(2, lines.Count(l => l.Contains("│ id │", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.Contains("14,950 USDT", StringComparison.Ordinal) && l.Contains("15,000 USDT", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("268 / 2956", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("0.5 ETH", StringComparison.Ordinal));
    }

    [Fact]
    public void A_wide_console_gets_the_one_table_with_every_column()
    {
        var lines = Draw(200);
        var header = Assert.Single(lines, l => l.Contains("│ id │", StringComparison.Ordinal));
        Assert.Contains("arrival mid", header, StringComparison.Ordinal);
        Assert.Contains("tick→order p50/p99", header, StringComparison.Ordinal);
        Assert.Contains("symbol", header, StringComparison.Ordinal);
        Assert.Single(lines, l => l.Contains("BTCUSDT", StringComparison.Ordinal) && l.Contains("268 / 2956 µs", StringComparison.Ordinal));
    }
}
