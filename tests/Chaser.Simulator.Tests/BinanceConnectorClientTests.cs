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
}
