namespace Chaser.Cli.Tests;

/// <summary>Every `--help` reads on an 80-column terminal, losing no word.</summary>
public class HelpTextTests
{
    public static TheoryData<string[]> Commands => new(
        ["--help"], ["demo", "--help"], ["execute", "--help"], ["backtest", "--help"], ["report", "--help"],
        ["serve", "--help"], ["db", "--help"], ["sim", "--help"]);

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_fits_80_columns(string[] args)
    {
        var outcome = await CliRunner.RunAsync(null, args);
        Assert.Equal(0, outcome.ExitCode);
        var lines = outcome.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
    }

    [Fact]
    public void Wrapping_keeps_every_word_in_order_and_indents_under_the_description()
    {
        const string text = """
            usage: chaser sim [--host 127.0.0.1] [--port 8090] [--symbols BTCUSDT,ETHUSDT] [--source synthetic|replay] [--legacy-streams]

              --api-key         API key clients must send (env CHASER_SIM_API_KEY; default: Binance's documented example key)
              --csv             also write the rows as CSV to FILE
                                --parquet ... and as Parquet to FILE
            """;
        var wrapped = HelpText.Wrap(text);
        var lines = wrapped.Split('\n');
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        Assert.Equal(string.Join(' ', text.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)), string.Join(' ', wrapped.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)));

        // A usage line breaks between options, its continuation under the first one; a description under itself.
        Assert.StartsWith("                  [--source", lines[1], StringComparison.Ordinal);
        var description = lines.Single(l => l.Contains("--api-key", StringComparison.Ordinal));
        var column = description.IndexOf("API key", StringComparison.Ordinal);
        var continuation = lines[Array.IndexOf(lines, description) + 1];
        Assert.Equal(column, continuation.Length - continuation.TrimStart().Length);

        // An option listed under another's description stays its own line.
        Assert.Contains(lines, l => l.TrimStart().StartsWith("--parquet", StringComparison.Ordinal));
    }
}
