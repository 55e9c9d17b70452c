using System.Text;
using System.Text.Json;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Engine;

namespace Chaser.Cli.Tests;

/// <summary>The post-trade table as a newcomer's 80-column terminal, a wide one and a redirected file show it.</summary>
public class ResultTableTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static ExecutionResult Result(long id, string symbol, Side side, SizeType sizeType, decimal size, decimal quantity, decimal notional, decimal arrivalMid = 65_000.05m) => new()
    {
        Spec = new ParentOrderSpec(id, symbol, side, sizeType, size),
        Status = FinishReason.Filled,
        FilledQuantity = quantity,
        FilledNotional = notional,
        Fees = notional * 0.0002m,
        ArrivalMid = arrivalMid,
        StartedAt = Start,
        CompletedAt = Start.AddSeconds(3.1),
        ChildOrders = 1,
        Latency = new LatencySummary(12, 268, 2956, 3100),
        Hop = new LatencySummary(12, 14, 61, 70),
    };

    private static readonly ExecutionResult[] Demo =
    [
        Result(1, "BTCUSDT", Side.Buy, SizeType.Notional, 15_000m, 0.23m, 14_950m),
        Result(2, "ETHUSDT", Side.Sell, SizeType.Notional, 8_000m, 2.352m, 7_996.8m),
        Result(3, "ETHUSDT", Side.Buy, SizeType.Quantity, 0.5m, 0.5m, 1_700.005m),
    ];

    /// <summary>An order not a share of which filled, as a rejected or canceled order ends.</summary>
    private static ExecutionResult Unfilled(long id) => Result(id, "BTCUSDT", Side.Buy, SizeType.Notional, 15_000m, 0m, 0m) with
    {
        Status = FinishReason.Canceled,
        Detail = "canceled by the user",
        Fees = 0m,
        Latency = new LatencySummary(0, 0, 0, 0),
        Hop = new LatencySummary(0, 0, 0, 0),
    };

    /// <summary>The table as redirected output prints it (plain ASCII), or as a terminal does with <paramref name="unicode"/>.</summary>
    private static string[] Draw(IReadOnlyList<ExecutionResult> results, int? width, bool unicode = false)
    {
        var writer = new StringWriter();
        var console = ResultTable.ConsoleFor(writer, interactive: false, width);
        console.Write(ResultTable.Render(results, console.Profile.Width, unicode));
        return writer.ToString().Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
    }

    /// <summary>The table's lines that are an order's row: they start with the border and the order's id.</summary>
    private static string[] RowsOf(string[] lines, long id) =>
        lines.Where(l => l.Length > 1 && "│|".Contains(l[0], StringComparison.Ordinal) && l[1..].TrimStart().StartsWith(id + " ", StringComparison.Ordinal)).ToArray();

    private static void AssertFits(string[] lines, int width, ExecutionResult[] results)
    {
        // Columns, and bytes too: a redirected file is measured by tools that count bytes (mawk, cut -b).
        Assert.All(lines, l => Assert.True(l.Length <= width, $"{l.Length} columns: {l}"));
        Assert.All(lines, l => Assert.True(Encoding.UTF8.GetByteCount(l) <= width, $"{Encoding.UTF8.GetByteCount(l)} bytes: {l}"));
        foreach (var result in results)
        {
            // One line per order: no cell wrapped onto a second line, no second table repeating the id.
            Assert.Single(RowsOf(lines, result.Spec.Id));
        }

        Assert.Equal(results.Length, lines.Count(l => results.Any(r => l.Contains(r.Spec.Symbol, StringComparison.Ordinal))));
    }

    [Theory]
    [InlineData(80)]
    [InlineData(100)]
    [InlineData(120)]
    [InlineData(160)]
    public void At_any_width_every_line_fits_with_one_line_per_order(int width)
    {
        var lines = Draw(Demo, width);
        AssertFits(lines, width, Demo);
        Assert.Single(lines, l => l.Contains("14,950 USDT", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("0.5 ETH", StringComparison.Ordinal));
    }

    [Fact]
    public void At_80_columns_the_figures_a_trader_needs_first_are_shown_and_the_rest_named()
    {
        var lines = Draw(Demo, 80);
        var header = Assert.Single(lines, l => l.Contains(" id ", StringComparison.Ordinal));
        foreach (var heading in new[] { "symbol", "side", "filled", "status", "avg", "slip bp" })
        {
            Assert.Contains(heading, header, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("p50/p99", header, StringComparison.Ordinal);
        Assert.Contains("not shown at 80 columns:", string.Join(' ', lines), StringComparison.Ordinal);
    }

    [Fact]
    public void Both_latencies_are_said_under_the_table_even_when_its_columns_do_not_fit()
    {
        // At 80 columns the table drops its latency columns: the engine's hop and the tick-to-order were nowhere.
        var text = new StringWriter();
        OrderSession.Report(Demo, new OutputOptions(text, TextWriter.Null, Json: false, Interactive: false) { Columns = 80 });
        var line = Assert.Single(text.ToString().Split('\n'), l => l.StartsWith("worst order:", StringComparison.Ordinal));
        Assert.Equal("worst order: hop p50/p99 14 / 61 us, tick->order p50/p99 268 / 2956 us", line.TrimEnd());
        Assert.True(line.TrimEnd().Length <= 80);
    }

    [Fact]
    public void On_an_80_column_terminal_every_line_fits_in_columns_with_one_line_per_order()
    {
        var lines = Draw(Demo, 80, unicode: true);
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        Assert.All(Demo, r => Assert.Single(RowsOf(lines, r.Spec.Id)));
    }

    [Fact]
    public void One_order_at_80_columns_is_one_line()
    {
        var one = Demo[..1];
        AssertFits(Draw(one, 80), 80, one);
    }

    [Fact]
    public void A_long_symbol_and_a_huge_size_stay_whole_on_one_line_at_80_columns()
    {
        ExecutionResult[] results =
        [
            Result(1, "1000SHIBUSDT", Side.Buy, SizeType.Quantity, 123_456_789_012m, 123_456_789_012.12345678m, 1_234_567.89012345m, 0.01000005m),
            Result(22, "1000SHIBUSDT", Side.Sell, SizeType.Notional, 99_999_999_999.99m, 9_999_999_999m, 99_999_999_999.99m, 0.01000005m),
            Result(333, "ETHUSDT", Side.Buy, SizeType.Quantity, 0.5m, 0.5m, 1_700.005m),
        ];
        var lines = Draw(results, 80);
        AssertFits(lines, 80, results);
        // The numbers are whole on the order's line: never wrapped, never cut.
        Assert.Contains("123,456,789,012.12345678 1000SHIB", RowsOf(lines, 1)[0], StringComparison.Ordinal);
        Assert.Contains("99,999,999,999.99 USDT", RowsOf(lines, 22)[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Redirected_output_without_COLUMNS_has_every_column_at_full_precision_in_ASCII()
    {
        var lines = Draw(Demo, width: null);
        var header = Assert.Single(lines, l => l.StartsWith("| id |", StringComparison.Ordinal));
        foreach (var heading in new[] { "target", "avg price", "arrival mid", "slippage bp", "fees USDT", "duration", "children", "fills", "tick->order p50/p99 us", "hop p50/p99 us" })
        {
            Assert.Contains(heading, header, StringComparison.Ordinal);
        }

        Assert.All(lines, l => Assert.True(l.All(char.IsAscii), l));
        Assert.Single(RowsOf(lines, 1), l => l.Contains("65,000.05", StringComparison.Ordinal) && l.Contains("268 / 2956", StringComparison.Ordinal));
        Assert.DoesNotContain("not shown", string.Join(' ', lines), StringComparison.Ordinal);
    }

    [Fact]
    public void A_terminal_gets_the_rounded_border_and_full_headings_when_wide()
    {
        var lines = Draw(Demo, 200, unicode: true);
        var header = Assert.Single(lines, l => l.StartsWith("│ id │", StringComparison.Ordinal));
        Assert.Contains("tick→order p50/p99 µs", header, StringComparison.Ordinal);
    }

    [Fact]
    public void Sides_are_words_fees_are_rounded_to_4_decimals_and_missing_figures_are_a_dash()
    {
        var lines = Draw([Demo[0], Demo[1] with { Fees = 0.00123456m }, Unfilled(3)], width: null, unicode: true);
        Assert.Contains(" buy ", RowsOf(lines, 1)[0], StringComparison.Ordinal);
        Assert.Contains(" sell ", RowsOf(lines, 2)[0], StringComparison.Ordinal);
        Assert.Contains(" 2.9900 ", RowsOf(lines, 1)[0], StringComparison.Ordinal);
        Assert.Contains(" 0.0012 ", RowsOf(lines, 2)[0], StringComparison.Ordinal);
        Assert.DoesNotContain("0.00123456", RowsOf(lines, 2)[0], StringComparison.Ordinal);

        // The unfilled order: no average price, slippage or latency — a dash each, never 0.
        var cells = RowsOf(lines, 3)[0].Split('│', '|').Select(c => c.Trim()).Where(c => c.Length > 0).ToArray();
        var header = lines.Single(l => l.Contains(" id ", StringComparison.Ordinal)).Split('│', '|').Select(c => c.Trim()).Where(c => c.Length > 0).ToList();
        Assert.Equal("-", cells[header.IndexOf("avg price")]);
        Assert.Equal("-", cells[header.IndexOf("slippage bp")]);
        Assert.Equal("-", cells[header.IndexOf("tick→order p50/p99 µs")]);
        Assert.Equal("-", cells[header.IndexOf("hop p50/p99 µs")]);
        Assert.Equal("0 USDT", cells[header.IndexOf("filled")]);
    }

    [Fact]
    public void The_json_of_an_unfilled_order_has_null_for_what_cannot_be_computed()
    {
        using var json = JsonDocument.Parse(ResultJson.Write([Unfilled(7) with { ArrivalMid = 0m }]));
        var order = json.RootElement[0];
        foreach (var name in new[] { "avg_price", "arrival_mid", "slippage", "slippage_bps" })
        {
            Assert.Equal(JsonValueKind.Null, order.GetProperty(name).ValueKind);
        }

        Assert.Equal(JsonValueKind.Null, order.GetProperty("latency_us").GetProperty("p50").ValueKind);
        Assert.Equal(0, order.GetProperty("latency_us").GetProperty("count").GetInt32());
        Assert.Equal((JsonValueKind.Null, 0), (order.GetProperty("hop_us").GetProperty("p99").ValueKind, order.GetProperty("hop_us").GetProperty("count").GetInt32()));
        Assert.Equal(1, order.GetProperty("side").GetInt32());
        Assert.Equal("canceled by the user", order.GetProperty("detail").GetString());
        Assert.Equal("2026-12-01T12:00:00.000Z", order.GetProperty("started_at").GetString());
    }

    [Fact]
    public void The_json_of_a_filled_order_keeps_numbers_and_a_missing_detail_is_null()
    {
        using var json = JsonDocument.Parse(ResultJson.Write([Demo[0]]));
        var order = json.RootElement[0];
        Assert.Equal(JsonValueKind.Null, order.GetProperty("detail").ValueKind);
        Assert.Equal(65_000.05m, order.GetProperty("arrival_mid").GetDecimal());
        Assert.Equal(14_950m / 0.23m, order.GetProperty("avg_price").GetDecimal());
        Assert.Equal(268d, order.GetProperty("latency_us").GetProperty("p50").GetDouble());
        Assert.Equal((14d, 61d, 70d), (order.GetProperty("hop_us").GetProperty("p50").GetDouble(), order.GetProperty("hop_us").GetProperty("p99").GetDouble(), order.GetProperty("hop_us").GetProperty("max").GetDouble()));
        Assert.Equal(-1, ResultJson.Write([Demo[1]]).IndexOf("\"side\": 1", StringComparison.Ordinal));
        Assert.Contains("\"side\": -1", ResultJson.Write([Demo[1]]), StringComparison.Ordinal);
    }

    [Fact]
    public void The_json_carries_the_order_fields_it_was_worked_with_as_the_api_spells_them()
    {
        var tuned = Demo[0] with
        {
            Spec = new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 15_000m)
            {
                Strategy = "momentum",
                PriceExpected = 64_990.5m,
                TimeLimit = TimeSpan.FromMinutes(1),
                OnDeadline = DeadlineAction.TakeRemainder,
                MinRepriceInterval = TimeSpan.FromMilliseconds(750),
            },
        };
        using var json = JsonDocument.Parse(ResultJson.Write([tuned, Demo[1]]));
        var order = json.RootElement[0];
        Assert.Equal("momentum", order.GetProperty("strategy").GetString());
        Assert.Equal(64_990.5m, order.GetProperty("price_expected").GetDecimal());
        Assert.Equal("take", order.GetProperty("deadline_action").GetString());
        Assert.Equal(750m, order.GetProperty("min_reprice_interval_ms").GetDecimal());

        // Not given: no benchmark and the engine's interval are null, not 0 (a 0 benchmark reads as a price of 0).
        var plain = json.RootElement[1];
        Assert.Equal(JsonValueKind.Null, plain.GetProperty("price_expected").ValueKind);
        Assert.Equal(JsonValueKind.Null, plain.GetProperty("min_reprice_interval_ms").ValueKind);
        Assert.Equal("cancel", plain.GetProperty("deadline_action").GetString());
    }
}

/// <summary>The fitting itself, on rows of plain text.</summary>
public class FittedTableTests
{
    private sealed record Row(string Name, string Note, string Amount);

    private static readonly FitColumn<Row>[] Columns =
    [
        new("name", FitColumn<Row>.Kept, r => r.Name),
        new("a long note heading", "note", 2, r => r.Note),
        new("amount", 1, r => r.Amount),
    ];

    private static string[] Draw(Row[] rows, int width)
    {
        var writer = new StringWriter();
        var console = ResultTable.ConsoleFor(writer, interactive: false, width);
        console.Write(FittedTable.Build(Columns, rows, width, "caption", unicode: false));
        return writer.ToString().Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
    }

    [Fact]
    public void A_column_too_wide_for_the_console_is_left_out_while_a_narrower_less_needed_one_stays()
    {
        var lines = Draw([new Row("a", new string('x', 60), "1,234.5")], 40);
        Assert.All(lines, l => Assert.True(l.Length <= 40, $"{l.Length}: {l}"));
        Assert.Single(lines, l => l.Contains("1,234.5", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("xxxx", StringComparison.Ordinal));
        Assert.Contains("not shown at 40 columns: note", string.Join(' ', string.Join(' ', lines).Split(' ', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public void Short_headings_are_used_only_when_not_every_column_fits()
    {
        Assert.Contains(Draw([new Row("a", "b", "1")], 200), l => l.Contains("a long note heading", StringComparison.Ordinal));
        Assert.Contains(Draw([new Row("a", "b", "1")], 30), l => l.Contains("| note |", StringComparison.Ordinal));
    }

    [Fact]
    public void Wide_characters_are_measured_in_the_cells_they_take_so_their_column_is_left_out_rather_than_wrapped()
    {
        // 30 CJK characters are 60 terminal cells: counted as 30, the note was kept at 55 columns and wrapped its row.
        var lines = Draw([new Row("a", new string('字', 30), "1,234.5")], 55);

        Assert.All(lines, l => Assert.True(l.Sum(c => c == '字' ? 2 : 1) <= 55, l));
        Assert.DoesNotContain(lines, l => l.Contains('字', StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("1,234.5", StringComparison.Ordinal));
        Assert.Equal(4, FittedTable.Measure("字字"));
        Assert.Equal(1, FittedTable.Measure("e\u0301"));
    }

    [Fact]
    public void A_line_break_in_recorded_text_does_not_break_the_row()
    {
        var lines = Draw([new Row("evil\nname\r", "b", "1")], 200);
        // Border, heading, separator, the one row, border.
        Assert.Contains("evil?name?", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("+--", lines[4], StringComparison.Ordinal);
    }

    [Fact]
    public void The_vocabulary_of_figures_is_one_format_each()
    {
        // The process runs in invariant globalization mode; the formats name their culture anyway.
        Assert.Equal("14,950.5", Display.Number(14_950.5m));
        Assert.Equal("-", Display.Number(null));
        Assert.Equal("+1.25", Display.Bps(1.25m));
        Assert.Equal("-", Display.Bps(null));
        Assert.Equal("0.0012", Display.Fee(0.00123456m));
        Assert.Equal("-0.0010", Display.Fee(-0.001m));
        Assert.Equal("2026-12-01 13:25:10.123Z", Display.Time(new DateTimeOffset(2026, 12, 1, 14, 25, 10, 123, TimeSpan.FromHours(1))));
        Assert.Equal("2026-12-01 13:25:10.123Z", Display.Time((DateTime?)new DateTime(2026, 12, 1, 13, 25, 10, 123, DateTimeKind.Unspecified)));
        Assert.Equal("12.5%", Display.Percent(0.125m));
        Assert.Equal("3.1 s", Display.Seconds(3.1));
        Assert.Equal(("buy", "sell"), (Display.Side(Side.Buy), Display.Side(Side.Sell)));
    }

    [Fact]
    public void A_progress_line_fits_the_width_and_ends_on_the_final_state()
    {
        var spec = new ParentOrderSpec(1, "1000SHIBUSDT", Side.Buy, SizeType.Quantity, 123_456_789_012m);
        var working = ProgressRow.Of(spec, new ExecutionProgress(1_000m, 0.01m, 0.0100001m, 0.01m, 0.01m, ParentStatus.Working) { BestPrice = 0.0100001m, Fills = 2 }, null);
        var line = working.Line(80);
        Assert.True(line.Length <= 80, line);
        Assert.StartsWith("#1 1000SHIBUSDT buy 1,000 / 123,456,789,012 1000SHIB (0.0%) working", line, StringComparison.Ordinal);

        var done = ProgressRow.Of(spec, null, new ExecutionResult { Spec = spec, Status = FinishReason.Filled, FilledQuantity = 123_456_789_012m, FilledNotional = 1_234_567.89m, Fills = [] });
        Assert.Equal("#1 1000SHIBUSDT buy 123,456,789,012 / 123,456,789,012 1000SHIB (100.0%) filled, fills 0", done.Line(200));
    }
}
