using Chaser.Simulator.Engine;
using Chaser.Tests.Shared;

namespace Chaser.Cli.Tests;

/// <summary><c>--queue-model</c> of <c>backtest</c> and <c>sim</c>: it reaches the matching engine; a bad value is one line naming it.</summary>
public class QueueModelOptionTests
{
    private const string Window = "BTCUSDT-UM-20240718T2357Z";

    private static string[] Backtest => [
        "backtest", "--symbol", "BTCUSDT", "--side", "buy", "--notional", "5000",
        "--book", RecordedData.File(Window, "bookTicker"), "--trades", RecordedData.File(Window, "trades")];

    [Fact]
    public void Backtest_takes_the_queue_model_and_keeps_the_proportional_one_by_default()
    {
        Assert.Equal(QueueModel.Proportional, BacktestCommand.OptionsFrom(CommandLine.Parse(Backtest)).QueueModel);
        Assert.Equal(QueueModel.RiskAverse, BacktestCommand.OptionsFrom(CommandLine.Parse([.. Backtest, "--queue-model", "risk-averse"])).QueueModel);
        Assert.Equal(QueueModel.Proportional, BacktestCommand.OptionsFrom(CommandLine.Parse([.. Backtest, "--queue-model", "proportional"])).QueueModel);
    }

    [Fact]
    public void Sim_takes_the_queue_model_and_keeps_the_proportional_one_by_default()
    {
        Assert.Equal(QueueModel.Proportional, SimCommand.OptionsFrom(CommandLine.Parse(["sim"]), _ => null).Engine.QueueModel);
        Assert.Equal(QueueModel.RiskAverse, SimCommand.OptionsFrom(CommandLine.Parse(["sim", "--queue-model", "risk-averse"]), _ => null).Engine.QueueModel);
    }

    [Theory]
    [InlineData("riskaverse")]
    [InlineData("RiskAverse")]
    [InlineData("risk_averse")]
    [InlineData("1")]
    public async Task A_queue_model_that_is_not_one_of_the_two_is_one_line_naming_the_option(string value)
    {
        foreach (var args in new[] { Backtest, ["sim", "--port", "0"] })
        {
            var outcome = await CliRunner.RunAsync(null, [.. args, "--queue-model", value]);

            Assert.True(outcome.ExitCode == 2, $"{args[0]}: exit {outcome.ExitCode}: {outcome.Error}");
            var line = Assert.Single(outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal($"chaser {args[0]}: option '--queue-model' must be proportional or risk-averse, got '{value}'", line.TrimEnd('\r'));
            Assert.Equal("", outcome.Output);
        }
    }

    [Fact]
    public async Task The_help_lists_both_models_by_their_command_line_names()
    {
        foreach (var command in new[] { "backtest", "sim" })
        {
            var outcome = await CliRunner.RunAsync(null, command, "--help");

            Assert.Equal(0, outcome.ExitCode);
            Assert.Contains(outcome.Output.Split('\n'), l => l.TrimStart().StartsWith("--queue-model proportional|risk-averse ", StringComparison.Ordinal));
        }
    }
}
