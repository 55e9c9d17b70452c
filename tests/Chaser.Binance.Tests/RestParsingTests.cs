using System.Text;
using Chaser.Binance.Parsing;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;

namespace Chaser.Binance.Tests;

public sealed class RestParsingTests
{
    [Fact]
    public void Post_only_reject_body_maps_to_post_only_would_cross()
    {
        Assert.True(RestResponseParser.TryParseError(Payload.Bytes("error-post-only.json"), 400, out var error));

        Assert.Equal(-5022, error.Code);
        Assert.Equal(RejectKind.PostOnlyWouldCross, error.Kind);
        Assert.StartsWith("Due to the order could not be executed as maker", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"code":-2011,"msg":"Unknown order sent."}""", 400, RejectKind.UnknownOrder)]
    [InlineData("""{"code":-1003,"msg":"Too many requests."}""", 429, RejectKind.Retryable)]
    [InlineData("""{"code":-4164,"msg":"Order's notional must be no smaller than 100"}""", 400, RejectKind.Fatal)]
    [InlineData("""{"msg":"x","code":-1021}""", 400, RejectKind.Retryable)]
    [InlineData("""{"msg":"Price not increased by tick size.","code":-4014}""", 400, RejectKind.Fatal)]
    public void Error_bodies_are_classified_by_core(string body, int status, RejectKind expected)
    {
        Assert.True(RestResponseParser.TryParseError(Encoding.UTF8.GetBytes(body), status, out var error));

        Assert.Equal(expected, error.Kind);
    }

    [Fact]
    public void Rest_book_ticker_parses_to_a_book_top_with_its_update_id()
    {
        var top = RestResponseParser.ParseBookTicker(Payload.Bytes("rest-bookTicker.json"));

        Assert.Equal(new BookTop(4.00000000m, 431m, 4.00000200m, 9m, 1027024, DateTimeOffset.FromUnixTimeMilliseconds(1589437530011)), top);
    }

    [Fact]
    public void Rest_book_ticker_without_a_side_is_refused()
    {
        Assert.Throws<System.Text.Json.JsonException>(() => RestResponseParser.ParseBookTicker("""{"symbol":"BTCUSDT","bidPrice":"1","bidQty":"1","askPrice":"2"}"""u8));
    }

    [Theory]
    [InlineData("<html><body>403 Forbidden</body></html>")]
    [InlineData("{\"serverTime\":1}")]
    [InlineData("")]
    public void Non_error_bodies_are_not_errors(string body)
    {
        Assert.False(RestResponseParser.TryParseError(Encoding.UTF8.GetBytes(body), 403, out _));
    }

    [Fact]
    public void Order_response_golden()
    {
        var parser = new RestResponseParser(new Utf8StringCache());

        var order = parser.ParseOrder(Payload.Bytes("order-response.json"));

        Assert.Equal(new OrderResponse("BTCUSDT", 22542179, "chs-42-1", BinanceOrderStatus.New, Side.Buy, 65000.1m, 0.01m, 0m, 0m, 1566818724722), order);
        var received = DateTimeOffset.UnixEpoch.AddDays(1);
        Assert.Equal(new OrderAccepted("chs-42-1", 22542179, 65000.1m, 0.01m, false, DateTimeOffset.FromUnixTimeMilliseconds(1566818724722), received), order.ToAccepted(false, received));
        Assert.Equal(new OrderStatusReport("chs-42-1", true, ExchangeOrderStatus.New, 65000.1m, 0.01m, 0m, received), order.ToStatusReport(received));
    }

    [Fact]
    public void Open_orders_is_an_array_of_orders()
    {
        var parser = new RestResponseParser(new Utf8StringCache());
        var one = Encoding.UTF8.GetString(Payload.Bytes("order-response.json"));

        var orders = parser.ParseOrders(Encoding.UTF8.GetBytes($"[{one},{one.Replace("22542179", "22542180", StringComparison.Ordinal)}]"));

        Assert.Equal([22542179L, 22542180L], orders.Select(o => o.OrderId));
    }

    [Fact]
    public void User_trades_golden()
    {
        var parser = new RestResponseParser(new Utf8StringCache());

        var trade = Assert.Single(parser.ParseUserTrades(Payload.Bytes("userTrades.json")));

        Assert.Equal(new UserTrade("BTCUSDT", 698759, 25851813, Side.Sell, 7819.01m, 0.002m, -0.0781901m, "USDT", false, 1569514978020), trade);
        var fill = trade.ToFill("chs-1-1", 0.002m, true, DateTimeOffset.UnixEpoch);
        Assert.Equal(("chs-1-1", 698759L, 0.002m, true), (fill.ClientOrderId, fill.TradeId, fill.Quantity, fill.OrderFullyFilled));
    }

    [Fact]
    public void Depth_snapshot_golden()
    {
        var snapshot = RestResponseParser.ParseDepthSnapshot(Payload.Bytes("depth-snapshot.json"));

        Assert.Equal((1027024L, 1589436922972L, 1589436922959L), (snapshot.LastUpdateId, snapshot.EventTimeMs, snapshot.TransactionTimeMs));
        Assert.Equal([new PriceLevel(4m, 431m)], snapshot.Bids);
        Assert.Equal([new PriceLevel(4.000002m, 12m)], snapshot.Asks);
    }

    [Fact]
    public void Server_time_and_listen_key()
    {
        Assert.Equal(1499827319559, RestResponseParser.ParseServerTime("""{"serverTime":1499827319559}"""u8));
        Assert.Equal("pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1",
            RestResponseParser.ParseListenKey("""{"listenKey":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"}"""u8));
    }

    [Fact]
    public void Exchange_info_gives_rules_and_rate_limits()
    {
        var info = RestResponseParser.ParseExchangeInfo(Payload.Bytes("exchangeInfo.json"));

        Assert.Equal(1565613908500, info.ServerTimeMs);
        Assert.Equal(3, info.RateLimits.Count);
        Assert.Equal(new RateLimitRule("ORDERS", "SECOND", 10, 300), info.RateLimits[2]);
        Assert.Equal(TimeSpan.FromSeconds(10), info.RateLimits[2].Window);

        var btc = info.Symbols["BTCUSDT"];
        Assert.Equal((0.1m, 556.8m, 4529764m), (btc.TickSize, btc.MinPrice, btc.MaxPrice));
        Assert.Equal((0.001m, 0.001m, 1000m), (btc.StepSize, btc.MinQty, btc.MaxQty));
        Assert.Equal(120m, btc.MarketMaxQty);
        Assert.Equal(100m, btc.MinNotional);
        Assert.Equal((1.05m, 0.95m), (btc.PercentPriceMultiplierUp, btc.PercentPriceMultiplierDown));
        Assert.Equal(200, btc.MaxOpenOrders);
        Assert.Equal((2, 3), (btc.PricePrecision, btc.QuantityPrecision));
        Assert.Equal("TRADING", info.SymbolStatus["BTCUSDT"]);
        Assert.Equal((0.01m, 20m), (info.Symbols["ETHUSDT"].TickSize, info.Symbols["ETHUSDT"].MinNotional));
    }
}
