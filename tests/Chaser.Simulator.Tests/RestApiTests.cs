using System.Globalization;
using System.Text.Json;
using Chaser.Simulator.Server;

namespace Chaser.Simulator.Tests;

public sealed class RestApiTests
{
    private const string Btc = SimulatorFixture.Btc;

    private static readonly string[] OrderFields =
    [
        "orderId", "symbol", "status", "clientOrderId", "price", "avgPrice", "origQty", "executedQty", "cumQty", "cumQuote",
        "timeInForce", "type", "reduceOnly", "closePosition", "side", "positionSide", "stopPrice", "workingType", "priceProtect",
        "origType", "priceMatch", "selfTradePreventionMode", "goodTillDate", "updateTime",
    ];

    [Fact]
    public async Task The_24h_ticker_has_binances_fields_and_types_and_agrees_with_the_tape()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var (status, json) = await sim.SendAsync(sim.Http.GetAsync($"/fapi/v1/ticker/24hr?symbol={Btc}", ct));

        Assert.Equal(200, status);
        Assert.Equal(
            ["symbol", "priceChange", "priceChangePercent", "weightedAvgPrice", "lastPrice", "lastQty", "openPrice", "highPrice", "lowPrice",
             "volume", "quoteVolume", "openTime", "closeTime", "firstId", "lastId", "count"],
            json.PropertyNames());
        foreach (var field in new[] { "priceChange", "lastPrice", "openPrice", "highPrice", "lowPrice", "volume", "quoteVolume", "weightedAvgPrice" })
        {
            Assert.Equal(JsonValueKind.String, json.GetProperty(field).ValueKind);
        }

        decimal Price(string field) => decimal.Parse(json.GetProperty(field).GetString()!, CultureInfo.InvariantCulture);
        Assert.True(Price("lowPrice") <= Price("lastPrice") && Price("lastPrice") <= Price("highPrice"));
        Assert.Equal(Price("lastPrice") - Price("openPrice"), Price("priceChange"));
        Assert.Equal(JsonValueKind.Number, json.GetProperty("count").ValueKind);

        var (_, all) = await sim.SendAsync(sim.Http.GetAsync("/fapi/v1/ticker/24hr", ct));
        Assert.Equal(JsonValueKind.Array, all.ValueKind);
        Assert.Equal(sim.Server.Engine.Symbols.Count, all.GetArrayLength());
    }

    [Fact]
    public void The_documented_signature_example_is_reproduced()
    {
        const string payload = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";
        Assert.Equal("3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9", RequestParameters.Sign(SimulatorOptions.DefaultApiSecret, payload));
    }

    [Fact]
    public async Task The_documented_signed_request_is_accepted_at_its_time()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1591702613943 + 300));
        await using var sim = await SimulatorFixture.StartAsync(clock: clock);
        var request = new HttpRequestMessage(HttpMethod.Post,
            "/fapi/v1/order?symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9");
        request.Headers.Add("X-MBX-APIKEY", "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83");

        var (status, json) = await sim.SendAsync(sim.Http.SendAsync(request, TestContext.Current.CancellationToken));

        Assert.Equal(200, status);
        Assert.Equal(OrderFields, json.PropertyNames());
        Assert.Equal("NEW", json.GetProperty("status").GetString());
        Assert.Equal("9000.0", json.GetProperty("price").GetString());
        Assert.Equal("1.000", json.GetProperty("origQty").GetString());
        Assert.Equal(JsonValueKind.Number, json.GetProperty("orderId").ValueKind);
        Assert.Equal(JsonValueKind.False, json.GetProperty("reduceOnly").ValueKind);
    }

    [Fact]
    public async Task Signature_key_and_timestamp_failures_use_binance_codes()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var query = "symbol=BTCUSDT";
        var now = sim.Clock.NowMs;

        var bad = new HttpRequestMessage(HttpMethod.Get, $"/fapi/v1/openOrders?{query}&timestamp={now}&signature={new string('0', 64)}");
        bad.Headers.Add("X-MBX-APIKEY", sim.Server.ApiKey);
        var (status, json) = await sim.SendAsync(sim.Http.SendAsync(bad, TestContext.Current.CancellationToken));
        Assert.Equal(400, status);
        Assert.Equal("""{"code":-1022,"msg":"Signature for this request is not valid."}""", json.GetRawText());

        (status, json) = await sim.SendAsync(sim.Http.GetAsync($"/fapi/v1/openOrders?{query}&timestamp={now}&signature=abc", TestContext.Current.CancellationToken));
        Assert.Equal(401, status);
        Assert.Equal(-2014, json.GetProperty("code").GetInt32());

        (status, json) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/openOrders", query, apiKey: "not-our-key"));
        Assert.Equal(401, status);
        Assert.Equal("Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1", json.GetProperty("msg").GetString());

        (status, json) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/openOrders", query, timestamp: now - 5001));
        Assert.Equal(400, status);
        Assert.Equal("""{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}""", json.GetRawText());

        (status, _) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/openOrders", query, timestamp: now - 5000));
        Assert.Equal(200, status);

        (status, _) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/openOrders", query + "&recvWindow=10000", timestamp: now - 9000));
        Assert.Equal(200, status);

        (status, json) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/openOrders", query, timestamp: now + 1000));
        Assert.Equal(400, status);
        Assert.Equal("Timestamp for this request was 1000ms ahead of the server's time.", json.GetProperty("msg").GetString());

        (status, _) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/openOrders", query, timestamp: now + 999));
        Assert.Equal(200, status);

        var unsigned = new HttpRequestMessage(HttpMethod.Get, $"/fapi/v1/openOrders?{query}&timestamp={now}");
        unsigned.Headers.Add("X-MBX-APIKEY", sim.Server.ApiKey);
        (status, json) = await sim.SendAsync(sim.Http.SendAsync(unsigned, TestContext.Current.CancellationToken));
        Assert.Equal(400, status);
        Assert.Equal("Mandatory parameter 'signature' was not sent, was empty/null, or malformed.", json.GetProperty("msg").GetString());
    }

    [Fact]
    public async Task A_crossing_post_only_order_is_rejected_with_5022_and_cannot_be_found()
    {
        await using var sim = await SimulatorFixture.StartAsync();

        var (status, json) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order",
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=65000.0&newClientOrderId=cross1"));

        Assert.Equal(400, status);
        Assert.Equal("""{"code":-5022,"msg":"Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history"}""", json.GetRawText());
        (status, json) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=cross1"));
        Assert.Equal(400, status);
        Assert.Equal(-2013, json.GetProperty("code").GetInt32());
        (_, json) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/allOrders", "symbol=BTCUSDT"));
        Assert.Equal(0, json.GetArrayLength());
    }

    [Fact]
    public async Task Place_modify_cancel_and_query_over_rest_with_a_form_body()
    {
        await using var sim = await SimulatorFixture.StartAsync();

        var (status, placed) = await sim.SendAsync(sim.SignedBodyAsync(HttpMethod.Post, "/fapi/v1/order",
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64999.9&newClientOrderId=chase-1&newOrderRespType=RESULT"));
        Assert.Equal(200, status);
        Assert.Equal("GTX", placed.GetProperty("timeInForce").GetString());
        Assert.Equal("0.00000", placed.GetProperty("avgPrice").GetString());
        var id = placed.GetProperty("orderId").GetInt64();

        var (_, modified) = await sim.SendAsync(sim.SignedBodyAsync(HttpMethod.Put, "/fapi/v1/order",
            $"symbol=BTCUSDT&orderId={id}&side=BUY&quantity=0.020&price=64999.8"));
        Assert.Equal(id, modified.GetProperty("orderId").GetInt64());
        Assert.Equal("64999.8", modified.GetProperty("price").GetString());
        Assert.Equal("0.020", modified.GetProperty("origQty").GetString());

        var (_, open) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/openOrders", "symbol=BTCUSDT"));
        Assert.Equal(1, open.GetArrayLength());
        Assert.Equal([.. OrderFields[..^1], "time", "updateTime"], open[0].PropertyNames());

        var (_, canceled) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Delete, "/fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=chase-1"));
        Assert.Equal("CANCELED", canceled.GetProperty("status").GetString());

        var (cancelAgain, error) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Delete, "/fapi/v1/order", $"symbol=BTCUSDT&orderId={id}"));
        Assert.Equal(400, cancelAgain);
        Assert.Equal("""{"code":-2011,"msg":"Unknown order sent."}""", error.GetRawText());

        var (_, queried) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/order", $"symbol=BTCUSDT&orderId={id}"));
        Assert.Equal("CANCELED", queried.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Filter_failures_come_back_as_binance_errors()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        async Task<int> Code(string query)
        {
            var (status, json) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order", query));
            Assert.Equal(400, status);
            return json.GetProperty("code").GetInt32();
        }

        Assert.Equal(-4014, await Code("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=64999.95"));
        Assert.Equal(-4164, await Code("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=64999.9"));
        Assert.Equal(-4015, await Code("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=64999.9&newClientOrderId=has%20space"));
        Assert.Equal(-1121, await Code("symbol=DOGEUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=10&price=1"));
        Assert.Equal(-1102, await Code("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.010&price=64999.9"));
        Assert.Equal(-1116, await Code("symbol=BTCUSDT&side=BUY&type=FANCY&quantity=0.010"));
        Assert.Equal(-4120, await Code("symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=0.010"));
    }

    [Fact]
    public async Task Market_data_endpoints_have_binance_shapes()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        sim.Engine.ApplyTrade(Btc, 64999.9m, 0.5m, buyerIsMaker: true);

        var info = await sim.GetJsonAsync("/fapi/v1/exchangeInfo");
        Assert.Equal(3, info.GetProperty("rateLimits").GetArrayLength());
        var btc = info.GetProperty("symbols").EnumerateArray().Single(s => s.GetProperty("symbol").GetString() == Btc);
        Assert.Equal(2, btc.GetProperty("pricePrecision").GetInt32());
        var filters = btc.GetProperty("filters").EnumerateArray().ToDictionary(f => f.GetProperty("filterType").GetString()!);
        Assert.Equal(["PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "MAX_NUM_ORDERS", "MAX_NUM_ALGO_ORDERS", "MIN_NOTIONAL", "PERCENT_PRICE"], filters.Keys);
        Assert.Equal("0.10", filters["PRICE_FILTER"].GetProperty("tickSize").GetString());
        Assert.Equal("0.001", filters["LOT_SIZE"].GetProperty("stepSize").GetString());
        Assert.Equal("100", filters["MIN_NOTIONAL"].GetProperty("notional").GetString());
        Assert.Equal("1.0500", filters["PERCENT_PRICE"].GetProperty("multiplierUp").GetString());
        Assert.Equal(["GTC", "IOC", "FOK", "GTX", "GTD"], btc.GetProperty("timeInForce").EnumerateArray().Select(e => e.GetString()));

        var depth = await sim.GetJsonAsync("/fapi/v1/depth?symbol=BTCUSDT&limit=5");
        Assert.Equal(["lastUpdateId", "E", "T", "bids", "asks"], depth.PropertyNames());
        Assert.Equal("""["64999.9","5.000"]""", depth.GetProperty("bids")[0].GetRawText());
        Assert.Equal(sim.Engine.GetDepth(Btc, 5).LastUpdateId, depth.GetProperty("lastUpdateId").GetInt64());

        var ticker = await sim.GetJsonAsync("/fapi/v1/ticker/bookTicker?symbol=BTCUSDT");
        Assert.Equal(["symbol", "bidPrice", "bidQty", "askPrice", "askQty", "time", "lastUpdateId"], ticker.PropertyNames());
        Assert.Equal("65000.0", ticker.GetProperty("askPrice").GetString());
        Assert.Equal(JsonValueKind.Array, (await sim.GetJsonAsync("/fapi/v1/ticker/bookTicker")).ValueKind);

        var price = await sim.GetJsonAsync("/fapi/v1/ticker/price?symbol=BTCUSDT");
        Assert.Equal("64999.9", price.GetProperty("price").GetString());

        var trades = await sim.GetJsonAsync("/fapi/v1/trades?symbol=BTCUSDT");
        Assert.Equal(["id", "price", "qty", "quoteQty", "time", "isBuyerMaker"], trades[0].PropertyNames());
        Assert.True(trades[0].GetProperty("isBuyerMaker").GetBoolean());
        var agg = await sim.GetJsonAsync("/fapi/v1/aggTrades?symbol=BTCUSDT");
        Assert.Equal(["a", "p", "q", "f", "l", "T", "m"], agg[0].PropertyNames());

        var premium = await sim.GetJsonAsync("/fapi/v1/premiumIndex?symbol=BTCUSDT");
        Assert.Equal("64999.90000000", premium.GetProperty("markPrice").GetString());
        Assert.Equal(JsonValueKind.Object, (await sim.GetJsonAsync("/fapi/v1/ping")).ValueKind);
        Assert.Equal(sim.Clock.NowMs, (await sim.GetJsonAsync("/fapi/v1/time")).GetProperty("serverTime").GetInt64());
    }

    [Fact]
    public async Task Fills_show_up_in_user_trades_account_balance_and_position_risk()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var (_, placed) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64999.9"));
        sim.Engine.ApplyTrade(Btc, 64999.8m, 6m, buyerIsMaker: true); // through the 5 ahead of us and our 0.010

        var (_, trades) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/userTrades", "symbol=BTCUSDT"));
        var trade = Assert.Single(trades.EnumerateArray());
        Assert.Equal(placed.GetProperty("orderId").GetInt64(), trade.GetProperty("orderId").GetInt64());
        Assert.True(trade.GetProperty("maker").GetBoolean());
        Assert.True(trade.GetProperty("buyer").GetBoolean());
        Assert.Equal("0.12999980", trade.GetProperty("commission").GetString()); // 0.010 × 64999.9 × 0.02 %

        var (_, risk) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v2/positionRisk", "symbol=BTCUSDT"));
        Assert.Equal("0.010", risk[0].GetProperty("positionAmt").GetString());
        var (_, v3) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v3/positionRisk", string.Empty));
        Assert.Equal(1, v3.GetArrayLength());

        var (_, balance) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v2/balance", string.Empty));
        Assert.Equal("99999.87000020", balance[0].GetProperty("balance").GetString());
        var (_, account) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v3/account", string.Empty));
        Assert.Equal("99999.87000020", account.GetProperty("totalWalletBalance").GetString());
        Assert.Equal(1, account.GetProperty("positions").GetArrayLength());

        var (_, fees) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/commissionRate", "symbol=BTCUSDT"));
        Assert.Equal("""{"symbol":"BTCUSDT","makerCommissionRate":"0.0002","takerCommissionRate":"0.0005"}""", fees.GetRawText());
    }

    [Fact]
    public async Task Order_modify_history_lists_each_successful_modify_newest_first()
    {
        // Binance's own USDⓈ-M connector calls it (getOrderModifyHistory); the simulator answered 404 before.
        await using var sim = await SimulatorFixture.StartAsync();
        var (_, placed) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64990.0&newClientOrderId=amend-1"));
        var orderId = placed.GetProperty("orderId").GetInt64();
        var (first, _) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Put, "/fapi/v1/order", $"symbol=BTCUSDT&orderId={orderId}&side=BUY&quantity=0.010&price=64991.0"));
        sim.Clock.Advance(TimeSpan.FromSeconds(1));
        var (second, _) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Put, "/fapi/v1/order", $"symbol=BTCUSDT&orderId={orderId}&side=BUY&quantity=0.020&price=64991.0"));
        var (refused, _) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Put, "/fapi/v1/order", $"symbol=BTCUSDT&orderId={orderId}&side=BUY&quantity=0.020&price=64991.0"));
        Assert.Equal((200, 200, 400), (first, second, refused)); // the third changes nothing (-5027): not an amendment

        var (status, history) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/orderAmendment", "symbol=BTCUSDT&origClientOrderId=amend-1"));
        Assert.Equal(200, status);
        Assert.Equal(2, history.GetArrayLength());
        var newest = history[0];
        Assert.Equal(orderId, newest.GetProperty("orderId").GetInt64());
        Assert.Equal("amend-1", newest.GetProperty("clientOrderId").GetString());
        Assert.Equal("BTCUSDT", newest.GetProperty("pair").GetString());
        Assert.Equal(sim.Clock.NowMs, newest.GetProperty("time").GetInt64());
        Assert.Equal("""{"price":{"before":"64991.0","after":"64991.0"},"origQty":{"before":"0.010","after":"0.020"},"count":2}""", newest.GetProperty("amendment").GetRawText());
        Assert.Equal("""{"price":{"before":"64990.0","after":"64991.0"},"origQty":{"before":"0.010","after":"0.010"},"count":1}""", history[1].GetProperty("amendment").GetRawText());
        Assert.True(newest.GetProperty("amendmentId").GetInt64() > history[1].GetProperty("amendmentId").GetInt64());

        var (_, limited) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/orderAmendment", $"symbol=BTCUSDT&orderId={orderId}&limit=1&endTime={sim.Clock.NowMs - 1}"));
        Assert.Equal(1, Assert.Single(limited.EnumerateArray()).GetProperty("amendment").GetProperty("count").GetInt32());

        var (unknown, error) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/orderAmendment", "symbol=BTCUSDT&orderId=1"));
        Assert.Equal((400, -2013), (unknown, error.GetProperty("code").GetInt32()));
        var (neither, missing) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/orderAmendment", "symbol=BTCUSDT"));
        Assert.Equal((400, -1102), (neither, missing.GetProperty("code").GetInt32()));
    }

    [Fact]
    public async Task Batch_orders_answer_per_element_in_request_order()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var batch = Uri.EscapeDataString("""[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTX","quantity":"0.010","price":"64999.9"},{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTX","quantity":"0.010","price":"65000.1"},{"symbol":"BTCUSDT","side":"SELL","type":"LIMIT","timeInForce":"GTX","quantity":"0.010","price":"65000.1"}]""");

        var (status, json) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/batchOrders", "batchOrders=" + batch));

        Assert.Equal(200, status);
        Assert.Equal(3, json.GetArrayLength());
        Assert.Equal("NEW", json[0].GetProperty("status").GetString());
        Assert.Equal(-5022, json[1].GetProperty("code").GetInt32());
        Assert.Equal("SELL", json[2].GetProperty("side").GetString());

        var ids = $"[{json[0].GetProperty("orderId").GetInt64()},{json[2].GetProperty("orderId").GetInt64()},1]";
        var (_, canceled) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Delete, "/fapi/v1/batchOrders", "symbol=BTCUSDT&orderIdList=" + Uri.EscapeDataString(ids)));
        Assert.Equal("CANCELED", canceled[0].GetProperty("status").GetString());
        Assert.Equal(-2011, canceled[2].GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Listen_key_lifecycle_and_leverage_and_trading_status()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var post = new HttpRequestMessage(HttpMethod.Post, "/fapi/v1/listenKey");
        post.Headers.Add("X-MBX-APIKEY", sim.Server.ApiKey);
        var (_, created) = await sim.SendAsync(sim.Http.SendAsync(post, TestContext.Current.CancellationToken));
        var key = created.GetProperty("listenKey").GetString()!;
        Assert.Equal(64, key.Length);

        var again = new HttpRequestMessage(HttpMethod.Post, "/fapi/v1/listenKey");
        again.Headers.Add("X-MBX-APIKEY", sim.Server.ApiKey);
        var (_, same) = await sim.SendAsync(sim.Http.SendAsync(again, TestContext.Current.CancellationToken));
        Assert.Equal(key, same.GetProperty("listenKey").GetString());

        sim.Clock.Advance(TimeSpan.FromMinutes(61));
        var put = new HttpRequestMessage(HttpMethod.Put, "/fapi/v1/listenKey");
        put.Headers.Add("X-MBX-APIKEY", sim.Server.ApiKey);
        var (status, expired) = await sim.SendAsync(sim.Http.SendAsync(put, TestContext.Current.CancellationToken));
        Assert.Equal(400, status);
        Assert.Equal(-1125, expired.GetProperty("code").GetInt32());

        var (_, leverage) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/leverage", "symbol=BTCUSDT&leverage=5"));
        Assert.Equal(5, leverage.GetProperty("leverage").GetInt32());

        var (_, placed) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64999.9"));
        await sim.SendAsync(sim.SignedAsync(HttpMethod.Delete, "/fapi/v1/order", $"symbol=BTCUSDT&orderId={placed.GetProperty("orderId").GetInt64()}"));
        var (_, trading) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Get, "/fapi/v1/apiTradingStatus", string.Empty));
        var gcr = trading.GetProperty("indicators").GetProperty(Btc)[0];
        Assert.Equal("GCR", gcr.GetProperty("indicator").GetString());
        Assert.Equal(1m, gcr.GetProperty("value").GetDecimal());
    }

    [Fact]
    public async Task Request_weight_limit_answers_429_then_bans_with_418()
    {
        await using var sim = await SimulatorFixture.StartAsync(o => o with { RateLimits = new RateLimitOptions { RequestWeightPerMinute = 10 } });
        for (var i = 1; i <= 10; i++)
        {
            using var ok = await sim.Http.GetAsync("/fapi/v1/ping", TestContext.Current.CancellationToken);
            Assert.Equal(200, (int)ok.StatusCode);
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), ok.Headers.GetValues("X-MBX-USED-WEIGHT-1M").Single());
        }

        using (var limited = await sim.Http.GetAsync("/fapi/v1/ping", TestContext.Current.CancellationToken))
        {
            Assert.Equal(429, (int)limited.StatusCode);
            Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture) is > 0 and <= 60);
            var body = JsonDocument.Parse(await limited.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
            Assert.Equal(-1003, body.GetProperty("code").GetInt32());
        }

        using (var banned = await sim.Http.GetAsync("/fapi/v1/ping", TestContext.Current.CancellationToken))
        {
            Assert.Equal(418, (int)banned.StatusCode);
            Assert.Equal("120", banned.Headers.GetValues("Retry-After").Single());
            var msg = JsonDocument.Parse(await banned.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("msg").GetString();
            Assert.StartsWith("Way too many requests; IP(127.0.0.1) banned until ", msg, StringComparison.Ordinal);
        }

        sim.Clock.Advance(TimeSpan.FromMinutes(2));
        using var after = await sim.Http.GetAsync("/fapi/v1/ping", TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)after.StatusCode);
    }

    [Fact]
    public async Task Order_count_limits_per_ten_seconds_with_headers()
    {
        await using var sim = await SimulatorFixture.StartAsync(o => o with { RateLimits = new RateLimitOptions { OrdersPer10Seconds = 3 } });
        for (var i = 1; i <= 3; i++)
        {
            using var ok = await sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64999.9");
            Assert.Equal(200, (int)ok.StatusCode);
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), ok.Headers.GetValues("X-MBX-ORDER-COUNT-10S").Single());
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), ok.Headers.GetValues("X-MBX-ORDER-COUNT-1M").Single());
        }

        var (status, json) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64999.9"));
        Assert.Equal(429, status);
        Assert.Equal("""{"code":-1015,"msg":"Too many new orders; current limit is 3 orders per TEN_SECONDS."}""", json.GetRawText());
        Assert.Equal(3, sim.Engine.GetOpenOrders(Btc).Count);

        sim.Clock.Advance(TimeSpan.FromSeconds(10));
        (status, _) = await sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64999.9"));
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Unknown_paths_are_404()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var response = await sim.Http.GetAsync("/fapi/v1/nothing", TestContext.Current.CancellationToken);
        Assert.Equal(404, (int)response.StatusCode);
    }
}
