namespace Chaser.Cli.Tests;

/// <summary><c>chaser sim</c>'s options (moved here from the simulator's tests with its parser): symbols, the one flag.</summary>
public class SimCommandTests
{
    private static Chaser.Simulator.Server.SimulatorOptions Parse(params string[] args) =>
        SimCommand.OptionsFrom(CommandLine.Parse(["sim", .. args]), _ => null);

    [Theory]
    [InlineData("BTCUSDT,NOPEUSDT", "NOPEUSDT")]
    [InlineData("dogeusdt,XYZ", "XYZ")]
    public void Sim_refuses_an_unknown_symbol_naming_it(string symbols, string named)
    {
        var refused = Assert.Throws<UsageException>(() => Parse("--symbols", symbols));
        Assert.Contains("--symbols", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"'{named}'", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public void A_symbol_listed_twice_is_refused_naming_it()
    {
        var refused = Assert.Throws<UsageException>(() => Parse("--symbols", "DOGEUSDT,btcusdt,dogeusdt"));
        Assert.Equal("option '--symbols': DOGEUSDT is listed twice", refused.Message);
    }

    [Fact]
    public void Sim_accepts_recorded_symbols_and_refuses_an_empty_list()
    {
        Assert.Equal(["DOGEUSDT", "AVAXUSDT", "BTCUSDT"], Parse("--symbols", "dogeusdt,AVAXUSDT,BTCUSDT").Symbols!);

        var empty = Assert.Throws<UsageException>(() => Parse("--symbols", ","));
        Assert.Contains("at least one symbol", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ed25519_public_key_file_registers_the_key_under_its_api_key()
    {
        var publicKey = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var path = Path.Combine(Path.GetTempPath(), $"chaser-sim-pub-{Guid.NewGuid():N}.pem");
        File.WriteAllText(path, new string(System.Security.Cryptography.PemEncoding.Write("PUBLIC KEY", [.. Convert.FromHexString("302a300506032b6570032100"), .. publicKey])));
        try
        {
            var options = Parse("--ed25519-api-key", "my-ed-key", "--ed25519-public-key", path);
            Assert.Equal(publicKey, Assert.Single(options.Ed25519PublicKeys, k => k.Key == "my-ed-key").Value);
            Assert.Empty(Parse().Ed25519PublicKeys);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Legacy_streams_is_a_flag()
    {
        Assert.False(Parse().LegacyStreams);
        Assert.True(Parse("--legacy-streams", "--port", "0").LegacyStreams);
        var valued = Assert.Throws<UsageException>(() => Parse("--legacy-streams=yes"));
        Assert.Contains("'--legacy-streams' takes no value", valued.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_and_the_environment_are_read_as_before()
    {
        var options = Parse();
        Assert.Equal(("127.0.0.1", 8090, 1, 1.0), (options.Host, options.Port, options.Seed, options.Speed));

        var keyed = SimCommand.OptionsFrom(CommandLine.Parse(["sim", "--seed", "-5", "--latency-ms", "20"]), name => name == SimCommand.ApiKeyVariable ? "from-env" : null);
        Assert.Equal(("from-env", -5, TimeSpan.FromMilliseconds(20)), (keyed.ApiKey, keyed.Seed, keyed.OrderEntryLatency));
        Assert.Equal("from-option", SimCommand.OptionsFrom(CommandLine.Parse(["sim", "--api-key", "from-option"]), _ => "from-env").ApiKey);
    }

    [Theory]
    [InlineData("option '--book' needs '--source replay'", "--book", "x.csv")]
    [InlineData("'--source replay' needs '--book FILE' or '--depth-snapshot FILE --depth-updates FILE'", "--source", "replay")]
    [InlineData("option '--host' must be an IP address or localhost, got 'example.com'", "--host", "example.com")]
    [InlineData("option '--speed' must be a positive number, got '0'", "--speed", "0")]
    public void Bad_sim_options_are_named(string expected, params string[] args) =>
        Assert.Equal(expected, Assert.Throws<UsageException>(() => Parse(args)).Message);
}
