using Chaser.Simulator.Server;
using Chaser.Tests.Shared;

namespace Chaser.Simulator.Tests;

/// <summary>
/// A widely used third-party Binance client, ccxt (binanceusdm + ccxt.pro), unmodified except its base URLs, against
/// the simulator: markets, book, trades, tickers, balance, post-only place / modify / cancel, a crossing post-only
/// rejected, streamed book / quotes / trades / own orders, a resting bid filled as maker, and WebSocket API orders.
/// The script is tools/ccxt-check/check.mjs; its npm dependencies are installed on first use.
/// </summary>
public class CcxtClientTests
{
    [Fact]
    public async Task Ccxt_binanceusdm_works_against_the_simulator()
    {
        var ct = TestContext.Current.CancellationToken;
        var directory = NodeTool.Directory("ccxt-check");
        await NodeTool.InstallAsync(directory, "ccxt", ct);

        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), ct);
        var run = await NodeTool.RunAsync("node", ["check.mjs", simulator.RestBaseUrl.ToString(), simulator.ApiKey, simulator.ApiSecret], directory, TimeSpan.FromMinutes(3), ct);

        Assert.True(run.ExitCode == 0, $"ccxt check failed (exit {run.ExitCode}):\n{run.Output}");
        Assert.Contains("all checks passed", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", run.Output, StringComparison.Ordinal);
    }
}
