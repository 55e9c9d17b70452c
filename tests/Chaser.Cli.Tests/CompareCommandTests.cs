using System.Text.Json;
using Chaser.Tests.Shared;

namespace Chaser.Cli.Tests;

/// <summary><c>chaser compare</c>: bad options are one line naming them; a small grid prints, writes and serialises its figures.</summary>
public sealed class CompareCommandTests : IDisposable
{
    private readonly string directory = SyntheticRecording.NewDirectory();

    public CompareCommandTests()
    {
        SyntheticRecording.Write(directory, "BTCUSDT", "20990101T0000Z", 60_000m, 0.1m, 0.5m, TimeSpan.FromSeconds(12), seed: 1);
        SyntheticRecording.Write(directory, "ETHUSDT", "20990101T0000Z", 3_000m, 0.01m, 5m, TimeSpan.FromSeconds(12), seed: 2);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>A grid of 2 windows × 2 starts × 2 sides × 1 size × 3 strategies = 24 short runs.</summary>
    private string[] Small(params string[] more) =>
        ["compare", "--data", directory, "--strategies", "chaser,naive,taker", "--sizes", "5000", "--every", "5s", "--deadline", "5s", .. more];

    [Theory]
    [InlineData("option '--data': no such directory: /nonexistent/recordings", "--data", "/nonexistent/recordings")]
    [InlineData("option '--strategies': 'twap' is not a strategy (chaser, naive, queue, queue-take or taker)", "--strategies", "chaser,twap")]
    [InlineData("option '--strategies' names a value twice in 'chaser,chaser'", "--strategies", "chaser,chaser")]
    [InlineData("option '--strategies' has an empty item in 'chaser,'", "--strategies", "chaser,")]
    [InlineData("option '--reference': 'taker' is not one of the strategies run (chaser,naive)", "--strategies", "chaser,naive", "--reference", "taker")]
    [InlineData("option '--sides': 'long' is not a side (buy or sell)", "--sides", "buy,long")]
    [InlineData("option '--sizes': '0' must be greater than zero", "--sizes", "5000,0")]
    [InlineData("option '--sizes': '1e3' is not a number: has an exponent", "--sizes", "1e3")]
    [InlineData("option '--sizes': '000' has a leading zero (is ',' a thousands separator? the sizes are plain numbers separated by commas: 5000,50000)", "--sizes", "5,000")]
    [InlineData("option '--sizes': 5 USDT is below the minimum notional of BTCUSDT (100 USDT)", "--sizes", "5,500")]
    [InlineData("option '--every' must be a positive duration like 30s, 3m or 1h, got '0s'", "--every", "0s")]
    [InlineData("option '--deadline' must be a positive duration like 30s, 3m or 1h, got 'soon'", "--deadline", "soon")]
    [InlineData("option '--latency-ms' must be a whole number from 0 to 60000, got '-1'", "--latency-ms", "-1")]
    [InlineData("option '--queue-model' must be proportional or risk-averse, got 'fifo'", "--queue-model", "fifo")]
    [InlineData("option '--every': the grid would be 417,060 runs, more than 100,000; give a longer --every", "--every", "1ms", "--deadline", "5s")]
    [InlineData("option '--parallel' must be a whole number from 1 to 1024, got '0'", "--parallel", "0")]
    [InlineData("option '--csv': cannot write /nonexistent/dir/runs.csv: its directory does not exist", "--csv", "/nonexistent/dir/runs.csv")]
    [InlineData("option '--chart': cannot write /tmp: it is a directory", "--chart", "/tmp")]
    public async Task A_bad_option_is_one_line_naming_it_with_exit_code_2(string expected, params string[] options)
    {
        string[] data = options.Contains("--data") ? [] : ["--data", directory];
        var outcome = await CliRunner.RunAsync(null, ["compare", .. data, .. options]);

        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith($"chaser compare: {expected}", outcome.Error, StringComparison.Ordinal);
        Assert.Single(outcome.Error.Trim().Split('\n'));
        Assert.Equal("", outcome.Output);
    }

    [Fact]
    public async Task Without_data_here_the_default_directory_is_named()
    {
        var outcome = await CliRunner.RunAsync(null, "compare");

        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("chaser compare: option '--data': no such directory: data/binance/um", outcome.Error.Trim(), StringComparison.Ordinal);
        Assert.Single(outcome.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_directory_without_recordings_or_a_deadline_longer_than_the_data_is_refused()
    {
        var empty = SyntheticRecording.NewDirectory();
        try
        {
            var none = await CliRunner.RunAsync(null, "compare", "--data", empty);
            var tooLong = await CliRunner.RunAsync(null, "compare", "--data", directory, "--deadline", "1m");

            Assert.Equal((2, $"chaser compare: option '--data': no recordings in {empty} (files named <SYMBOL>-UM-<stamp>-<kind>.csv.gz)"), (none.ExitCode, none.Error.Trim()));
            Assert.Equal(2, tooLong.ExitCode);
            Assert.StartsWith("chaser compare: option '--deadline': no window in", tooLong.Error.Trim(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public async Task A_damaged_recording_is_named_by_file_and_line()
    {
        File.AppendAllText(Path.Combine(directory, "ETHUSDT-UM-20990101T0000Z-trades.csv"), "1,2,3\n");

        var outcome = await CliRunner.RunAsync(null, Small());

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("option '--data': ", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("ETHUSDT-UM-20990101T0000Z-trades.csv: line 122", outcome.Error, StringComparison.Ordinal);
        Assert.Single(outcome.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_small_grid_prints_the_tables_within_80_columns_and_writes_csv_and_a_chart()
    {
        var csv = Path.Combine(directory, "runs.csv");
        var chart = Path.Combine(directory, "chart.png");

        var outcome = await CliRunner.RunAsync(null, Small("--parallel", "2", "--csv", csv, "--chart", chart));

        Assert.Equal("", outcome.Error);
        Assert.Equal(0, outcome.ExitCode);
        var lines = outcome.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        Assert.All(lines, l => Assert.True(l.All(char.IsAscii), $"not ASCII: {l}"));
        Assert.Contains(lines, l => l.Contains("| strategy | mean bp | median bp | completed | requests/order |", StringComparison.Ordinal));
        Assert.Contains("paired against chaser", outcome.Output, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("| BTCUSDT-UM-20990101T0000Z |", StringComparison.Ordinal));
        Assert.Contains("grid: 4 starts in 2 windows x 2 sides x 1 sizes x 3 strategies = 24 runs", outcome.Output, StringComparison.Ordinal);

        var rows = File.ReadAllLines(csv);
        Assert.Equal("window,symbol,start,side,size,strategy,status,filled_pct,cost_bps,fees,requests,fills,maker_fills,duration_s,wall_ms", rows[0]);
        Assert.Equal(24, rows.Length - 1);
        Assert.StartsWith("BTCUSDT-UM-20990101T0000Z,BTCUSDT,2099-01-01T00:00:00.000Z,buy,5000,chaser,", rows[1], StringComparison.Ordinal);
        Assert.StartsWith("BTCUSDT-UM-20990101T0000Z,BTCUSDT,2099-01-01T00:00:00.000Z,buy,5000,naive,", rows[2], StringComparison.Ordinal);
        Assert.All(rows.Skip(1), r => Assert.Equal(15, r.Split(',').Length));

        var png = File.ReadAllBytes(chart);
        Assert.True(png.Length > 1_000 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G', "not a PNG");
    }

    [Fact]
    public async Task Json_gives_the_same_figures_as_one_object_and_the_same_for_any_parallelism()
    {
        var one = await CliRunner.RunAsync(null, Small("--json", "--parallel", "1"));
        var two = await CliRunner.RunAsync(null, Small("--json", "--parallel", "2"));

        Assert.Equal((0, ""), (one.ExitCode, one.Error));
        using var document = JsonDocument.Parse(one.Output);
        var root = document.RootElement;
        Assert.Equal(24, root.GetProperty("grid").GetProperty("runs").GetInt32());
        Assert.Equal(["chaser", "naive", "taker"], root.GetProperty("strategies").EnumerateArray().Select(s => s.GetProperty("strategy").GetString()));
        var paired = root.GetProperty("paired").EnumerateArray().ToArray();
        Assert.Equal(["naive", "taker"], paired.Select(p => p.GetProperty("strategy").GetString()));
        Assert.All(paired, p => Assert.Equal("chaser", p.GetProperty("reference").GetString()));
        Assert.Equal(2 * 3, root.GetProperty("windows").GetArrayLength());
        // Everything but the wall time and the workers is the same.
        Assert.Equal(WithoutRunFacts(one.Output), WithoutRunFacts(two.Output));
    }

    [Fact]
    public async Task Ctrl_c_stops_the_grid_with_one_line()
    {
        using var stop = new CancellationTokenSource();
        await stop.CancelAsync();

        var outcome = await CliRunner.RunAsync(null, stop.Token, Small());

        Assert.Equal(3, outcome.ExitCode);
        Assert.Equal("chaser compare: stopped", outcome.Error.Trim());
    }

    private static string WithoutRunFacts(string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        node["grid"]!.AsObject().Remove("wall_s");
        node["grid"]!.AsObject().Remove("parallel");
        return node.ToJsonString();
    }
}
