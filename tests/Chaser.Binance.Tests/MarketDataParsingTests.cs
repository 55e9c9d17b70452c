using System.Text;
using System.Text.Json;
using Chaser.Binance.Parsing;
using Chaser.Core.Market;

namespace Chaser.Binance.Tests;

public sealed class MarketDataParsingTests
{
    [Fact]
    public void Book_ticker_golden()
    {
        var parser = new MarketDataParser();

        Assert.Equal(MarketEventType.BookTicker, parser.Parse(Payload.Bytes("bookTicker.json")));

        var update = parser.BookTicker;
        Assert.Equal(new BookTickerUpdate("BNBUSDT", 400900217, 1568014460893, 1568014460891, 25.3519m, 31.21m, 25.3652m, 40.66m), update);
        var top = update.ToBookTop();
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1568014460891), top.ExchangeTime);
        Assert.True(top.IsSane);
    }

    [Fact]
    public void Book_ticker_in_a_combined_stream_envelope()
    {
        var frame = Payload.Bytes("bookTicker-combined.json");

        Assert.True(CombinedStream.TryUnwrap(frame, out var stream, out var data));
        Assert.Equal("btcusdt@bookTicker", Encoding.ASCII.GetString(stream));
        Assert.StartsWith("{\"e\":\"bookTicker\"", Encoding.ASCII.GetString(data), StringComparison.Ordinal);
        Assert.EndsWith("}", Encoding.ASCII.GetString(data), StringComparison.Ordinal);

        var parser = new MarketDataParser();
        Assert.Equal(MarketEventType.BookTicker, parser.Parse(frame));
        Assert.Equal(new BookTickerUpdate("BTCUSDT", 3682854202063, 1720367822944, 1720367822938, 65000.1m, 2.431m, 65000.2m, 0.105m), parser.BookTicker);
    }

    [Fact]
    public void Depth_update_golden()
    {
        var parser = new MarketDataParser();

        Assert.Equal(MarketEventType.DepthUpdate, parser.Parse(Payload.Bytes("depthUpdate.json")));

        var diff = parser.Depth;
        Assert.Equal("BTCUSDT", diff.Symbol);
        Assert.Equal((157L, 160L, 149L), (diff.FirstUpdateId, diff.FinalUpdateId, diff.PreviousFinalUpdateId));
        Assert.Equal((123456789L, 123456788L), (diff.EventTimeMs, diff.TransactionTimeMs));
        Assert.Equal([new PriceLevel(0.0024m, 10m)], diff.Bids);
        Assert.Equal([new PriceLevel(0.0026m, 100m), new PriceLevel(0.0027m, 0m)], diff.Asks);
    }

    [Fact]
    public void Depth_diff_instance_is_reused_and_cleared()
    {
        var parser = new MarketDataParser();
        parser.Parse(Payload.Bytes("depthUpdate.json"));
        var emptyDiff = """{"e":"depthUpdate","E":2,"T":1,"s":"BTCUSDT","U":161,"u":161,"pu":160,"b":[],"a":[]}"""u8;

        parser.Parse(emptyDiff);

        Assert.Empty(parser.Depth.Bids);
        Assert.Empty(parser.Depth.Asks);
        Assert.Equal(160, parser.Depth.PreviousFinalUpdateId);
    }

    [Fact]
    public void Agg_trade_golden()
    {
        var parser = new MarketDataParser();

        Assert.Equal(MarketEventType.AggTrade, parser.Parse(Payload.Bytes("aggTrade.json")));

        Assert.Equal(new AggTradeUpdate("BTCUSDT", 5933014, 0.001m, 100m, 100, 105, 123456789, 123456785, true), parser.AggTrade);
        var print = parser.AggTrade.ToTradePrint(DateTimeOffset.UnixEpoch);
        Assert.True(print.BuyerIsMaker);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(123456785), print.ExchangeTime);
    }

    [Fact]
    public void Control_replies_and_unknown_events_are_not_market_data()
    {
        var parser = new MarketDataParser();

        Assert.Equal(MarketEventType.Unknown, parser.Parse("""{"result":null,"id":1}"""u8));
        Assert.Equal(MarketEventType.Unknown, parser.Parse("""{"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"1"}"""u8));
        Assert.Equal(MarketEventType.Trade, MarketDataParser.EventType("""{"e":"trade","E":1}"""u8));
    }

    [Theory]
    [InlineData("""{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0"}""")]
    [InlineData("""{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1e3","B":"1","a":"2.0","A":"1"}""")]
    [InlineData("""{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"abc","B":"1","a":"2.0","A":"1"}""")]
    [InlineData("""{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1" """)]
    public void Malformed_book_ticker_throws_json_exception(string json)
    {
        var parser = new MarketDataParser();

        Assert.ThrowsAny<JsonException>(() => parser.ParseBookTicker(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void Parsing_hot_market_frames_allocates_nothing_after_warm_up()
    {
        var parser = new MarketDataParser();
        var ticker = Payload.Bytes("bookTicker-combined.json");
        var trade = Payload.Bytes("aggTrade.json");
        var depth = Payload.Bytes("depthUpdate.json");
        decimal sum = 0;
        var allocated = Allocations.Minimum(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                parser.Parse(ticker);
                sum += parser.BookTicker.Bid;
                parser.Parse(trade);
                sum += parser.AggTrade.Price;
                parser.Parse(depth);
                sum += parser.Depth.Bids[0].Price;
            }
        });

        Assert.Equal(0, allocated);
        Assert.True(sum > 0);
    }
}
