using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Tests;

public sealed class WebSocketTests
{
    private const string Btc = SimulatorFixture.Btc;

    private static readonly string[] NewOrderEventFields =
        ["s", "c", "S", "o", "f", "q", "p", "ap", "sp", "x", "X", "i", "l", "z", "L", "T", "t", "b", "a", "m", "R", "wt", "ot", "ps", "cp", "rp", "pP", "si", "ss", "V", "pm", "gtd", "er"];

    private static async Task<string> ListenKeyAsync(SimulatorFixture sim)
    {
        var post = new HttpRequestMessage(HttpMethod.Post, "/fapi/v1/listenKey");
        post.Headers.Add("X-MBX-APIKEY", sim.Server.ApiKey);
        var (_, json) = await sim.SendAsync(sim.Http.SendAsync(post, TestContext.Current.CancellationToken));
        return json.GetProperty("listenKey").GetString()!;
    }

    [Fact]
    public async Task Book_ticker_raw_stream_has_binance_fields()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/public/ws/btcusdt@bookTicker");

        sim.Engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 64999.9m, 6m)]);

        var frame = await ws.ReceiveJsonAsync();
        Assert.Equal(["e", "u", "s", "b", "B", "a", "A", "T", "E"], frame.PropertyNames());
        Assert.Equal("bookTicker", frame.GetProperty("e").GetString());
        Assert.Equal("64999.9", frame.GetProperty("b").GetString());
        Assert.Equal("6.000", frame.GetProperty("B").GetString());
        Assert.Equal(sim.Engine.GetBookTicker(Btc).UpdateId, frame.GetProperty("u").GetInt64());
    }

    [Fact]
    public async Task Combined_streams_wrap_agg_trades_on_market_and_trades_on_public()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var market = await sim.ConnectAsync("/market/stream?streams=btcusdt@aggTrade");
        using var @public = await sim.ConnectAsync("/public/stream?streams=btcusdt@trade");

        sim.Engine.ApplyTrade(Btc, 65000.0m, 0.25m, buyerIsMaker: false);

        var first = await market.ReceiveJsonAsync();
        Assert.Equal(["stream", "data"], first.PropertyNames());
        Assert.Equal("btcusdt@aggTrade", first.GetProperty("stream").GetString());
        var agg = first.GetProperty("data");
        Assert.Equal(["e", "E", "a", "s", "p", "q", "nq", "f", "l", "T", "m"], agg.PropertyNames());
        Assert.Equal("65000.0", agg.GetProperty("p").GetString());
        Assert.Equal("0.250", agg.GetProperty("q").GetString());
        Assert.False(agg.GetProperty("m").GetBoolean());
        var second = await @public.ReceiveJsonAsync();
        Assert.Equal("btcusdt@trade", second.GetProperty("stream").GetString());
        var trade = second.GetProperty("data");
        Assert.Equal(["e", "E", "T", "s", "t", "p", "q", "X", "m"], trade.PropertyNames());
        Assert.Equal("MARKET", trade.GetProperty("X").GetString());
    }

    [Fact]
    public async Task Live_subscribe_list_and_unsubscribe_reply_with_ids()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/public/ws");

        await ws.SendTextAsync("""{"method":"SUBSCRIBE","params":["btcusdt@bookTicker","ethusdt@trade"],"id":1}""");
        Assert.Equal("""{"result":null,"id":1}""", (await ws.ReceiveJsonAsync()).GetRawText());
        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":2}""");
        Assert.Equal("""{"result":["btcusdt@bookTicker","ethusdt@trade"],"id":2}""", (await ws.ReceiveJsonAsync()).GetRawText());

        sim.Engine.ApplyLevels(Btc, [new LevelChange(BookSide.Ask, 65000.0m, 1m)]);
        Assert.Equal("bookTicker", (await ws.ReceiveJsonAsync()).GetProperty("e").GetString());

        await ws.SendTextAsync("""{"method":"UNSUBSCRIBE","params":["btcusdt@bookTicker"],"id":3}""");
        Assert.Equal("""{"result":null,"id":3}""", (await ws.ReceiveJsonAsync()).GetRawText());
        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":4}""");
        Assert.Equal("""{"result":["ethusdt@trade"],"id":4}""", (await ws.ReceiveJsonAsync()).GetRawText());

        await ws.SendTextAsync("""{"method":"SUBSCRIBE","params":["nosuch@bookTicker"],"id":5}""");
        var error = await ws.ReceiveJsonAsync();
        Assert.Equal(2, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(5, error.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task An_unknown_name_in_the_path_is_accepted_like_binance_and_subscriptions_follow()
    {
        // Binance accepts /ws/<anything> and lets the client SUBSCRIBE afterwards; ccxt connects to /public/ws/0.
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/public/ws/0");
        await ws.SendTextAsync("""{"method":"SUBSCRIBE","params":["btcusdt@bookTicker"],"id":2}""");
        Assert.Equal("""{"result":null,"id":2}""", (await ws.ReceiveJsonAsync()).GetRawText());
        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":3}""");
        Assert.Equal("""{"result":["btcusdt@bookTicker"],"id":3}""", (await ws.ReceiveJsonAsync()).GetRawText());
    }

    [Fact]
    public async Task Depth_diffs_sync_with_the_rest_snapshot_as_binance_documents()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/public/ws/btcusdt@depth@100ms");
        var rng = new Random(3);

        // Changes before and after the snapshot; the client buffers frames and syncs as documented.
        for (var i = 0; i < 5; i++)
        {
            sim.Engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 64999.9m - (0.1m * rng.Next(0, 5)), rng.Next(0, 10))]);
            await Task.Delay(30, TestContext.Current.CancellationToken);
        }

        var snapshot = await sim.GetJsonAsync("/fapi/v1/depth?symbol=BTCUSDT&limit=1000");
        for (var i = 0; i < 5; i++)
        {
            sim.Engine.ApplyLevels(Btc, [new LevelChange(BookSide.Ask, 65000.0m + (0.1m * rng.Next(0, 5)), rng.Next(0, 10))]);
            await Task.Delay(30, TestContext.Current.CancellationToken);
        }

        var finalId = sim.Engine.GetDepth(Btc, 1000).LastUpdateId;
        var book = new Dictionary<(char, decimal), decimal>();
        foreach (var side in new[] { ("bids", 'b'), ("asks", 'a') })
        {
            foreach (var level in snapshot.GetProperty(side.Item1).EnumerateArray())
            {
                book[(side.Item2, decimal.Parse(level[0].GetString()!, CultureInfo.InvariantCulture))] = decimal.Parse(level[1].GetString()!, CultureInfo.InvariantCulture);
            }
        }

        var lastUpdateId = snapshot.GetProperty("lastUpdateId").GetInt64();
        long previousU = -1;
        var applied = 0;
        while (previousU < finalId)
        {
            var e = await ws.ReceiveJsonAsync();
            Assert.Equal("depthUpdate", e.GetProperty("e").GetString());
            var first = e.GetProperty("U").GetInt64();
            var final = e.GetProperty("u").GetInt64();
            if (previousU >= 0)
            {
                Assert.Equal(previousU, e.GetProperty("pu").GetInt64());
            }

            previousU = final;
            if (final < lastUpdateId)
            {
                continue;
            }

            if (applied == 0)
            {
                Assert.True(first <= lastUpdateId + 1 && final >= lastUpdateId, $"first event {first}..{final} vs snapshot {lastUpdateId}");
            }

            applied++;
            foreach (var side in new[] { 'b', 'a' })
            {
                foreach (var level in e.GetProperty(side.ToString()).EnumerateArray())
                {
                    var price = decimal.Parse(level[0].GetString()!, CultureInfo.InvariantCulture);
                    var qty = decimal.Parse(level[1].GetString()!, CultureInfo.InvariantCulture);
                    if (qty == 0m)
                    {
                        book.Remove((side, price));
                    }
                    else
                    {
                        book[(side, price)] = qty;
                    }
                }
            }
        }

        var truth = sim.Engine.GetDepth(Btc, 1000);
        var expected = truth.Bids.Select(l => (('b', l.Price), l.Qty)).Concat(truth.Asks.Select(l => (('a', l.Price), l.Qty))).OrderBy(x => x.Item1).ToList();
        Assert.Equal(expected, book.Select(kv => (kv.Key, kv.Value)).OrderBy(x => x.Key).ToList());
        Assert.True(applied > 0);
    }

    [Fact]
    public async Task Partial_depth_stream_sends_the_top_levels()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/public/ws/btcusdt@depth5@100ms");
        var frame = await ws.ReceiveJsonAsync();
        Assert.Equal(["e", "E", "T", "s", "U", "u", "pu", "b", "a"], frame.PropertyNames());
        Assert.Equal(2, frame.GetProperty("b").GetArrayLength());
        Assert.Equal(sim.Engine.GetDepth(Btc, 5).LastUpdateId, frame.GetProperty("u").GetInt64());
    }

    [Fact]
    public async Task User_stream_pushes_order_trade_updates_and_account_updates()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await ListenKeyAsync(sim);
        using var ws = await sim.ConnectAsync("/private/ws/" + key);

        var (_, placed) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64999.9&newClientOrderId=u1"));
        var id = placed.GetProperty("orderId").GetInt64();
        var created = await ws.ReceiveJsonAsync();
        Assert.Equal(["e", "E", "T", "o"], created.PropertyNames());
        Assert.Equal("ORDER_TRADE_UPDATE", created.GetProperty("e").GetString());
        var o = created.GetProperty("o");
        Assert.Equal(NewOrderEventFields, o.PropertyNames());
        Assert.Equal("NEW", o.GetProperty("x").GetString());
        Assert.Equal("u1", o.GetProperty("c").GetString());
        Assert.Equal(id, o.GetProperty("i").GetInt64());
        Assert.Equal("GTX", o.GetProperty("f").GetString());
        Assert.Equal("649.99900000", o.GetProperty("b").GetString());

        await sim.SendAsync(sim.SignedAsync(HttpMethod.Put, "/fapi/v1/order", $"symbol=BTCUSDT&orderId={id}&side=BUY&quantity=0.010&price=64999.8"));
        var amended = (await ws.ReceiveJsonAsync()).GetProperty("o");
        Assert.Equal("AMENDMENT", amended.GetProperty("x").GetString());
        Assert.Equal("NEW", amended.GetProperty("X").GetString());
        Assert.Equal("64999.8", amended.GetProperty("p").GetString());

        sim.Engine.ApplyTrade(Btc, 64999.7m, 8m, buyerIsMaker: true); // through the 7 ahead of us at 64999.8 and our 0.010
        Assert.Equal("TRADE_LITE", (await ws.ReceiveJsonAsync()).GetProperty("e").GetString());
        var fill = (await ws.ReceiveJsonAsync()).GetProperty("o");
        Assert.Equal("TRADE", fill.GetProperty("x").GetString());
        Assert.Equal("FILLED", fill.GetProperty("X").GetString());
        Assert.Equal("0.010", fill.GetProperty("l").GetString());
        Assert.Equal("64999.8", fill.GetProperty("L").GetString());
        Assert.True(fill.GetProperty("m").GetBoolean());
        Assert.Equal("USDT", fill.GetProperty("N").GetString());
        Assert.Equal("0.12999960", fill.GetProperty("n").GetString());
        var account = await ws.ReceiveJsonAsync();
        Assert.Equal("ACCOUNT_UPDATE", account.GetProperty("e").GetString());
        Assert.Equal("ORDER", account.GetProperty("a").GetProperty("m").GetString());
        Assert.Equal("0.010", account.GetProperty("a").GetProperty("P")[0].GetProperty("pa").GetString());
    }

    [Fact]
    public async Task An_expired_listen_key_sends_listen_key_expired_then_closes()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await ListenKeyAsync(sim);
        using var ws = await sim.ConnectAsync("/private/ws/" + key);

        sim.Clock.Advance(TimeSpan.FromMinutes(60));

        var expired = await ws.ReceiveJsonAsync();
        Assert.Equal("listenKeyExpired", expired.GetProperty("e").GetString());
        Assert.Equal(key, expired.GetProperty("listenKey").GetString());
        var buffer = new byte[16];
        var closing = await ws.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
        Assert.Equal(WebSocketMessageType.Close, closing.MessageType);
    }

    [Fact]
    public async Task Websocket_api_places_and_rejects_orders_with_sorted_signatures()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(sim.Server.WebSocketApiUrl, TestContext.Current.CancellationToken);

        string Request(string id, string method, SortedDictionary<string, string> ps, bool sign = true)
        {
            ps["apiKey"] = sim.Server.ApiKey;
            ps["timestamp"] = sim.Clock.NowMs.ToString(CultureInfo.InvariantCulture);
            if (sign)
            {
                ps["signature"] = SimulatorFixture.Sign(sim.Server.ApiSecret, string.Join('&', ps.Select(kv => kv.Key + "=" + kv.Value)));
            }
            else
            {
                ps["signature"] = new string('f', 64);
            }

            return JsonSerializer.Serialize(new { id, method, @params = ps });
        }

        await ws.SendTextAsync(Request("a1", "order.place", new(StringComparer.Ordinal) { ["symbol"] = Btc, ["side"] = "BUY", ["type"] = "LIMIT", ["timeInForce"] = "GTX", ["quantity"] = "0.010", ["price"] = "64999.9" }));
        var placed = await ws.ReceiveJsonAsync();
        Assert.Equal(["id", "status", "result", "rateLimits"], placed.PropertyNames());
        Assert.Equal("a1", placed.GetProperty("id").GetString());
        Assert.Equal(200, placed.GetProperty("status").GetInt32());
        Assert.Equal("NEW", placed.GetProperty("result").GetProperty("status").GetString());
        Assert.Equal(1, placed.GetProperty("rateLimits")[1].GetProperty("count").GetInt32());

        await ws.SendTextAsync(Request("a2", "order.place", new(StringComparer.Ordinal) { ["symbol"] = Btc, ["side"] = "BUY", ["type"] = "LIMIT", ["timeInForce"] = "GTX", ["quantity"] = "0.010", ["price"] = "65000.0" }));
        var rejected = await ws.ReceiveJsonAsync();
        Assert.Equal(400, rejected.GetProperty("status").GetInt32());
        Assert.Equal(-5022, rejected.GetProperty("error").GetProperty("code").GetInt32());

        var orderId = placed.GetProperty("result").GetProperty("orderId").GetInt64().ToString(CultureInfo.InvariantCulture);
        await ws.SendTextAsync(Request("a3", "order.modify", new(StringComparer.Ordinal) { ["symbol"] = Btc, ["orderId"] = orderId, ["side"] = "BUY", ["quantity"] = "0.020", ["price"] = "64999.8" }));
        Assert.Equal("0.020", (await ws.ReceiveJsonAsync()).GetProperty("result").GetProperty("origQty").GetString());
        await ws.SendTextAsync(Request("a4", "order.status", new(StringComparer.Ordinal) { ["symbol"] = Btc, ["orderId"] = orderId }));
        Assert.Equal("64999.8", (await ws.ReceiveJsonAsync()).GetProperty("result").GetProperty("price").GetString());
        await ws.SendTextAsync(Request("a5", "order.cancel", new(StringComparer.Ordinal) { ["symbol"] = Btc, ["orderId"] = orderId }, sign: false));
        Assert.Equal(-1022, (await ws.ReceiveJsonAsync()).GetProperty("error").GetProperty("code").GetInt32());
        await ws.SendTextAsync(Request("a6", "order.cancel", new(StringComparer.Ordinal) { ["symbol"] = Btc, ["orderId"] = orderId }));
        Assert.Equal("CANCELED", (await ws.ReceiveJsonAsync()).GetProperty("result").GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("\"order.place\"")]
    [InlineData("""{"id":"m1","method":7}""")]
    [InlineData("""{"id":"m1","method":null}""")]
    public async Task A_websocket_api_message_that_is_no_request_object_gets_a_400_and_the_connection_stays(string request)
    {
        // was: the handler threw (InvalidOperationException) and the connection dropped without an answer
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/ws-fapi/v1");

        await ws.SendTextAsync(request);
        var error = await ws.ReceiveJsonAsync();
        Assert.Equal(400, error.GetProperty("status").GetInt32());
        Assert.True(error.GetProperty("error").GetProperty("code").GetInt32() < 0, error.GetRawText());

        await ws.SendTextAsync("""{"id":"t","method":"time"}""");
        Assert.Equal(200, (await ws.ReceiveJsonAsync()).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_websocket_api_message_over_the_size_limit_closes_the_connection_with_1009()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/ws-fapi/v1");
        var ct = TestContext.Current.CancellationToken;

        var message = System.Text.Encoding.UTF8.GetBytes("{\"id\":\"big\",\"method\":\"time\"" + new string(' ', 128 * 1024) + "}");
        try
        {
            for (var offset = 0; offset < message.Length; offset += 16 * 1024)
            {
                var count = Math.Min(16 * 1024, message.Length - offset);
                await ws.SendAsync(message.AsMemory(offset, count), WebSocketMessageType.Text, offset + count == message.Length, ct);
            }
        }
        catch (WebSocketException)
        {
            // the server closed while the rest was still going out
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(5000);
        var result = await ws.ReceiveAsync(new byte[1024], timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, result.CloseStatus);
    }
}
