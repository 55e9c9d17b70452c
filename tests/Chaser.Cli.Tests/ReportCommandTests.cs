using System.Text.Json;

namespace Chaser.Cli.Tests;

/// <summary>`chaser report` over a real `chaser demo` run recorded in SQLite.</summary>
public class ReportCommandTests
{
    [Fact]
    public async Task A_demo_run_is_reported_as_tables_csv_parquet_json_and_charts()
    {
        var directory = Directory.CreateTempSubdirectory("chaser-report-").FullName;
        var database = "Data Source=" + Path.Combine(directory, "chaser.db");
        var demo = await CliRunner.RunAsync(null, "demo", "--db", database);
        Assert.True(demo.ExitCode == 0, $"demo: exit {demo.ExitCode}: {demo.Error}");

        var csv = Path.Combine(directory, "report.csv");
        var parquet = Path.Combine(directory, "report.parquet");
        var charts = Path.Combine(directory, "charts");
        var report = await CliRunner.RunAsync(null, "report", "--db", database, "--csv", csv, "--parquet", parquet, "--charts", charts);

        Assert.True(report.ExitCode == 0, $"report: exit {report.ExitCode}: {report.Error}");
        // Redirected output is plain ASCII (see FittedTable): the heading is spelled out.
        Assert.Contains("1/2-spread earned", report.Output, StringComparison.Ordinal);
        Assert.Contains("by symbol, side and strategy", report.Output, StringComparison.Ordinal);
        Assert.Contains("IS bp", report.Output, StringComparison.Ordinal);
        var lines = File.ReadAllLines(csv);
        Assert.Equal(4, lines.Length); // header + three orders
        Assert.StartsWith("id,symbol,side,strategy,status,", lines[0], StringComparison.Ordinal);
        Assert.Equal(["BTCUSDT,buy", "ETHUSDT,sell", "ETHUSDT,buy"], lines.Skip(1).Select(l => string.Join(',', l.Split(',')[1..3])));
        Assert.Equal("PAR1"u8.ToArray(), File.ReadAllBytes(parquet)[..4]);
        Assert.Equal(["order-1.png", "order-2.png", "order-3.png"], Directory.GetFiles(charts).Select(Path.GetFileName).Order());
        Assert.All(Directory.GetFiles(charts), f => Assert.Equal(0x89, File.ReadAllBytes(f)[0]));

        var json = await CliRunner.RunAsync(null, "report", "--db", database, "--ids", "2", "--json");
        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Output);
        var order = Assert.Single(doc.RootElement.GetProperty("orders").EnumerateArray());
        Assert.Equal((2L, "sell", "filled"), (order.GetProperty("id").GetInt64(), order.GetProperty("side").GetString(), order.GetProperty("status").GetString()));
        Assert.Equal(1m, order.GetProperty("maker_fraction").GetDecimal());
        Assert.True(order.GetProperty("fill_rate").GetDecimal() > 0.99m);

        // Implementation shortfall is the fills' cost beyond the arrival mid (sell: −(notional − mid × qty)), the fees and
        // the remainder's opportunity cost, each as reported (to 8 places).
        decimal Field(string name) => order.GetProperty(name).GetDecimal();
        var shortfall = -(Field("filled_notional") - (Field("arrival_mid") * Field("filled_qty"))) + Field("fees") + Field("opportunity_cost");
        Assert.InRange(Field("implementation_shortfall") - shortfall, -0.00000002m, 0.00000002m);
        Assert.InRange((Field("implementation_shortfall") / Field("size") * 10_000m) - Field("implementation_shortfall_bps"), -0.0002m, 0.0002m); // of 8,000 USDT
        Assert.NotEqual(JsonValueKind.Null, doc.RootElement.GetProperty("aggregates")[0].GetProperty("implementation_shortfall_bps").ValueKind);
        Assert.Single(doc.RootElement.GetProperty("aggregates").EnumerateArray());

        var none = await CliRunner.RunAsync(null, "report", "--db", database, "--strategy", "no-such-strategy");
        Assert.Equal(0, none.ExitCode);
        Assert.Contains("no orders in SQLite", none.Output, StringComparison.Ordinal);
        var since = await CliRunner.RunAsync(null, "report", "--db", database, "--since", "1h", "--json");
        Assert.Equal(3, JsonDocument.Parse(since.Output).RootElement.GetProperty("orders").GetArrayLength());
        var future = await CliRunner.RunAsync(null, "report", "--db", database, "--since", "2099-01-01T00:00:00Z", "--json");
        Assert.Equal(0, JsonDocument.Parse(future.Output).RootElement.GetProperty("orders").GetArrayLength());
    }

    [Theory]
    [InlineData("option '--ids': 'x' is not an order id", "--ids", "1,x")]
    [InlineData("option '--ids': no order 99", "--ids", "99")]
    [InlineData("option '--since': 'yesterday' is neither an ISO 8601 time", "--since", "yesterday")]
    [InlineData("unknown option '--chart'", "--chart", "dir")]
    public async Task Bad_report_options_are_named(string expected, params string[] options)
    {
        var outcome = await CliRunner.RunAsync(null, ["report", .. options]);

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(expected, outcome.Error, StringComparison.Ordinal);
        Assert.Equal("", outcome.Output);
    }
}
