using System.Text;
using System.Text.RegularExpressions;

namespace Chaser.Cli.Tests;

/// <summary>What `chaser demo` and `chaser report` print, redirected with COLUMNS and on a live terminal.</summary>
public partial class TerminalOutputTests
{
    private static readonly Dictionary<string, string> Columns80 = new() { ["COLUMNS"] = "80" };

    [GeneratedRegex(@"^[|│] +(\d+) [|│]")]
    private static partial Regex OrderRow();

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]|\r")]
    private static partial Regex Ansi();

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z")]
    private static partial Regex UtcMilliseconds();

    private static string[] Lines(string output) => output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

    private static void AssertNoLineWider(string output, int width)
    {
        // Bytes as well as characters: `awk length` (mawk) and `cut -b` count bytes in a redirected file.
        Assert.All(Lines(output), l => Assert.True(Encoding.UTF8.GetByteCount(l) <= width, $"{Encoding.UTF8.GetByteCount(l)} bytes: {l}"));
    }

    /// <summary>How many table rows each order id has in the output (once per table it is in).</summary>
    private static Dictionary<long, int> RowsPerOrder(string output) =>
        Lines(output).Select(l => OrderRow().Match(l)).Where(m => m.Success).GroupBy(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public async Task Demo_redirected_with_COLUMNS_80_prints_no_line_wider_and_one_line_per_order()
    {
        var demo = await CliRunner.RunAsync(Columns80, "demo");

        Assert.True(demo.ExitCode == 0, $"exit {demo.ExitCode}: {demo.Error}\n{demo.Output}");
        AssertNoLineWider(demo.Output, 80);
        Assert.Equal(new Dictionary<long, int> { [1] = 1, [2] = 1, [3] = 1 }, RowsPerOrder(demo.Output));

        // The progress lines end on each order's final state, not on the last progress seen while it worked.
        foreach (var id in new[] { 1, 2, 3 })
        {
            var last = Lines(demo.Output).Last(l => l.StartsWith($"#{id} ", StringComparison.Ordinal));
            Assert.Contains("%) filled", last, StringComparison.Ordinal);
        }

        // And so does `chaser report` over what the demo recorded: each of its tables fits, one line per order.
        var report = await CliRunner.RunAsync(Columns80, "report", "--db", demo.Database);
        Assert.True(report.ExitCode == 0, $"exit {report.ExitCode}: {report.Error}\n{report.Output}");
        AssertNoLineWider(report.Output, 80);
        Assert.Equal(new Dictionary<long, int> { [1] = 2, [2] = 2, [3] = 2 }, RowsPerOrder(report.Output));
    }

    [Fact]
    public async Task Report_redirected_without_COLUMNS_shows_every_column_with_times_in_UTC_milliseconds()
    {
        var demo = await CliRunner.RunAsync(null, "demo");
        Assert.True(demo.ExitCode == 0, $"exit {demo.ExitCode}: {demo.Error}");

        var report = await CliRunner.RunAsync(null, "report", "--db", demo.Database);
        Assert.True(report.ExitCode == 0, $"exit {report.ExitCode}: {report.Error}");
        Assert.DoesNotContain("not shown", report.Output, StringComparison.Ordinal);
        Assert.Contains("1st fill", report.Output, StringComparison.Ordinal);
        var row = Lines(report.Output).First(l => OrderRow().Match(l) is { Success: true } m && m.Groups[1].Value == "1");
        Assert.Matches(UtcMilliseconds(), row);
        Assert.Contains(" buy ", row, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_live_display_ends_on_the_final_state_of_every_order()
    {
        var database = Path.Combine(Path.GetTempPath(), $"chaser-cli-test-{Guid.NewGuid():N}.db");
        var output = new StringWriter();
        var context = new CommandContext(
            TextWriter.Synchronized(output),
            TextWriter.Synchronized(new StringWriter()),
            Interactive: true,
            name => name == "CHASER_DB" ? "Data Source=" + database : null,
            TimeProvider.System,
            TestContext.Current.CancellationToken);

        var code = await CommandLine.RunAsync(["demo"], context);

        Assert.Equal(0, code);
        // The frames as the terminal shows them: the escape sequences (colour, cursor up) taken out.
        var lines = Lines(Ansi().Replace(output.ToString(), "\n"));
        // The last frame of the live display: the last table whose heading has the progress column "%".
        var heading = Array.FindLastIndex(lines, l => l.StartsWith('│') && l.Contains(" % │", StringComparison.Ordinal));
        Assert.True(heading > 0, string.Join('\n', lines));
        var rows = lines.Skip(heading + 2).TakeWhile(l => l.StartsWith('│')).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.All(rows, row => Assert.Contains(" filled │", row, StringComparison.Ordinal));
        Assert.All(rows, row => Assert.DoesNotContain("working", row, StringComparison.Ordinal));
        Assert.Contains("finished", lines[..heading].Last(l => l.Trim().Length > 0 && !l.StartsWith('╭')), StringComparison.Ordinal);
    }
}
