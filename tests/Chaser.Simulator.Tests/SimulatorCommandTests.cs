using Chaser.Simulator.Server;

namespace Chaser.Simulator.Tests;

/// <summary>What <c>chaser sim</c> prints: base URLs a library can append paths to, and the routed stream forms.</summary>
public sealed class SimulatorCommandTests
{
    /// <summary>Runs the command until its banner is out, stops it, and returns what it printed.</summary>
    private static async Task<string[]> BannerAsync(SimulatorOptions options)
    {
        using var output = new StringWriter();
        using var synchronized = TextWriter.Synchronized(output);
        using var error = new StringWriter();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        string Printed()
        {
            // the synchronized writer locks itself around each write
            lock (synchronized)
            {
                return output.ToString();
            }
        }

        var run = SimulatorCommand.RunAsync(options with { Port = 0 }, synchronized, error, stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!Printed().Contains("Market:", StringComparison.Ordinal) && !run.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "no banner in time: " + output + error);
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await run);
        return output.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
    }

    [Fact]
    public async Task The_base_urls_print_without_a_trailing_slash_and_the_routes_in_80_columns()
    {
        var lines = await BannerAsync(new SimulatorOptions());

        Assert.Matches(@"^  REST:          http://127\.0\.0\.1:\d+$", lines.Single(l => l.StartsWith("  REST:", StringComparison.Ordinal)));
        var webSocket = Array.FindIndex(lines, l => l.StartsWith("  WebSocket:  ", StringComparison.Ordinal));
        Assert.Matches(@"^  WebSocket:     ws://127\.0\.0\.1:\d+  \(", lines[webSocket]);
        var routes = lines[webSocket..Array.FindIndex(lines, l => l.StartsWith("  WebSocket API:", StringComparison.Ordinal))];
        Assert.Contains(routes, l => l.Contains("/public/ws/<stream>", StringComparison.Ordinal) && l.Contains("bookTicker", StringComparison.Ordinal));
        Assert.Contains(routes, l => l.Contains("/market/stream?streams=", StringComparison.Ordinal) && l.Contains("aggTrade", StringComparison.Ordinal));
        Assert.Contains(routes, l => l.Contains("/private/ws/<listenKey>", StringComparison.Ordinal));
        Assert.DoesNotContain(routes, l => l.Contains("legacy", StringComparison.Ordinal));
        Assert.All(routes, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        Assert.Matches(@"^  WebSocket API: ws://127\.0\.0\.1:\d+/ws-fapi/v1$", lines.Single(l => l.StartsWith("  WebSocket API:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Legacy_streams_are_shown_in_the_banner()
    {
        // How `--legacy-streams` is parsed is the command line's (Chaser.Cli.Tests' SimCommandTests).
        var lines = await BannerAsync(new SimulatorOptions { LegacyStreams = true });
        var legacy = Assert.Single(lines, l => l.Contains("--legacy-streams", StringComparison.Ordinal));
        Assert.Contains("/ws/<stream>", legacy, StringComparison.Ordinal);
        Assert.True(legacy.Length <= 80);
    }
}
