using Chaser.Simulator.Server;
using Chaser.Tests.Shared;

namespace Chaser.Simulator.Tests;

/// <summary>
/// The <c>binance</c> npm package (tiagosiebler's USDMClient, WebsocketClient and WebsocketAPIClient, pinned in
/// tools/binance-npm-check), unmodified except its base URLs, against the simulator: REST exchange info, time, depth,
/// a post-only place (with the package's own broker-prefixed client id) / query / modify / cancel, a crossing post-only
/// rejected alone and inside a batch, account, balance and trades; signed WebSocket API place / modify / status /
/// cancel and a -5022 there; bookTicker and depth on /public and aggTrade on /market as the package routes them
/// itself; and the user stream on /private/stream?listenKey= (ORDER_TRADE_UPDATE and TRADE_LITE of a maker fill).
/// Its npm dependencies are installed on first use.
/// </summary>
public class BinanceNpmClientTests
{
    [Fact]
    public async Task The_binance_npm_package_works_against_the_simulator()
    {
        var ct = TestContext.Current.CancellationToken;
        var directory = NodeTool.Directory("binance-npm-check");
        await NodeTool.InstallAsync(directory, "binance", ct);

        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), ct);
        var run = await NodeTool.RunAsync("node", ["check.mjs", simulator.RestBaseUrl.ToString(), simulator.ApiKey, simulator.ApiSecret], directory, TimeSpan.FromMinutes(2), ct);

        Assert.True(run.ExitCode == 0, $"binance npm package check failed (exit {run.ExitCode}):\n{run.Output}");
        Assert.Contains("all checks passed", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", run.Output, StringComparison.Ordinal);
    }
}
