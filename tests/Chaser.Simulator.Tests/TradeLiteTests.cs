using System.Text.Json;

namespace Chaser.Simulator.Tests;

/// <summary>
/// TRADE_LITE beside ORDER_TRADE_UPDATE for every trade of the account (binance-futures-api.md §7; Binance's
/// USDⓈ-M "Event: Trade Lite": only for the TRADE execution type, fewer fields).
/// </summary>
public sealed class TradeLiteTests
{
    [Fact]
    public async Task Each_fill_sends_trade_lite_first_with_binances_fields_matching_its_order_trade_update()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await sim.ListenKeyAsync();
        using var ws = await sim.ConnectAsync("/private/ws/" + key);

        await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64999.9&newClientOrderId=lite1"));
        Assert.Equal("NEW", (await ws.ReceiveJsonAsync()).GetProperty("o").GetProperty("x").GetString());

        sim.Engine.ApplyTrade(SimulatorFixture.Btc, 64999.7m, 6m, buyerIsMaker: true); // through the 5 ahead of us and our 0.010
        var lite = await ws.ReceiveJsonAsync();
        var update = await ws.ReceiveJsonAsync();

        Assert.Equal(["e", "E", "T", "s", "q", "p", "m", "c", "S", "L", "l", "t", "i"], lite.PropertyNames());
        Assert.Equal("TRADE_LITE", lite.GetProperty("e").GetString());
        foreach (var text in new[] { "s", "q", "p", "c", "S", "L", "l" })
        {
            Assert.Equal(JsonValueKind.String, lite.GetProperty(text).ValueKind);
        }

        foreach (var number in new[] { "E", "T", "t", "i" })
        {
            Assert.Equal(JsonValueKind.Number, lite.GetProperty(number).ValueKind);
        }

        Assert.Equal("ORDER_TRADE_UPDATE", update.GetProperty("e").GetString());
        var o = update.GetProperty("o");
        Assert.Equal("TRADE", o.GetProperty("x").GetString());
        Assert.Equal(update.GetProperty("E").GetInt64(), lite.GetProperty("E").GetInt64());
        Assert.Equal(update.GetProperty("T").GetInt64(), lite.GetProperty("T").GetInt64());
        foreach (var field in new[] { "s", "q", "p", "c", "S", "L", "l" })
        {
            Assert.Equal(o.GetProperty(field).GetString(), lite.GetProperty(field).GetString());
        }

        Assert.Equal(o.GetProperty("t").GetInt64(), lite.GetProperty("t").GetInt64());
        Assert.Equal(o.GetProperty("i").GetInt64(), lite.GetProperty("i").GetInt64());
        Assert.Equal(o.GetProperty("m").GetBoolean(), lite.GetProperty("m").GetBoolean());
        Assert.True(lite.GetProperty("m").GetBoolean());
        Assert.Equal("lite1", lite.GetProperty("c").GetString());
        Assert.Equal("0.010", lite.GetProperty("l").GetString());
        Assert.Equal("64999.9", lite.GetProperty("L").GetString());
        Assert.Equal("ACCOUNT_UPDATE", (await ws.ReceiveJsonAsync()).GetProperty("e").GetString());
    }

    [Fact]
    public async Task An_order_that_never_trades_sends_no_trade_lite()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await sim.ListenKeyAsync();
        using var ws = await sim.ConnectAsync("/private/ws/" + key);

        var (_, placed) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64999.9&newClientOrderId=lite2"));
        var id = placed.GetProperty("orderId").GetInt64();
        await sim.SendAsync(sim.SignedAsync(HttpMethod.Put, "/fapi/v1/order", $"symbol=BTCUSDT&orderId={id}&side=BUY&quantity=0.010&price=64999.8"));
        await sim.SendAsync(sim.SignedAsync(HttpMethod.Delete, "/fapi/v1/order", $"symbol=BTCUSDT&orderId={id}"));

        var kinds = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var frame = await ws.ReceiveJsonAsync();
            kinds.Add(frame.GetProperty("e").GetString() + " " + frame.GetProperty("o").GetProperty("x").GetString());
        }

        Assert.Equal(["ORDER_TRADE_UPDATE NEW", "ORDER_TRADE_UPDATE AMENDMENT", "ORDER_TRADE_UPDATE CANCELED"], kinds);
    }
}
