using Chaser.Binance.Connector;
using Chaser.Tests.Shared;

namespace Chaser.Cli.Tests;

/// <summary>The venues the command line reaches: Binance's published addresses from the adapter's one table, and demo trading.</summary>
public class VenueTests
{
    [Theory]
    [InlineData("demo", "https://demo-fapi.binance.com/", "wss://fstream.binancefuture.com/", "wss://testnet.binancefuture.com/ws-fapi/v1")]
    [InlineData("testnet", "https://testnet.binancefuture.com/", "wss://fstream.binancefuture.com/", "wss://testnet.binancefuture.com/ws-fapi/v1")]
    [InlineData("live", "https://fapi.binance.com/", "wss://fstream.binance.com/", "wss://ws-fapi.binance.com/ws-fapi/v1")]
    public void A_binance_venue_resolves_to_its_published_addresses(string venue, string rest, string streams, string orderEntry)
    {
        var settings = Resolve("--venue", venue);

        var (restBase, streamBase) = settings.Addresses();
        Assert.Equal((rest, streams), (restBase.ToString(), streamBase.ToString()));
        Assert.Equal(orderEntry, settings.OrderEntryUrl(streamBase)!.ToString());
        Assert.Same(BinanceVenue.Find(venue), settings.Published);
    }

    [Fact]
    public void Demo_with_its_own_urls_uses_them_and_the_websocket_api_beside_its_streams()
    {
        var settings = Resolve("--venue", "demo", "--rest-url", "http://127.0.0.1:8090", "--ws-url", "ws://127.0.0.1:8090");

        var (rest, streams) = settings.Addresses();
        Assert.Equal(("http://127.0.0.1:8090/", "ws://127.0.0.1:8090/"), (rest.ToString(), streams.ToString()));
        Assert.Equal("ws://127.0.0.1:8090/ws-fapi/v1", settings.OrderEntryUrl(streams)!.ToString());
        Assert.Null(Resolve("--venue", "demo", "--order-entry", "rest").OrderEntryUrl(streams));
    }

    [Theory]
    [InlineData("demo", "of Binance demo trading (made on demo.binance.com; testnet keys don't work there)")]
    [InlineData("testnet", "of the Binance futures testnet (made on testnet.binancefuture.com; demo trading keys don't work there)")]
    public async Task Demo_and_testnet_without_keys_say_whose_keys_are_needed_on_one_line(string venue, string whose)
    {
        var outcome = await CliRunner.RunAsync(
            new Dictionary<string, string> { ["CHASER_BINANCE_API_SECRET"] = "the-secret-only" },
            "execute", "--venue", venue, "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100");

        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal(
            $"chaser execute: option '--venue {venue}' needs the API credentials {whose}: set CHASER_BINANCE_API_KEY (environment variables, or `dotnet user-secrets set` in src/Chaser.Cli)",
            Assert.Single(outcome.Error.Trim().Split('\n')));
        Assert.DoesNotContain("the-secret-only", outcome.Error, StringComparison.Ordinal);
        Assert.Equal("", outcome.Output);
    }

    [Theory]
    [InlineData("option '--ws-url' needs '--rest-url' too", "--venue", "demo", "--ws-url", "ws://127.0.0.1:8090")]
    [InlineData("option '--rest-url' needs '--ws-url' too", "--venue", "demo", "--rest-url", "http://127.0.0.1:8090")]
    [InlineData("option '--venue' must be sim, demo, testnet or live, got 'Demo'", "--venue", "Demo")]
    [InlineData("option '--venue' must be sim, demo, testnet or live, got 'demo-trading'", "--venue", "demo-trading")]
    public async Task Bad_demo_venue_options_are_one_usage_line(string expected, params string[] options)
    {
        var outcome = await CliRunner.RunAsync(null, ["execute", .. options, "--symbol", "BTCUSDT", "--side", "buy", "--notional", "100"]);

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(expected, Assert.Single(outcome.Error.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.Equal("", outcome.Output);
    }

    [Theory]
    [InlineData("execute")]
    [InlineData("serve")]
    public async Task Help_offers_the_demo_venue(string command)
    {
        var outcome = await CliRunner.RunAsync(null, command, "--help");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("--venue sim|demo|testnet|live", outcome.Output + outcome.Error, StringComparison.Ordinal);
    }

    /// <summary>Every published address is written once in code, in the adapter's table: a second copy would drift from it.</summary>
    [Fact]
    public void No_published_address_is_written_outside_the_venue_table()
    {
        var source = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(RecordedData.Directory)))!, "src");
        var table = Path.Combine(source, "Chaser.Binance", "Connector", "BinanceVenue.cs");
        var hosts = BinanceVenue.All
            .SelectMany(v => new[] { v.RestBaseUrl, v.StreamBaseUrl, v.OrderEntryWebSocketUrl })
            .Select(u => u.Host)
            .Distinct()
            .ToArray();
        Assert.Contains("demo-fapi.binance.com", hosts);

        var copies = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(f => f != table && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, Text: line)))
            .Where(l => hosts.Any(h => l.Text.Contains("\"https://" + h, StringComparison.Ordinal) || l.Text.Contains("\"wss://" + h, StringComparison.Ordinal)))
            .Select(l => $"{Path.GetRelativePath(source, l.File)}:{l.Line}")
            .ToArray();
        Assert.Empty(copies);
    }

    private static VenueSettings Resolve(params string[] args)
    {
        var options = new VenueOptions();
        var command = new System.CommandLine.Command("venue");
        foreach (var option in options.All)
        {
            command.Add(option);
        }

        return VenueSettings.From(options, CommandLine.Parse(command, args));
    }
}
