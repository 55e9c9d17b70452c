using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Chaser.Simulator.Server;
using Chaser.Storage;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Cli.Tests;

/// <summary>
/// `chaser serve` killed with SIGKILL while a parent order works, then started again: the order ends final with
/// totals equal to the exchange's userTrades, and no order of ours is left open on the exchange.
/// </summary>
public class KillTests
{
    private const string Token = "kill-test-token";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_serve_killed_mid_order_is_reconciled_from_the_exchange_on_restart()
    {
        // The exchange outlives the process, as Binance does.
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        var database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-kill-{Guid.NewGuid():N}.db");
        var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";

        long id;
        using (var first = await ServeAsync(simulator, database, url))
        {
            id = await ExecuteUntilAChildRestsAsync(simulator, url, "BTCUSDT");
            first.Kill(); // SIGKILL: no cleanup of any kind
            await first.WaitForExitAsync(Ct);
        }

        // While nobody watches, the orphaned child keeps resting and may fill.
        await Task.Delay(1500, Ct);

        using (var second = await ServeAsync(simulator, database, url))
        {
            await using var db = new ChaserDb(database);
            var order = await db.Orders.Include(o => o.Fills).AsNoTracking().SingleAsync(o => o.Id == id, Ct);
            var exchange = simulator.Engine.GetUserTrades("BTCUSDT", limit: 100_000);

            Assert.True(OrderStatus.IsFinal(order.Status), $"order {id} is {order.Status}");
            Assert.Empty(simulator.Engine.GetOpenOrders("BTCUSDT"));
            Assert.Equal(exchange.Select(t => t.TradeId).Order(), order.Fills.Select(f => f.TradeId).Order());
            Assert.Equal(exchange.Sum(t => t.Qty), order.FilledQty);
            Assert.Equal(exchange.Sum(t => t.Qty * t.Price), order.FilledNotional);
            second.Kill();
            await second.WaitForExitAsync(Ct);
        }
    }

    [Fact]
    public async Task With_the_dead_man_switch_the_exchange_cancels_the_orders_of_a_killed_serve_by_itself()
    {
        // A market where nobody trades and the price stands still: the child rests until something cancels it.
        var quiet = new SimulatorOptions
        {
            Synthetic = new Chaser.Simulator.Sources.SyntheticOptions { CalmTradesPerSecond = 0, BurstTradesPerSecond = 0, AddsPerSecond = 1, CancelsPerSecond = 1, VolatilityTicksPerSqrtSecond = 0 },
        };
        await using var simulator = await SimulatorServer.StartAsync(quiet, Ct);
        var database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-deadman-{Guid.NewGuid():N}.db");
        var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";
        using var serve = await ServeAsync(simulator, database, url, "--dead-man", "10s");
        await ExecuteUntilAChildRestsAsync(simulator, url, "ETHUSDT");
        serve.Kill(); // SIGKILL: nothing of ours runs again, no restart
        await serve.WaitForExitAsync(Ct);
        var killedAt = DateTime.UtcNow;

        // Nobody cancels it but the exchange, within the 10 s countdown (renewed every 2.5 s until the kill).
        while (simulator.Engine.GetOpenOrders("ETHUSDT").Count > 0 && DateTime.UtcNow - killedAt < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(100, Ct);
        }

        Assert.Empty(simulator.Engine.GetOpenOrders("ETHUSDT"));
        Assert.Empty(simulator.Engine.GetUserTrades("ETHUSDT", limit: 100));
        Assert.InRange(DateTime.UtcNow - killedAt, TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(12)); // 10 s from the last renewal
    }

    [Fact]
    public async Task Sigterm_cancels_the_working_order_and_awaits_its_final_state_before_exit()
    {
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        var database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-term-{Guid.NewGuid():N}.db");
        var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";
        using var serve = await ServeAsync(simulator, database, url);
        var id = await ExecuteUntilAChildRestsAsync(simulator, url, "BTCUSDT");

        using (var term = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync(Ct);
        }

        await serve.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(0, serve.ExitCode);

        // Ended before the process did: no child left resting, the record final and equal to the exchange's.
        Assert.Empty(simulator.Engine.GetOpenOrders("BTCUSDT"));
        await using var db = new ChaserDb(database);
        var order = await db.Orders.Include(o => o.Fills).AsNoTracking().SingleAsync(o => o.Id == id, Ct);
        Assert.True(order.Status is OrderStatus.Canceled or OrderStatus.Filled, $"order {id} is {order.Status}");
        var exchange = simulator.Engine.GetUserTrades("BTCUSDT", limit: 100_000);
        Assert.Equal(exchange.Select(t => t.TradeId).Order(), order.Fills.Select(f => f.TradeId).Order());
        Assert.Equal(exchange.Sum(t => t.Qty), order.FilledQty);
    }

    [Fact]
    public async Task Eight_orders_executed_four_times_at_once_through_serve_run_once_and_match_the_exchange()
    {
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        var database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-race-{Guid.NewGuid():N}.db");
        var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";
        using var serve = await ServeAsync(simulator, database, url);
        using var client = Client(url);
        using var created = await client.PostAsync(new Uri("/api/orders", UriKind.Relative), Json("""
            [{"symbol":"BTCUSDT","side":1,"size":3000,"size_type":"n"},{"symbol":"BTCUSDT","side":-1,"size":2000,"size_type":"n"},
             {"symbol":"ETHUSDT","side":1,"size":0.5,"size_type":"q"},{"symbol":"ETHUSDT","side":-1,"size":1500,"size_type":"n"},
             {"symbol":"SOLUSDT","side":1,"size":10,"size_type":"q"},{"symbol":"SOLUSDT","side":-1,"size":900,"size_type":"n"},
             {"symbol":"BTCUSDT","side":1,"size":1000,"size_type":"n"},{"symbol":"ETHUSDT","side":1,"size":0.2,"size_type":"q"}]
            """), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var ids = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToArray();

        var body = $$"""{"ids":[{{string.Join(',', ids)}}]}""";
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var response = await client.PostAsync(new Uri("/api/orders/execute", UriKind.Relative), Json(body), Ct);
            return response.StatusCode;
        }));
        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Conflict, HttpStatusCode.Conflict, HttpStatusCode.Conflict], answers.Order());

        await using var db = new ChaserDb(database);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        List<OrderRow> orders = [];
        while (DateTime.UtcNow < deadline)
        {
            orders = await db.Orders.Include(o => o.Fills).AsNoTracking().OrderBy(o => o.Id).ToListAsync(Ct);
            if (orders.All(o => OrderStatus.IsFinal(o.Status)))
            {
                break;
            }

            await Task.Delay(200, Ct);
        }

        Assert.All(orders, o => Assert.Equal(OrderStatus.Filled, o.Status));
        Assert.All(orders, o => Assert.True(o.SizeType == "n" ? o.FilledNotional <= o.Size : o.FilledQty <= o.Size, $"order {o.Id} filled past its target"));
        foreach (var symbol in new[] { "BTCUSDT", "ETHUSDT", "SOLUSDT" })
        {
            // The exchange's userTrades are the truth: every trade stored once, none missing, none extra.
            var exchange = simulator.Engine.GetUserTrades(symbol, limit: 100_000);
            var stored = orders.Where(o => o.Symbol == symbol).SelectMany(o => o.Fills).ToList();
            Assert.Equal(exchange.Select(t => t.TradeId).Order(), stored.Select(f => f.TradeId).Order());
            Assert.Equal(exchange.Sum(t => t.Qty), stored.Sum(f => f.Qty));
            Assert.Empty(simulator.Engine.GetOpenOrders(symbol));
        }

        serve.Kill();
        await serve.WaitForExitAsync(Ct);
    }

    /// <summary>Creates and executes a 300,000 USDT buy through the API; returns its id once its child rests on the exchange.</summary>
    private static async Task<long> ExecuteUntilAChildRestsAsync(SimulatorServer simulator, string url, string symbol)
    {
        using var client = Client(url);
        using var created = await client.PostAsync(new Uri("/api/orders", UriKind.Relative), Json($$"""{"symbol":"{{symbol}}","side":1,"size":300000,"size_type":"n"}"""), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();
        using var execute = await client.PostAsync(new Uri("/api/orders/execute", UriKind.Relative), Json($$"""{"ids":[{{id}}]}"""), Ct);
        Assert.Equal(HttpStatusCode.Accepted, execute.StatusCode);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (simulator.Engine.GetOpenOrders(symbol).Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, Ct);
        }

        Assert.Single(simulator.Engine.GetOpenOrders(symbol));
        return id;
    }

    private static Task<Process> ServeAsync(SimulatorServer simulator, string database, string url, params string[] extra) =>
        ServeProcess.StartAsync(Token, ["--urls", url, "--db", database, "--rest-url", simulator.RestBaseUrl.ToString(), "--ws-url", simulator.WebSocketBaseUrl.ToString(), .. extra], Ct);

    private static HttpClient Client(string url)
    {
        var client = new HttpClient { BaseAddress = new Uri(url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return client;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
