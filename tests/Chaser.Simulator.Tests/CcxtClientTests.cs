using System.Diagnostics;
using Chaser.Simulator.Server;

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
        var directory = FindCheckDirectory();
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "ccxt")))
        {
            var install = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], directory, TimeSpan.FromMinutes(3), ct);
            Assert.True(install.ExitCode == 0, "npm ci failed:\n" + install.Output);
        }

        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), ct);
        var run = await RunAsync("node", ["check.mjs", simulator.RestBaseUrl.ToString(), simulator.ApiKey, simulator.ApiSecret], directory, TimeSpan.FromMinutes(3), ct);

        Assert.True(run.ExitCode == 0, $"ccxt check failed (exit {run.ExitCode}):\n{run.Output}");
        Assert.Contains("all checks passed", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", run.Output, StringComparison.Ordinal);
    }

    private static string FindCheckDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tools", "ccxt-check");
            if (File.Exists(Path.Combine(candidate, "check.mjs")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tools/ccxt-check not found above " + AppContext.BaseDirectory);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments, string directory, TimeSpan timeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout}\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
