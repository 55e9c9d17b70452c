using System.Text.Json;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Tests.Shared;

namespace Chaser.Cli.Tests;

/// <summary>The parent order's options of <c>execute</c> and <c>backtest</c>: each reaches the spec, each bad value is one line naming it.</summary>
public class OrderOptionTests
{
    private const string Window = "BTCUSDT-UM-20240718T2357Z";

    private static readonly string[] Order = ["--symbol", "BTCUSDT", "--side", "buy", "--notional", "150000"];

    private static string[] Replay => ["--book", RecordedData.File(Window, "bookTicker"), "--trades", RecordedData.File(Window, "trades")];

    [Fact]
    public void Execute_options_reach_the_parent_order()
    {
        var spec = ExecuteCommand.SpecFrom(CommandLine.Parse([
            "execute", "--symbol", "ethusdt", "--side", "-1", "--quantity", "0.25", "--deadline", "5m", "--take-remainder",
            "--strategy", "twap eu-1", "--price-expected", "3500.25", "--min-reprice-interval", "250ms", "--reduce-only", "--id", "7"]), defaultId: 99);

        Assert.Equal((7L, "ETHUSDT", Side.Sell, SizeType.Quantity, 0.25m), (spec.Id, spec.Symbol, spec.Side, spec.SizeType, spec.Size));
        Assert.Equal(TimeSpan.FromMinutes(5), spec.TimeLimit);
        Assert.Equal(DeadlineAction.TakeRemainder, spec.OnDeadline);
        Assert.Equal("twap eu-1", spec.Strategy);
        Assert.Equal(3500.25m, spec.PriceExpected);
        Assert.Equal(TimeSpan.FromMilliseconds(250), spec.MinRepriceInterval);
        Assert.True(spec.ReduceOnly);
    }

    [Fact]
    public void Without_them_the_order_keeps_its_defaults()
    {
        var spec = ExecuteCommand.SpecFrom(CommandLine.Parse(["execute", .. Order]), defaultId: 99);

        Assert.Equal(99, spec.Id);
        Assert.Equal("", spec.Strategy);
        Assert.Equal(0m, spec.PriceExpected);
        Assert.Equal(DeadlineAction.CancelAndExpire, spec.OnDeadline);
        Assert.Null(spec.MinRepriceInterval);
        Assert.Null(spec.TimeLimit);
        Assert.False(spec.ReduceOnly);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("0s", 0)]
    [InlineData("200ms", 200)]
    [InlineData("10m", 600_000)]
    public void A_minimum_reprice_interval_may_be_zero_up_to_ten_minutes(string text, long milliseconds)
    {
        var spec = ExecuteCommand.SpecFrom(CommandLine.Parse(["execute", .. Order, "--min-reprice-interval", text]), defaultId: 1);

        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), spec.MinRepriceInterval);
    }

    [Fact]
    public void Backtest_options_reach_the_order_and_the_backtests_chaser()
    {
        var options = BacktestCommand.OptionsFrom(CommandLine.Parse([
            "backtest", .. Order, .. Replay, "--deadline", "30s", "--take-remainder", "--strategy", "naive", "--price-expected", "64000", "--min-reprice-interval", "1s"]));

        Assert.Equal(DeadlineAction.TakeRemainder, options.Order.OnDeadline);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Deadline);
        // For a backtest --strategy is the algorithm, and the result's tag is its name.
        Assert.Equal(Backtesting.BacktestStrategy.Naive, options.Strategy);
        Assert.Equal("naive", options.Order.Strategy);
        Assert.Equal(64000m, options.Order.PriceExpected);
        Assert.Equal(TimeSpan.FromSeconds(1), options.Order.MinRepriceInterval);
        // The backtest builds its chaser from its own options, not from an engine's.
        Assert.Equal(TimeSpan.FromSeconds(1), options.Chaser.MinRepriceInterval);
        Assert.Equal(new ChaserOptions().MinRepriceInterval, BacktestCommand.OptionsFrom(CommandLine.Parse(["backtest", .. Order, .. Replay])).Chaser.MinRepriceInterval);
    }

    [Fact]
    public async Task A_backtest_that_takes_the_remainder_at_its_deadline_fills_with_a_taker_order()
    {
        // At 20 s of market time the passive order has filled nothing: without the flag it expires.
        var expired = await BacktestJsonAsync("--deadline", "20s");
        var taken = await BacktestJsonAsync("--deadline", "20s", "--take-remainder");

        Assert.Equal("expired", expired.GetProperty("status").GetString());
        Assert.Equal("filled", taken.GetProperty("status").GetString());
        Assert.Contains(taken.GetProperty("fills").EnumerateArray(), f => !f.GetProperty("maker").GetBoolean());
    }

    [Fact]
    public async Task A_backtest_re_prices_no_sooner_than_its_minimum_interval()
    {
        var chased = await BacktestJsonAsync("--min-reprice-interval", "0");
        var patient = await BacktestJsonAsync("--min-reprice-interval", "10m");

        Assert.True(chased.GetProperty("modifies").GetInt32() > 0, "the replay never re-priced the order");
        Assert.Equal(0, patient.GetProperty("modifies").GetInt32());
    }

    [Theory]
    [InlineData("option '--strategy' must be at most 64 characters, got 65", "--strategy", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("option '--strategy' must be text without control characters or broken Unicode", "--strategy", "a\u001b[2Jb")]
    [InlineData("option '--strategy' is given twice", "--strategy", "a", "--strategy", "b")]
    public async Task A_bad_strategy_tag_is_one_line_naming_it_on_execute(string expected, params string[] options)
    {
        var outcome = await CliRunner.RunAsync(null, ["execute", .. Order, .. options]);

        Assert.True(outcome.ExitCode == 2, $"exit {outcome.ExitCode}: {outcome.Error}");
        Assert.StartsWith($"chaser execute: {expected}", Assert.Single(outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.Equal("", outcome.Output);
    }

    [Theory]
    [InlineData("option '--price-expected' must be zero (none) or more, got -1", "--price-expected", "-1")]
    [InlineData("option '--price-expected' must be a number, got '0,5': uses ','", "--price-expected", "0,5")]
    [InlineData("option '--price-expected' must be a number, got '1e3': has an exponent", "--price-expected", "1e3")]
    [InlineData("option '--price-expected' needs a value", "--price-expected")]
    [InlineData("option '--take-remainder' needs '--deadline'", "--take-remainder")]
    [InlineData("option '--take-remainder' takes no value, got 'true'", "--take-remainder", "true")]
    [InlineData("option '--min-reprice-interval' must be a duration from 0 to 10m like 200ms or 1s, got '11m'", "--min-reprice-interval", "11m")]
    [InlineData("option '--min-reprice-interval' must be a duration from 0 to 10m like 200ms or 1s, got '-1s'", "--min-reprice-interval", "-1s")]
    [InlineData("option '--min-reprice-interval' must be a duration from 0 to 10m like 200ms or 1s, got '0,2s'", "--min-reprice-interval", "0,2s")]
    [InlineData("option '--min-reprice-interval' must be a duration from 0 to 10m like 200ms or 1s, got '200'", "--min-reprice-interval", "200")]
    public async Task A_bad_order_option_is_one_line_naming_it_on_execute_and_backtest(string expected, params string[] options)
    {
        foreach (var (command, rest) in new[] { ("execute", Array.Empty<string>()), ("backtest", Replay) })
        {
            var outcome = await CliRunner.RunAsync(null, [command, .. Order, .. rest, .. options]);

            Assert.True(outcome.ExitCode == 2, $"{command}: exit {outcome.ExitCode}: {outcome.Error}");
            var line = Assert.Single(outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"chaser {command}: {expected}", line, StringComparison.Ordinal);
            Assert.Equal("", outcome.Output);
        }
    }

    [Fact]
    public void A_strategy_of_broken_unicode_is_refused()
    {
        // A lone surrogate can't be stored as UTF-8 text (nor travel through a test's data row).
        var refused = Assert.Throws<UsageException>(() => ExecuteCommand.SpecFrom(CommandLine.Parse(["execute", .. Order, "--strategy", "a\ud800b"]), 1));
        Assert.Equal("option '--strategy' must be text without control characters or broken Unicode", refused.Message);
        Assert.Equal("a\ud83d\ude80b", ExecuteCommand.SpecFrom(CommandLine.Parse(["execute", .. Order, "--strategy", "a\ud83d\ude80b"]), 1).Strategy);
    }

    private static async Task<JsonElement> BacktestJsonAsync(params string[] options)
    {
        var outcome = await CliRunner.RunAsync(null, ["backtest", .. Order, .. Replay, "--json", .. options]);
        Assert.True(outcome.ExitCode is 0 or 3, $"exit {outcome.ExitCode}: {outcome.Error}");
        using var json = JsonDocument.Parse(outcome.Output);
        return json.RootElement[0].Clone();
    }
}
