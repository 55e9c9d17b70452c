using System.Text.Json;
using Chaser.Tests.Shared;

namespace Chaser.Cli.Tests;

/// <summary><c>chaser backtest --strategy</c>: the algorithm, not a tag; what it can't mean is refused on one line.</summary>
public class BacktestStrategyOptionTests
{
    private const string Window = "BTCUSDT-UM-20240718T2357Z";

    private static readonly string[] Order = ["--symbol", "BTCUSDT", "--side", "sell", "--notional", "50000"];

    private static string[] Replay => [
        "--book", RecordedData.File(Window, "bookTicker"), "--trades", RecordedData.File(Window, "trades"),
        "--depth-snapshot", RecordedData.File(Window, "depthSnapshot"), "--depth-updates", RecordedData.File(Window, "depthUpdates"),
        "--start", "1721347082507"];

    [Theory]
    [InlineData("option '--strategy' must be chaser, naive, queue, queue-take or taker, got 'twap'", "--strategy", "twap")]
    [InlineData("option '--strategy' must be chaser, naive, queue, queue-take or taker, got 'Queue'", "--strategy", "Queue")]
    [InlineData("option '--strategy' must be chaser, naive, queue, queue-take or taker, got 'queuetake'", "--strategy", "queuetake")]
    [InlineData("option '--strategy' needs a value", "--strategy")]
    [InlineData("option '--strategy' is given twice", "--strategy", "queue", "--strategy", "taker")]
    [InlineData("option '--strategy' queue-take needs '--deadline': it takes what is left when the deadline passes", "--strategy", "queue-take")]
    [InlineData("option '--take-remainder' does not go with '--strategy taker': it takes the whole order at arrival", "--strategy", "taker", "--deadline", "3m", "--take-remainder")]
    [InlineData("option '--take-remainder' does not go with '--strategy queue', which expires at the deadline: queue-take", "--strategy", "queue", "--deadline", "3m", "--take-remainder")]
    [InlineData("option '--min-reprice-interval' does not go with '--strategy queue': its order never moves", "--strategy", "queue", "--min-reprice-interval", "1s")]
    [InlineData("option '--min-reprice-interval' does not go with '--strategy queue-take': its order never moves", "--strategy", "queue-take", "--deadline", "3m", "--min-reprice-interval", "0")]
    [InlineData("option '--min-reprice-interval' does not go with '--strategy taker': it posts nothing to re-price", "--strategy", "taker", "--min-reprice-interval", "200ms")]
    public async Task A_strategy_that_cannot_run_is_one_line_naming_the_option_and_why(string expected, params string[] options)
    {
        var outcome = await CliRunner.RunAsync(null, ["backtest", .. Order, .. Replay, .. options]);

        Assert.True(outcome.ExitCode == 2, $"exit {outcome.ExitCode}: {outcome.Error}");
        var line = Assert.Single(outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"chaser backtest: {expected}", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", outcome.Error, StringComparison.Ordinal);
        Assert.Equal("", outcome.Output);
    }

    [Fact]
    public async Task The_taker_takes_at_arrival_and_the_result_is_tagged_with_its_name()
    {
        var taker = await BacktestJsonAsync("--strategy", "taker");

        Assert.Equal("taker", taker.GetProperty("strategy").GetString());
        Assert.Equal("filled", taker.GetProperty("status").GetString());
        Assert.All(taker.GetProperty("fills").EnumerateArray(), f => Assert.False(f.GetProperty("maker").GetBoolean()));
        Assert.Equal(0, taker.GetProperty("modifies").GetInt32());
    }

    [Fact]
    public async Task Queue_take_takes_the_rest_at_the_deadline_and_queue_expires()
    {
        var queue = await BacktestJsonAsync("--strategy", "queue", "--deadline", "5s");
        var queueTake = await BacktestJsonAsync("--strategy", "queue-take", "--deadline", "5s");

        Assert.Equal(("queue", "expired"), (queue.GetProperty("strategy").GetString(), queue.GetProperty("status").GetString()));
        Assert.Equal(("queue-take", "filled"), (queueTake.GetProperty("strategy").GetString(), queueTake.GetProperty("status").GetString()));
        Assert.Equal("take", queueTake.GetProperty("deadline_action").GetString());
        Assert.Contains(queueTake.GetProperty("fills").EnumerateArray(), f => !f.GetProperty("maker").GetBoolean());
        Assert.Equal((0, 0), (queue.GetProperty("modifies").GetInt32(), queueTake.GetProperty("modifies").GetInt32()));
    }

    [Fact]
    public async Task Without_a_strategy_the_backtest_runs_the_chaser_and_says_so()
    {
        var outcome = await CliRunner.RunAsync(null, ["backtest", .. Order, .. Replay]);

        Assert.True(outcome.ExitCode == 0, $"exit {outcome.ExitCode}: {outcome.Error}");
        Assert.Contains("strategy chaser:", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_keeps_strategy_as_a_free_tag()
    {
        var spec = ExecuteCommand.SpecFrom(CommandLine.Parse(["execute", .. Order, "--strategy", "queue-take"]), defaultId: 1);

        Assert.Equal("queue-take", spec.Strategy);
        Assert.Equal(Core.Domain.DeadlineAction.CancelAndExpire, spec.OnDeadline);
    }

    private static async Task<JsonElement> BacktestJsonAsync(params string[] options)
    {
        var outcome = await CliRunner.RunAsync(null, ["backtest", .. Order, .. Replay, "--json", .. options]);
        Assert.True(outcome.ExitCode is 0 or 3, $"exit {outcome.ExitCode}: {outcome.Error}");
        using var json = JsonDocument.Parse(outcome.Output);
        return json.RootElement[0].Clone();
    }
}
