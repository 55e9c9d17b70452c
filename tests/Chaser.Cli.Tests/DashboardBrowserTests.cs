using System.Text.Json;
using Chaser.Simulator.Server;
using Chaser.Tests.Shared;

namespace Chaser.Cli.Tests;

/// <summary>
/// The dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core
/// (tools/dashboard-check/check.mjs) against the real `chaser serve` on the embedded simulator. While the page is
/// open an order is created and executed through the API; the page must show it working and then filled without
/// being reloaded, load nothing from outside the server, and draw the chart, fills and aggregates.
/// </summary>
public class DashboardBrowserTests
{
    private const string Token = "dashboard-test-token";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void SkipWithoutChromium()
    {
        var chromium = Environment.GetEnvironmentVariable("CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(chromium))
        {
            // .ci/run installs Debian's chromium and sets CHASER_REQUIRE_BROWSER, so there this is a failure, not a skip.
            Assert.True(Environment.GetEnvironmentVariable("CHASER_REQUIRE_BROWSER") != "1", $"{chromium} is missing (apt-get install chromium)");
            Assert.Skip($"{chromium} is not installed (apt-get install chromium); .ci/run installs it");
        }
    }

    [Fact]
    public async Task An_executing_order_updates_on_the_open_page_without_a_reload()
    {
        SkipWithoutChromium();

        var directory = NodeTool.Directory("dashboard-check");
        await NodeTool.InstallAsync(directory, "playwright-core", Ct);

        // A market whose price stands still (four trades a second, no bursts): the order fills by its queue, in
        // steps over seconds. On the embedded default one trade through the price can fill it whole between two of
        // the page's 250 ms snapshots on a loaded machine (CI saw new -> filled), and the page rightly never shows it
        // working.
        var slow = new SimulatorOptions
        {
            Synthetic = new Chaser.Simulator.Sources.SyntheticOptions { BurstTradesPerSecond = 4, VolatilityTicksPerSqrtSecond = 0 },
        };
        await using var simulator = await SimulatorServer.StartAsync(slow, Ct);
        var database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-dashboard-{Guid.NewGuid():N}.db");
        var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";
        var screenshot = Path.Combine(Path.GetTempPath(), $"chaser-dashboard-{Guid.NewGuid():N}.png");
        using var serve = await ServeProcess.StartAsync(Token, ["--urls", url, "--db", database, "--rest-url", simulator.RestBaseUrl.ToString(), "--ws-url", simulator.WebSocketBaseUrl.ToString()], Ct);
        try
        {
            var run = await NodeTool.RunAsync("node", ["check.mjs", url, Token, screenshot], directory, TimeSpan.FromMinutes(4), Ct);
            Assert.True(run.ExitCode == 0, "the browser check failed:\n" + run.Output);
            var result = JsonDocument.Parse(run.Output.Split('\n').Last(l => l.StartsWith('{'))).RootElement; // the check's report line
            TestContext.Current.SendDiagnosticMessage($"dashboard: {run.Output.Trim()} screenshot {screenshot}");

            Assert.Equal(1, result.GetProperty("navigations").GetInt32());
            Assert.Empty(result.GetProperty("foreign").EnumerateArray());
            Assert.Empty(result.GetProperty("errors").EnumerateArray());

            // The row went from working (not full) to filled on the same page.
            var states = result.GetProperty("states").EnumerateArray().Select(s => (Status: s[0].GetString(), Progress: double.Parse(s[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture))).ToList();
            Assert.Contains(states, s => s.Status == "working" && s.Progress < 100);
            Assert.Equal("filled", states[^1].Status);
            Assert.True(states[^1].Progress >= 99.9, $"final progress {states[^1].Progress}");
            Assert.True(states.Count >= 2, "the page saw one state only");

            Assert.True(result.GetProperty("fillRows").GetInt32() > 0);
            Assert.Equal(1000, result.GetProperty("chartWidth").GetInt32());
            Assert.Equal("100.0%", result.GetProperty("metrics").GetProperty("fill rate").GetString());
            Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is empty");
        }
        finally
        {
            serve.Kill();
            await serve.WaitForExitAsync(Ct);
        }
    }

    [Fact]
    public async Task A_working_order_is_canceled_from_its_cancel_button()
    {
        SkipWithoutChromium();
        var directory = NodeTool.Directory("dashboard-check");
        await NodeTool.InstallAsync(directory, "playwright-core", Ct);

        // A simulator where nothing trades and the price stands still: the order rests until the button stops it.
        var quiet = new SimulatorOptions
        {
            Synthetic = new Chaser.Simulator.Sources.SyntheticOptions { CalmTradesPerSecond = 0, BurstTradesPerSecond = 0, AddsPerSecond = 1, CancelsPerSecond = 1, VolatilityTicksPerSqrtSecond = 0 },
        };
        await using var simulator = await SimulatorServer.StartAsync(quiet, Ct);
        var database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-dashboard-{Guid.NewGuid():N}.db");
        var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";
        var screenshot = Path.Combine(Path.GetTempPath(), $"chaser-dashboard-cancel-{Guid.NewGuid():N}.png");
        using var serve = await ServeProcess.StartAsync(Token, ["--urls", url, "--db", database, "--rest-url", simulator.RestBaseUrl.ToString(), "--ws-url", simulator.WebSocketBaseUrl.ToString()], Ct);
        try
        {
            var run = await NodeTool.RunAsync("node", ["check.mjs", url, Token, screenshot, "cancel"], directory, TimeSpan.FromMinutes(4), Ct);
            Assert.True(run.ExitCode == 0, "the browser check failed:\n" + run.Output);
            var result = JsonDocument.Parse(run.Output.Split('\n').Last(l => l.StartsWith('{'))).RootElement;

            Assert.StartsWith($"Cancel order #{result.GetProperty("order").GetInt64()}?", result.GetProperty("dialog").GetString(), StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.Null, result.GetProperty("selected").ValueKind); // the button is not a row click
            var states = result.GetProperty("states").EnumerateArray().Select(s => s[0].GetString()).ToList();
            Assert.Contains("working", states);
            Assert.Equal("canceled", states[^1]);
            Assert.Empty(simulator.Engine.GetOpenOrders("ETHUSDT"));
            Assert.Empty(result.GetProperty("errors").EnumerateArray());
        }
        finally
        {
            serve.Kill();
            await serve.WaitForExitAsync(Ct);
        }
    }

    [Fact]
    public async Task The_page_asks_for_the_token_shows_why_an_order_failed_or_waits_and_brings_a_clicked_order_into_view()
    {
        SkipWithoutChromium();
        var directory = NodeTool.Directory("dashboard-check");
        await NodeTool.InstallAsync(directory, "playwright-core", Ct);

        // Nothing trades and the price stands still: the working order stays working, the one behind it stays queued,
        // so each state holds for as long as the page takes to show it.
        var quiet = new SimulatorOptions
        {
            Synthetic = new Chaser.Simulator.Sources.SyntheticOptions { CalmTradesPerSecond = 0, BurstTradesPerSecond = 0, AddsPerSecond = 1, CancelsPerSecond = 1, VolatilityTicksPerSqrtSecond = 0 },
        };
        await using var simulator = await SimulatorServer.StartAsync(quiet, Ct);
        var database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-dashboard-{Guid.NewGuid():N}.db");
        var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";
        var screenshot = Path.Combine(Path.GetTempPath(), $"chaser-dashboard-reasons-{Guid.NewGuid():N}.png");
        using var serve = await ServeProcess.StartAsync(Token, ["--urls", url, "--db", database, "--rest-url", simulator.RestBaseUrl.ToString(), "--ws-url", simulator.WebSocketBaseUrl.ToString()], Ct);
        try
        {
            var run = await NodeTool.RunAsync("node", ["check.mjs", url, Token, screenshot, "reasons"], directory, TimeSpan.FromMinutes(4), Ct);
            Assert.True(run.ExitCode == 0, "the browser check failed:\n" + run.Output);
            var result = JsonDocument.Parse(run.Output.Split('\n').Last(l => l.StartsWith('{'))).RootElement;
            TestContext.Current.SendDiagnosticMessage($"dashboard: {run.Output.Trim()} screenshot {screenshot}");
            Assert.Empty(result.GetProperty("errors").EnumerateArray());
            Assert.Empty(result.GetProperty("foreign").EnumerateArray());

            // Before the token the page can't know the orders: it says a token is needed, not that there are none.
            var before = result.GetProperty("beforeToken");
            Assert.Contains("token is needed", before.GetProperty("needsToken").GetString(), StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.Null, before.GetProperty("empty").ValueKind);
            var after = result.GetProperty("afterToken");
            Assert.Equal(JsonValueKind.Null, after.GetProperty("needsToken").ValueKind);
            Assert.StartsWith("No orders yet", after.GetProperty("empty").GetString(), StringComparison.Ordinal);

            // The second order on the same symbol and side waits, and the page says behind which order; both can be canceled.
            var working = result.GetProperty("working").GetInt64();
            var rows = result.GetProperty("rows");
            Assert.Equal("queued", rows.GetProperty("queued").GetProperty("status").GetString());
            Assert.Equal($"queued behind #{working}", rows.GetProperty("queued").GetProperty("detail").GetString());
            Assert.Equal("cancel", rows.GetProperty("queued").GetProperty("cancel").GetString());
            Assert.Equal("working", rows.GetProperty("working").GetProperty("status").GetString());

            // The exchange refused the reduce-only sell (no position): the reason is in the row and in the detail.
            const string Reason = "order rejected by the exchange: -2022 ReduceOnly Order is rejected.";
            Assert.Equal("failed", rows.GetProperty("failed").GetProperty("status").GetString());
            Assert.Equal(Reason, rows.GetProperty("failed").GetProperty("detail").GetString());
            var detail = result.GetProperty("detail");
            Assert.Equal($"failed: {Reason}", detail.GetProperty("status").GetString());
            Assert.StartsWith($"#{result.GetProperty("failed").GetInt64()} sell", detail.GetProperty("title").GetString(), StringComparison.Ordinal);

            // The detail sits below the list; the click (at the page's top) scrolled it to the window's top.
            Assert.Equal(0, result.GetProperty("scrollYBefore").GetDouble());
            Assert.True(detail.GetProperty("offsetTop").GetDouble() > 100, "the detail is not below the list");
            Assert.True(detail.GetProperty("scrollY").GetDouble() > 0, "the page did not scroll");
            Assert.InRange(detail.GetProperty("top").GetDouble(), -2, 2);

            // The chart comes in the page's dark theme.
            Assert.All(result.GetProperty("charts").EnumerateArray(), c => Assert.EndsWith("/chart.png?theme=dark", c.GetString(), StringComparison.Ordinal));
            Assert.NotEmpty(result.GetProperty("charts").EnumerateArray());
            Assert.Equal("canceled before it started working", result.GetProperty("canceled").GetProperty("queued").GetString());
        }
        finally
        {
            serve.Kill();
            await serve.WaitForExitAsync(Ct);
        }
    }
}
