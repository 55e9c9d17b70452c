using Chaser.Simulator.Server;

namespace Chaser.Cli.Tests;

/// <summary>Bad input gets a clear error naming the field, exit code 2, and nothing reaches the exchange.</summary>
public class BadInputTests
{
    [Theory]
    [InlineData("unknown option '--notionl'", "--symbol", "BTCUSDT", "--side", "buy", "--notionl", "100")]
    [InlineData("option '--notional' must be greater than zero", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "0")]
    [InlineData("option '--quantity' must be greater than zero", "--symbol", "BTCUSDT", "--side", "buy", "--quantity", "-0.2")]
    [InlineData("options '--notional' and '--quantity' exclude each other", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--quantity", "0.1")]
    [InlineData("option '--notional' or '--quantity' is required", "--symbol", "BTCUSDT", "--side", "buy")]
    [InlineData("option '--side' must be buy or sell, got 'long'", "--symbol", "BTCUSDT", "--side", "long", "--notional", "100")]
    [InlineData("option '--symbol' is required", "--side", "buy", "--notional", "100")]
    [InlineData("option '--notional' must be a number, got '1e'", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "1e")]
    [InlineData("option '--deadline' must be a positive duration", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--deadline", "soon")]
    [InlineData("option '--notional' must be a number, got '1,000': uses ',': use '.' as the decimal point, no thousands separators", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "1,000")]
    [InlineData("option '--notional' must be a number, got '15_000': has a digit separator", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "15_000")]
    [InlineData("option '--notional' must be a number, got '1e3': has an exponent", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "1e3")]
    [InlineData("option '--quantity' must be a number, got '0.0000000000000000001': has more than 18 digits after the decimal point", "--symbol", "BTCUSDT", "--side", "buy", "--quantity", "0.0000000000000000001")]
    [InlineData("option '--notional' must be a number, got '123456789012345678901234567890': is too large", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "123456789012345678901234567890")]
    [InlineData("option '--deadline' must be a positive duration", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--deadline", "99999999999999999999d")]
    [InlineData("option '--deadline' must be a positive duration", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--deadline", "9999999999d")]
    [InlineData("option '--deadline' must be a positive duration", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--deadline", "0,5h")]
    [InlineData("option '--book': file not found: /nonexistent/book.csv", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--book", "/nonexistent/book.csv", "--trades", "/nonexistent/t.csv", "--backtest")]
    [InlineData("option '--venue' must be sim, demo, testnet or live, got 'paper'", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--venue", "paper")]
    [InlineData("option '--dead-man' must be at least 10s", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--dead-man", "5s")]
    [InlineData("option '--path-warm' must be a duration from 0 to 1s like 200ms or 1s, got '2s'", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--path-warm", "2s")]
    [InlineData("option '--path-warm' must be a duration from 0 to 1s like 200ms or 1s, got '1 ms'", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--path-warm", "1 ms")]
    public async Task Malformed_options_are_refused_before_anything_starts(string expected, params string[] options)
    {
        // A trailing "--backtest" marker runs the case through `chaser backtest` instead of `chaser execute`.
        var command = options.Length > 0 && options[^1] == "--backtest" ? "backtest" : "execute";
        options = command == "backtest" ? options[..^1] : options;
        var outcome = await CliRunner.RunAsync(null, [command, .. options]);

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(expected, outcome.Error, StringComparison.Ordinal);
        Assert.Equal("", outcome.Output);
    }

    [Fact]
    public async Task A_database_whose_client_id_tag_is_damaged_is_named_and_nothing_starts()
    {
        var file = Path.Combine(Path.GetTempPath(), $"chaser-cli-test-{Guid.NewGuid():N}.db");
        await using (var db = new Chaser.Storage.ChaserDb("Data Source=" + file))
        {
            await Chaser.Storage.DatabaseMigrator.MigrateAsync(db, TestContext.Current.CancellationToken);
            await Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.ExecuteSqlRawAsync(db.Database, "INSERT INTO instance (id, client_id_tag) VALUES (1, 'AB-DEF')", TestContext.Current.CancellationToken);
        }

        var outcome = await CliRunner.RunAsync(null, "execute", "--db", file, "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100");

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("option '--db'", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("client_id_tag", outcome.Error, StringComparison.Ordinal);
        Assert.Single(outcome.Error.Trim().Split('\n'));
        Assert.Equal("", outcome.Output);
    }

    [Theory]
    [InlineData("live")]
    [InlineData("testnet")]
    [InlineData("demo")]
    public async Task Demo_testnet_and_live_refuse_to_start_without_keys(string venue)
    {
        var outcome = await CliRunner.RunAsync(
            new Dictionary<string, string> { ["CHASER_BINANCE_API_SECRET"] = "only-the-secret" },
            "execute", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100", "--venue", venue);

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("CHASER_BINANCE_API_KEY", outcome.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("only-the-secret", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_symbol_is_named_and_nothing_is_sent()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions(), TestContext.Current.CancellationToken);
        var outcome = await CliRunner.RunAsync(null, ["execute", .. Target(sim), "--symbol", "DOGEUSDX", "--side", "buy", "--notional", "100"]);

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("symbol: DOGEUSDX is not traded", outcome.Error, StringComparison.Ordinal);
        AssertNothingSent(sim);
    }

    [Fact]
    public async Task A_notional_below_the_minimum_is_refused_and_nothing_is_sent()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions(), TestContext.Current.CancellationToken);
        var outcome = await CliRunner.RunAsync(null, ["execute", .. Target(sim), "--symbol", "BTCUSDT", "--side", "sell", "--notional", "20"]);

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("size: 20 USDT is below BTCUSDT's MIN_NOTIONAL of 100 USDT", outcome.Error, StringComparison.Ordinal);
        AssertNothingSent(sim);
    }

    [Fact]
    public async Task A_quantity_below_the_step_is_refused_and_nothing_is_sent()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions(), TestContext.Current.CancellationToken);
        var outcome = await CliRunner.RunAsync(null, ["execute", .. Target(sim), "--symbol", "BTCUSDT", "--side", "buy", "--quantity", "0.0001"]);

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("size: 0.0001 base can't be posted on BTCUSDT", outcome.Error, StringComparison.Ordinal);
        AssertNothingSent(sim);
    }

    [Theory]
    [InlineData("--quantity", "0,5")]
    [InlineData("--notional", "1,000")]
    public async Task A_decimal_comma_is_refused_naming_the_option_and_nothing_is_sent(string option, string value)
    {
        // "0,5" used to be read as 5 (',' was a group separator): ten times the size the user meant.
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions(), TestContext.Current.CancellationToken);
        var outcome = await CliRunner.RunAsync(null, ["execute", .. Target(sim), "--symbol", "ETHUSDT", "--side", "buy", option, value]);

        Assert.Equal(2, outcome.ExitCode);
        var line = Assert.Single(outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"chaser execute: option '{option}' must be a number, got '{value}': uses ',': use '.' as the decimal point, no thousands separators", line.TrimEnd('\r'));
        AssertNothingSent(sim);
    }

    [Theory]
    [InlineData("backtest")]
    [InlineData("sim")]
    public async Task A_bad_cell_in_recorded_data_is_named_by_file_line_and_column(string command)
    {
        var book = Path.Combine(Path.GetTempPath(), $"chaser-bad-book-{Guid.NewGuid():N}.csv");
        var trades = Path.Combine(Path.GetTempPath(), $"chaser-trades-{Guid.NewGuid():N}.csv");
        await File.WriteAllLinesAsync(book, ["update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time", "1,28145.1O,3.868,28145.20,6.887,1680652700430,1680652700435"], TestContext.Current.CancellationToken);
        await File.WriteAllLinesAsync(trades, ["id,price,qty,quote_qty,time,is_buyer_maker", "1,28145.10,0.002,56.2902,1680652700452,true"], TestContext.Current.CancellationToken);
        try
        {
            string[] args = command == "backtest"
                ? ["backtest", "--symbol", "BTCUSDT", "--book", book, "--trades", trades, "--side", "buy", "--notional", "1000"]
                : ["sim", "--port", "0", "--source", "replay", "--symbols", "BTCUSDT", "--book", book];
            var outcome = await CliRunner.RunAsync(null, args);

            Assert.Equal(2, outcome.ExitCode);
            var line = Assert.Single(outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.EndsWith($"{book}: line 2, column 'best_bid_price': '28145.1O' is not a number: digits with at most one '.', e.g. 0.5", line.TrimEnd('\r'), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(book);
            File.Delete(trades);
        }
    }

    private static string[] Target(SimulatorServer sim) =>
        ["--rest-url", sim.RestBaseUrl.ToString(), "--ws-url", sim.WebSocketBaseUrl.ToString()];

    private static void AssertNothingSent(SimulatorServer sim)
    {
        foreach (var symbol in new[] { "BTCUSDT", "ETHUSDT" })
        {
            Assert.Empty(sim.Engine.GetAllOrders(symbol, null, 1000));
        }
    }
}
