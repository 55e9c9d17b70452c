using System.Text.Json;
using Chaser.Core.Domain;
using Chaser.Simulator.Server;
using Chaser.Storage;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Cli.Tests;

/// <summary>The commands end to end: the real engine over loopback against the simulator.</summary>
public class RunTests
{
    [Fact]
    public async Task Demo_works_three_orders_to_target_with_maker_fills_only()
    {
        var outcome = await CliRunner.RunAsync(null, "demo", "--json");

        Assert.True(outcome.ExitCode == 0, $"exit {outcome.ExitCode}: {outcome.Error}\n{outcome.Output}");
        using var json = JsonDocument.Parse(outcome.Output);
        var orders = json.RootElement.EnumerateArray().ToArray();
        Assert.Equal(3, orders.Select(o => o.GetProperty("id").GetInt64()).Distinct().Count());
        Assert.Equal([1, -1, 1], orders.Select(o => o.GetProperty("side").GetInt32()));
        foreach (var order in orders)
        {
            Assert.Equal("filled", order.GetProperty("status").GetString());
            var fills = order.GetProperty("fills").EnumerateArray().ToArray();
            Assert.NotEmpty(fills);
            Assert.All(fills, f => Assert.True(f.GetProperty("maker").GetBoolean()));
            Assert.Equal(order.GetProperty("filled_qty").GetDecimal(), fills.Sum(f => f.GetProperty("qty").GetDecimal()));
            Assert.Equal(order.GetProperty("filled_notional").GetDecimal(), fills.Sum(f => f.GetProperty("qty").GetDecimal() * f.GetProperty("price").GetDecimal()));
            Assert.True(order.GetProperty("arrival_mid").GetDecimal() > 0);
        }

        // Everything is recorded: the parent orders (ids from the database) and every fill.
        await using (var db = new ChaserDb(outcome.Database))
        {
            var stored = await db.Orders.Include(o => o.Fills).OrderBy(o => o.Id).ToListAsync(TestContext.Current.CancellationToken);
            Assert.Equal(orders.Select(o => o.GetProperty("id").GetInt64()), stored.Select(o => o.Id));
            Assert.All(stored, o => Assert.Equal(OrderStatus.Filled, o.Status));
            Assert.Equal(orders.Select(o => o.GetProperty("fills").GetArrayLength()), stored.Select(o => o.Fills.Count));
            Assert.Equal(orders.Select(o => o.GetProperty("filled_qty").GetDecimal()), stored.Select(o => o.FilledQty));
        }

        // Notional targets are reached to within one quantity step and never exceeded; the quantity target exactly.
        Assert.InRange(orders[0].GetProperty("filled_notional").GetDecimal(), 15_000m - (0.001m * 70_000m), 15_000m);
        Assert.InRange(orders[1].GetProperty("filled_notional").GetDecimal(), 8_000m - (0.001m * 4_000m), 8_000m);
        Assert.Equal(0.5m, orders[2].GetProperty("filled_qty").GetDecimal());
    }

    [Fact]
    public async Task Execute_against_a_running_simulator_reports_what_the_exchange_filled()
    {
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions { Seed = 5 }, TestContext.Current.CancellationToken);
        var outcome = await CliRunner.RunAsync(
            null,
            "execute", "--rest-url", sim.RestBaseUrl.ToString(), "--ws-url", sim.WebSocketBaseUrl.ToString(),
            "--symbol", "SOLUSDT", "--side", "sell", "--quantity", "12", "--id", "42", "--json");

        Assert.True(outcome.ExitCode == 0, $"exit {outcome.ExitCode}: {outcome.Error}\n{outcome.Output}");
        using var json = JsonDocument.Parse(outcome.Output);
        var order = Assert.Single(json.RootElement.EnumerateArray().ToArray());
        Assert.Equal(42, order.GetProperty("id").GetInt64());
        Assert.Equal(12m, order.GetProperty("filled_qty").GetDecimal());

        var exchange = sim.Engine.GetUserTrades("SOLUSDT", limit: 1000);
        var reported = order.GetProperty("fills").EnumerateArray().Select(f => f.GetProperty("trade_id").GetInt64()).Order();
        Assert.Equal(exchange.Select(t => t.TradeId).Order(), reported);
        Assert.Equal(12m, exchange.Sum(t => t.Qty));
        Assert.Empty(sim.Engine.GetOpenOrders("SOLUSDT"));
    }

    [Fact]
    public async Task A_deadline_that_passes_cancels_the_child_and_reports_expired()
    {
        // A frozen market never trades, so the order can only end by its deadline.
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions(), TestContext.Current.CancellationToken);
        sim.Market!.Stalled = true;
        var outcome = await CliRunner.RunAsync(
            null,
            "execute", "--rest-url", sim.RestBaseUrl.ToString(), "--ws-url", sim.WebSocketBaseUrl.ToString(),
            "--symbol", "BTCUSDT", "--side", "buy", "--notional", "50000", "--deadline", "1500ms", "--json");

        Assert.True(outcome.ExitCode == 3, $"exit {outcome.ExitCode}: {outcome.Error}\n{outcome.Output}");
        using var json = JsonDocument.Parse(outcome.Output);
        var order = Assert.Single(json.RootElement.EnumerateArray().ToArray());
        Assert.Equal("expired", order.GetProperty("status").GetString());
        Assert.Equal(0m, order.GetProperty("filled_notional").GetDecimal());
        Assert.Equal(1, order.GetProperty("child_orders").GetInt32());
        Assert.Equal(1, order.GetProperty("cancels").GetInt32());
        Assert.Empty(sim.Engine.GetOpenOrders("BTCUSDT"));
    }

    [Fact]
    public async Task Ctrl_c_cancels_the_live_child_waits_for_it_and_reports()
    {
        // A frozen market never fills the order; the stop (Ctrl-C) arrives while the child rests.
        await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions(), TestContext.Current.CancellationToken);
        sim.Market!.Stalled = true;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = CliRunner.RunAsync(
            null,
            stop.Token,
            "execute", "--rest-url", sim.RestBaseUrl.ToString(), "--ws-url", sim.WebSocketBaseUrl.ToString(),
            "--symbol", "ETHUSDT", "--side", "sell", "--quantity", "2", "--json");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (sim.Engine.GetOpenOrders("ETHUSDT").Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Single(sim.Engine.GetOpenOrders("ETHUSDT"));
        await stop.CancelAsync();
        var outcome = await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.True(outcome.ExitCode == 3, $"exit {outcome.ExitCode}: {outcome.Error}\n{outcome.Output}");
        using var json = JsonDocument.Parse(outcome.Output);
        var order = Assert.Single(json.RootElement.EnumerateArray().ToArray());
        Assert.Equal("canceled", order.GetProperty("status").GetString());
        Assert.Equal(1, order.GetProperty("cancels").GetInt32());
        Assert.Empty(sim.Engine.GetOpenOrders("ETHUSDT"));
    }

    [Theory]
    [InlineData("90s", 90_000)]
    [InlineData("10m", 600_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("500ms", 500)]
    [InlineData("00:02:00", 120_000)]
    [InlineData("0", 0)]
    [InlineData(" 0 ", 0)]
    public void Durations_parse(string text, long milliseconds)
    {
        Assert.True(DurationText.TryParse(text, out var value));
        Assert.Equal(milliseconds, (long)value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("m")]
    [InlineData("5 parsecs")]
    [InlineData("")]
    public void Bad_durations_do_not_parse(string text) => Assert.False(DurationText.TryParse(text, out _));
}
