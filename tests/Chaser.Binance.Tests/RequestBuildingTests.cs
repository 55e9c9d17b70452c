using System.Text;
using Chaser.Binance.Requests;
using Chaser.Binance.Signing;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;

namespace Chaser.Binance.Tests;

public sealed class RequestBuildingTests
{
    private static readonly HmacSha256Signer Signer = new(Secret.FromText("2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"));

    private static readonly SigningContext Signing = new(Signer, 1591702613943, 5000);

    [Theory]
    [InlineData("65000.10000000", "65000.1")]
    [InlineData("65000.00", "65000")]
    [InlineData("0.00100", "0.001")]
    [InlineData("0", "0")]
    [InlineData("-0.000", "0")]
    [InlineData("12.5", "12.5")]
    [InlineData("100", "100")]
    [InlineData("0.0000000000000000000000000001", "0.0000000000000000000000000001")]
    [InlineData("79228162514264337593543950335", "79228162514264337593543950335")]
    public void Decimals_are_written_plain_and_minimal(string input, string expected)
    {
        var value = decimal.Parse(input, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(expected, DecimalWire.ToText(value));
    }

    [Fact]
    public void Decimal_arithmetic_scale_does_not_leak_onto_the_wire()
    {
        var price = 65000.1m * 1.000000m; // scale 7

        Assert.Equal("65000.1", DecimalWire.ToText(price));
    }

    [Fact]
    public void Post_only_order_query_is_complete_and_signed_last()
    {
        var order = new NewOrder("BTCUSDT", Side.Buy, ChildOrderType.PostOnly, 65000.10000000m, 0.0100m, "chs-42-1");
        Span<byte> buffer = stackalloc byte[BinanceRequests.MaxQueryLength];

        var length = BinanceRequests.NewOrder(buffer, order, TestRules.Btc, Signing);

        var query = Encoding.ASCII.GetString(buffer[..length]);
        const string unsigned = "newClientOrderId=chs-42-1&price=65000.1&quantity=0.01&recvWindow=5000&side=BUY&symbol=BTCUSDT&timeInForce=GTX&timestamp=1591702613943&type=LIMIT";
        Assert.Equal(unsigned + "&signature=" + HexHmac(unsigned), query);
    }

    [Fact]
    public void Documented_payload_built_by_the_writer_gives_the_documented_signature()
    {
        Span<byte> buffer = stackalloc byte[512];
        var query = new QueryStringWriter(buffer);
        query.Add("symbol"u8, "BTCUSDT");
        query.AddRaw("side"u8, "BUY"u8);
        query.AddRaw("type"u8, "LIMIT"u8);
        query.Add("quantity"u8, 1m);
        query.Add("price"u8, 9000.00m);
        query.AddRaw("timeInForce"u8, "GTC"u8);
        query.Add("recvWindow"u8, 5000L);
        query.Add("timestamp"u8, 1591702613943L);
        query.Sign(Signer);

        Assert.EndsWith("&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9", Encoding.ASCII.GetString(query.Written), StringComparison.Ordinal);
    }

    [Fact]
    public void Market_order_has_no_price_or_time_in_force()
    {
        var order = new NewOrder("BTCUSDT", Side.Sell, ChildOrderType.Market, 0m, 0.005m, "chs-42-9", ReduceOnly: true, ResultResponse: true);
        var query = Build((buffer) => BinanceRequests.NewOrder(buffer, order, TestRules.Btc, Signing));

        Assert.StartsWith("newClientOrderId=chs-42-9&newOrderRespType=RESULT&quantity=0.005&recvWindow=5000&reduceOnly=true&side=SELL&symbol=BTCUSDT&timestamp=1591702613943&type=MARKET&signature=", query, StringComparison.Ordinal);
    }

    [Fact]
    public void Modify_sends_both_price_and_total_quantity()
    {
        var modify = new ModifyOrder("BTCUSDT", Side.Buy, "chs-42-1", 64999.9m, 0.010m);
        var query = Build((buffer) => BinanceRequests.ModifyOrder(buffer, modify, TestRules.Btc, Signing));

        Assert.StartsWith("origClientOrderId=chs-42-1&price=64999.9&quantity=0.01&recvWindow=5000&side=BUY&symbol=BTCUSDT&timestamp=1591702613943&signature=", query, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancel_query_open_orders_user_trades_and_countdown()
    {
        Assert.StartsWith("origClientOrderId=chs-42-1&recvWindow=5000&symbol=BTCUSDT&timestamp=1591702613943&signature=",
            Build((b) => BinanceRequests.CancelOrder(b, "BTCUSDT", "chs-42-1", Signing)), StringComparison.Ordinal);
        Assert.StartsWith("origClientOrderId=chs-42-1&recvWindow=5000&symbol=BTCUSDT",
            Build((b) => BinanceRequests.QueryOrder(b, "BTCUSDT", "chs-42-1", Signing)), StringComparison.Ordinal);
        Assert.StartsWith("recvWindow=5000&timestamp=1591702613943&signature=",
            Build((b) => BinanceRequests.OpenOrders(b, null, Signing)), StringComparison.Ordinal);
        Assert.StartsWith("symbol=ETHUSDT&recvWindow=5000",
            Build((b) => BinanceRequests.OpenOrders(b, "ETHUSDT", Signing)), StringComparison.Ordinal);
        Assert.StartsWith("symbol=BTCUSDT&orderId=283194212&limit=100&recvWindow=5000",
            Build((b) => BinanceRequests.UserTrades(b, "BTCUSDT", 283194212, null, 100, Signing)), StringComparison.Ordinal);
        Assert.StartsWith("symbol=BTCUSDT&countdownTime=120000&recvWindow=5000",
            Build((b) => BinanceRequests.CountdownCancelAll(b, "BTCUSDT", 120000, Signing)), StringComparison.Ordinal);
        Assert.Equal("symbol=BTCUSDT&limit=1000", Build((b) => BinanceRequests.Depth(b, "BTCUSDT", 1000)));
    }

    [Fact]
    public void Every_signed_query_carries_the_signature_of_what_precedes_it()
    {
        var query = Build((b) => BinanceRequests.CancelOrder(b, "BTCUSDT", "chs-42-1", Signing));
        var at = query.IndexOf("&signature=", StringComparison.Ordinal);

        Assert.Equal(HexHmac(query[..at]), query[(at + "&signature=".Length)..]);
    }

    [Fact]
    public void Reserved_characters_in_a_client_order_id_are_percent_encoded()
    {
        var query = Build((b) => BinanceRequests.CancelOrder(b, "BTCUSDT", "a:b/c", Signing));

        Assert.Contains("origClientOrderId=a%3Ab%2Fc&", query, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("65000.15", "0.01")]
    [InlineData("65000.1", "0.0105")]
    [InlineData("0", "0.01")]
    [InlineData("65000.1", "0")]
    public void Off_grid_or_non_positive_price_or_quantity_is_refused_before_sending(string price, string quantity)
    {
        var order = new NewOrder("BTCUSDT", Side.Buy, ChildOrderType.PostOnly,
            decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture),
            decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture), "chs-1-1");

        Assert.Throws<ArgumentOutOfRangeException>(() => Build((b) => BinanceRequests.NewOrder(b, order, TestRules.Btc, Signing)));
    }

    [Fact]
    public void Too_small_a_buffer_fails_loudly()
    {
        var order = new NewOrder("BTCUSDT", Side.Buy, ChildOrderType.PostOnly, 65000.1m, 0.01m, "chs-1-1");

        Assert.Throws<InvalidOperationException>(() =>
        {
            Span<byte> small = stackalloc byte[64];
            BinanceRequests.NewOrder(small, order, TestRules.Btc, Signing);
        });
    }

    [Fact]
    public void Building_and_signing_an_order_allocates_nothing()
    {
        var place = new NewOrder("BTCUSDT", Side.Buy, ChildOrderType.PostOnly, 65000.1m, 0.01m, "chs-42-1");
        var modify = new ModifyOrder("BTCUSDT", Side.Buy, "chs-42-1", 64999.9m, 0.01m);
        var buffer = new byte[BinanceRequests.MaxQueryLength];
        var total = 0;

        var allocated = Allocations.Minimum(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                var signing = Signing with { TimestampMs = Signing.TimestampMs + i };
                total += BinanceRequests.NewOrder(buffer, place, TestRules.Btc, signing);
                total += BinanceRequests.ModifyOrder(buffer, modify, TestRules.Btc, signing);
                total += BinanceRequests.CancelOrder(buffer, "BTCUSDT", "chs-42-1", signing);
            }
        });

        Assert.True(total > 0);
        Assert.Equal(0, allocated);
    }

    private delegate int Writer(Span<byte> buffer);

    private static string Build(Writer writer)
    {
        var buffer = new byte[BinanceRequests.MaxQueryLength];
        var length = writer(buffer);
        return Encoding.ASCII.GetString(buffer, 0, length);
    }

    private static string HexHmac(string payload)
    {
        var key = Encoding.ASCII.GetBytes("2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9");
        return Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(payload)));
    }
}
