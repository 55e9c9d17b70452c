using Chaser.Simulator.Server;
using Chaser.Tests.Shared;

namespace Chaser.Simulator.Tests;

/// <summary>
/// Binance's own USDⓈ-M connector from npm (@binance/derivatives-trading-usds-futures, pinned in
/// tools/binance-connector-check), unmodified except its base URLs, against the simulator: REST exchange info, depth,
/// a post-only place / query / modify / cancel, a crossing post-only rejected, account and user trades; WebSocket API
/// place / cancel; bookTicker, depth and aggTrade on the routed stream URLs the connector builds itself; and the user
/// stream (listen key, then an ORDER_TRADE_UPDATE after an order). Its npm dependencies are installed on first use.
/// </summary>
public class BinanceConnectorClientTests
{
    [Fact]
    public async Task Binances_official_connector_works_against_the_simulator()
    {
        var ct = TestContext.Current.CancellationToken;
        var directory = NodeTool.Directory("binance-connector-check");
        await NodeTool.InstallAsync(directory, "@binance/derivatives-trading-usds-futures", ct);

        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), ct);
        var run = await NodeTool.RunAsync("node", ["check.mjs", simulator.RestBaseUrl.ToString(), simulator.ApiKey, simulator.ApiSecret], directory, TimeSpan.FromMinutes(2), ct);

        Assert.True(run.ExitCode == 0, $"official connector check failed (exit {run.ExitCode}):\n{run.Output}");
        Assert.Contains("all checks passed", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Binances_official_connector_logs_on_with_an_ed25519_key_and_orders_on_the_logged_on_connection()
    {
        var ct = TestContext.Current.CancellationToken;
        var directory = NodeTool.Directory("binance-connector-check");
        await NodeTool.InstallAsync(directory, "@binance/derivatives-trading-usds-futures", ct);

        var seed = Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
        var publicKey = new byte[32];
        Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.GeneratePublicKey(seed, 0, publicKey, 0);
        const string apiKey = "official-connector-ed25519-key";
        var pemPath = Path.Combine(Path.GetTempPath(), $"chaser-ed25519-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(pemPath, new string(System.Security.Cryptography.PemEncoding.Write("PRIVATE KEY", [.. Convert.FromHexString("302e020100300506032b657004220420"), .. seed])), ct);
        try
        {
            await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Ed25519PublicKeys = new Dictionary<string, byte[]> { [apiKey] = publicKey } }, ct);
            var run = await NodeTool.RunAsync("node", ["logon.mjs", simulator.RestBaseUrl.ToString(), apiKey, pemPath], directory, TimeSpan.FromMinutes(2), ct);

            Assert.True(run.ExitCode == 0, $"official connector logon check failed (exit {run.ExitCode}):\n{run.Output}");
            Assert.Contains("all checks passed", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(pemPath);
        }
    }
}
