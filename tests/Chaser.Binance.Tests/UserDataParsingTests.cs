using Chaser.Binance.Parsing;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;

namespace Chaser.Binance.Tests;

public sealed class UserDataParsingTests
{
    private static readonly DateTimeOffset Received = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Order_trade_update_new_is_an_accepted_order()
    {
        var strings = new Utf8StringCache();
        var id = strings.Register("chs-42-1");
        var parser = new UserDataParser(strings);
        var frame = Payload.Bytes("orderTradeUpdate-new.json");

        Assert.Equal(UserEventType.OrderTradeUpdate, UserDataParser.EventType(frame));
        var update = parser.ParseOrderTradeUpdate(frame);

        Assert.Same(id, update.ClientOrderId);
        Assert.Equal(("BTCUSDT", Side.Buy, "LIMIT", "GTX"), (update.Symbol, update.Side, update.OrderType, update.TimeInForce));
        Assert.Equal((ExecutionType.New, BinanceOrderStatus.New, 8886774L), (update.Execution, update.Status, update.OrderId));
        Assert.Equal((65000.1m, 0.01m), (update.Price, update.OriginalQuantity));
        Assert.Equal((1568879465651L, 1568879465650L), (update.EventTimeMs, update.TransactionTimeMs));

        var core = OrderEventMapping.ToCore(update, Received);
        Assert.Equal(CoreOrderEventKind.Accepted, core.Kind);
        Assert.Equal(
            new OrderAccepted("chs-42-1", 8886774, 65000.1m, 0.01m, false, DateTimeOffset.FromUnixTimeMilliseconds(1568879465650), Received),
            core.Accepted);
    }

    [Fact]
    public void Order_trade_update_trade_is_a_partial_fill()
    {
        var parser = new UserDataParser(new Utf8StringCache());

        var update = parser.ParseOrderTradeUpdate(Payload.Bytes("orderTradeUpdate-trade.json"));
        var core = OrderEventMapping.ToCore(update, Received);

        Assert.Equal(CoreOrderEventKind.Fill, core.Kind);
        Assert.Equal(
            new Fill("chs-42-1", 7712345, 65000.1m, 0.004m, 0.05200008m, "USDT", true, 0.004m, false,
                DateTimeOffset.FromUnixTimeMilliseconds(1568879466648), Received),
            core.Fill);
        Assert.Equal(65000.1m, update.AveragePrice);
    }

    [Fact]
    public void Order_trade_update_last_trade_fills_the_order()
    {
        var parser = new UserDataParser(new Utf8StringCache());

        var core = OrderEventMapping.ToCore(parser.ParseOrderTradeUpdate(Payload.Bytes("orderTradeUpdate-filled.json")), Received);

        Assert.Equal(CoreOrderEventKind.Fill, core.Kind);
        Assert.True(core.Fill.OrderFullyFilled);
        Assert.Equal((0.006m, 0.010m, 7712346L), (core.Fill.Quantity, core.Fill.CumulativeQuantity, core.Fill.TradeId));
    }

    [Fact]
    public void Amendment_is_an_accepted_modify_at_the_new_price()
    {
        var parser = new UserDataParser(new Utf8StringCache());

        var core = OrderEventMapping.ToCore(parser.ParseOrderTradeUpdate(Payload.Bytes("orderTradeUpdate-amendment.json")), Received);

        Assert.Equal(CoreOrderEventKind.Accepted, core.Kind);
        Assert.True(core.Accepted.IsModify);
        Assert.Equal((8886774L, 65000.3m), (core.Accepted.ExchangeOrderId, core.Accepted.Price));
    }

    [Fact]
    public void Cancel_finishes_with_the_executed_quantity()
    {
        var parser = new UserDataParser(new Utf8StringCache());

        var core = OrderEventMapping.ToCore(parser.ParseOrderTradeUpdate(Payload.Bytes("orderTradeUpdate-canceled.json")), Received);

        Assert.Equal(CoreOrderEventKind.Finished, core.Kind);
        Assert.Equal(
            new OrderFinished("chs-42-2", ExchangeOrderStatus.Canceled, 0.003m, DateTimeOffset.FromUnixTimeMilliseconds(1568879467999), Received),
            core.Finished);
    }

    [Fact]
    public void Expired_in_match_finishes_as_expired()
    {
        var parser = new UserDataParser(new Utf8StringCache());

        var update = parser.ParseOrderTradeUpdate(Payload.Bytes("orderTradeUpdate-expired-in-match.json"));
        var core = OrderEventMapping.ToCore(update, Received);

        Assert.Equal(BinanceOrderStatus.ExpiredInMatch, update.Status);
        Assert.Equal(1, update.ExpiryReason);
        Assert.Equal(CoreOrderEventKind.Finished, core.Kind);
        Assert.Equal(ExchangeOrderStatus.Expired, core.Finished.Status);
    }

    [Fact]
    public void Account_update_golden()
    {
        var parser = new UserDataParser(new Utf8StringCache());
        var frame = Payload.Bytes("accountUpdate.json");

        Assert.Equal(UserEventType.AccountUpdate, UserDataParser.EventType(frame));
        var update = parser.ParseAccountUpdate(frame);

        Assert.Equal("ORDER", update.Reason);
        Assert.Equal(1564745798938, update.TransactionTimeMs);
        Assert.Equal([new BalanceUpdate("USDT", 122624.12345678m, 100.12345678m, 50.12345678m), new BalanceUpdate("BUSD", 1m, 0m, -49.12345678m)], update.Balances);
        Assert.Equal(2, update.Positions.Count);
        Assert.Equal(new PositionUpdate("BTCUSDT", 20m, 6563.665m, 6563.6m, 0m, 2850.212m, "isolated", "LONG"), update.Positions[1]);
    }

    [Fact]
    public void Listen_key_expired_with_string_event_time_inside_an_envelope()
    {
        var payload = Parsing.CombinedStream.Payload(Payload.Bytes("listenKeyExpired.json"));

        Assert.Equal(UserEventType.ListenKeyExpired, UserDataParser.EventType(payload));
        var expired = UserDataParser.ParseListenKeyExpired(payload);

        Assert.Equal(1736996475556, expired.EventTimeMs);
        Assert.Equal("WsCMN0a4KHUPTQuX6IUnqEZfB1inxmv1qR4kbf1LuEjur5VdbzqvyxqG9TSjVVxv", expired.ListenKey);
    }

    [Fact]
    public void Order_update_without_identity_fields_is_refused()
    {
        var parser = new UserDataParser(new Utf8StringCache());

        Assert.ThrowsAny<System.Text.Json.JsonException>(() => parser.ParseOrderTradeUpdate(
            """{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","x":"NEW","X":"NEW","i":1}}"""u8));
    }

    [Fact]
    public void String_cache_returns_one_instance_per_text_and_unescapes()
    {
        var strings = new Utf8StringCache();
        var parser = new UserDataParser(strings);
        var frame = Payload.Bytes("orderTradeUpdate-trade.json");

        var first = parser.ParseOrderTradeUpdate(frame).ClientOrderId;
        var second = parser.ParseOrderTradeUpdate(frame).ClientOrderId;
        var escaped = parser.ParseOrderTradeUpdate(System.Text.Encoding.UTF8.GetBytes(
            System.Text.Encoding.UTF8.GetString(frame).Replace("\"c\": \"chs-42-1\"", "\"c\": \"chs\\u002d42-1\"", StringComparison.Ordinal))).ClientOrderId;

        Assert.Same(first, second);
        Assert.Same(first, escaped);
    }

    [Fact]
    public void Parsing_order_trade_updates_allocates_nothing_once_strings_are_known()
    {
        var strings = new Utf8StringCache();
        var parser = new UserDataParser(strings);
        var frame = Payload.Bytes("orderTradeUpdate-trade.json");
        decimal sum = 0;
        var allocated = Allocations.Minimum(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                sum += OrderEventMapping.ToCore(parser.ParseOrderTradeUpdate(frame), Received).Fill.Quantity;
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(4m * 8, sum);
    }
}
