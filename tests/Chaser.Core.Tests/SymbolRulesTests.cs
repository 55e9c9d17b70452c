using Chaser.Core.Domain;
using Chaser.Core.Rules;

namespace Chaser.Core.Tests;

public class SymbolRulesTests
{
    private static readonly SymbolRules Btc = TestRules.Btc;

    [Theory]
    [InlineData("65000.07", Side.Buy, "65000.0")]
    [InlineData("65000.07", Side.Sell, "65000.1")]
    [InlineData("65000.10", Side.Buy, "65000.1")]
    [InlineData("65000.10", Side.Sell, "65000.1")]
    [InlineData("65000.0999", Side.Buy, "65000.0")]
    [InlineData("65000.0001", Side.Sell, "65000.1")]
    public void Prices_round_towards_the_passive_side(string price, Side side, string expected)
    {
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), Btc.RoundPricePassive(decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture), side));
    }

    [Fact]
    public void Aggressive_rounding_is_the_mirror_of_passive()
    {
        Assert.Equal(65000.1m, Btc.RoundPriceAggressive(65000.07m, Side.Buy));
        Assert.Equal(65000.0m, Btc.RoundPriceAggressive(65000.07m, Side.Sell));
    }

    [Fact]
    public void The_tick_grid_starts_at_min_price()
    {
        var rules = Btc with { TickSize = 0.5m, MinPrice = 0.3m };
        Assert.Equal(10.3m, rules.RoundPricePassive(10.6m, Side.Buy));
        Assert.Equal(10.8m, rules.RoundPricePassive(10.6m, Side.Sell));
        Assert.True(rules.Check(10.3m, 1m, reduceOnly: true).IsValid);
        Assert.Equal(OrderCheckFailure.PriceNotOnTick, rules.Check(10.5m, 1m, reduceOnly: true).Failure);
    }

    [Theory]
    [InlineData("0.2309", "0.230")]
    [InlineData("0.001", "0.001")]
    [InlineData("0.0009", "0")]
    [InlineData("-1", "0")]
    public void Quantities_round_down_to_the_step(string quantity, string expected)
    {
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), Btc.FloorQuantity(decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Notional_converts_to_the_largest_quantity_that_does_not_exceed_it()
    {
        var quantity = Btc.QuantityForNotional(15_000m, 65_000.1m);
        Assert.Equal(0.230m, quantity);
        Assert.True(quantity * 65_000.1m <= 15_000m);
        Assert.True((quantity + Btc.StepSize) * 65_000.1m > 15_000m);
    }

    [Fact]
    public void Notional_conversion_refuses_a_non_positive_price()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Btc.QuantityForNotional(100m, 0m));
        Assert.Equal("price", error.ParamName);
    }

    [Fact]
    public void A_price_off_the_tick_grid_is_refused_naming_the_filter()
    {
        var check = Btc.Check(65000.05m, 0.01m, reduceOnly: false);
        Assert.Equal(OrderCheckFailure.PriceNotOnTick, check.Failure);
        Assert.Contains("PRICE_FILTER", check.Reason, StringComparison.Ordinal);
        Assert.Contains("65000.05", check.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("500", "1", OrderCheckFailure.PriceBelowMin)]
    [InlineData("5000000", "1", OrderCheckFailure.PriceAboveMax)]
    [InlineData("0", "1", OrderCheckFailure.PriceNotPositive)]
    [InlineData("65000", "0", OrderCheckFailure.QuantityNotPositive)]
    [InlineData("65000", "0.0005", OrderCheckFailure.QuantityBelowMin)]
    [InlineData("65000", "1001", OrderCheckFailure.QuantityAboveMax)]
    [InlineData("65000", "0.0015", OrderCheckFailure.QuantityNotOnStep)]
    [InlineData("65000", "0.001", OrderCheckFailure.NotionalBelowMin)]
    [InlineData("65000", "0.002", OrderCheckFailure.None)]
    public void Each_filter_is_checked(string price, string quantity, OrderCheckFailure expected)
    {
        var check = Btc.Check(decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture), decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture), reduceOnly: false);
        Assert.Equal(expected, check.Failure);
        Assert.Equal(expected == OrderCheckFailure.None, check.IsValid);
        Assert.Equal(expected == OrderCheckFailure.None, check.Reason is null);
    }

    [Fact]
    public void Reduce_only_orders_are_exempt_from_min_notional()
    {
        Assert.Equal(OrderCheckFailure.NotionalBelowMin, Btc.Check(65000m, 0.001m, reduceOnly: false).Failure);
        Assert.True(Btc.Check(65000m, 0.001m, reduceOnly: true).IsValid);
    }

    [Fact]
    public void The_percent_price_band_is_checked_against_the_mark_price()
    {
        Assert.Equal(OrderCheckFailure.PriceAbovePercentBand, Btc.Check(Side.Buy, 68300m, 0.01m, false, markPrice: 65000m).Failure);
        Assert.True(Btc.Check(Side.Buy, 68200m, 0.01m, false, markPrice: 65000m).IsValid);
        Assert.Equal(OrderCheckFailure.PriceBelowPercentBand, Btc.Check(Side.Sell, 61700m, 0.01m, false, markPrice: 65000m).Failure);
        Assert.True(Btc.Check(Side.Sell, 61800m, 0.01m, false, markPrice: 65000m).IsValid);
    }

    [Fact]
    public void Market_orders_use_the_market_lot_size()
    {
        Assert.Equal(OrderCheckFailure.QuantityAboveMax, Btc.CheckMarket(121m, 65000m, reduceOnly: false).Failure);
        Assert.True(Btc.CheckMarket(120m, 65000m, reduceOnly: false).IsValid);
        Assert.Contains("MARKET_LOT_SIZE", Btc.CheckMarket(121m, 65000m, false).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Rules_are_built_from_exchange_info_filters()
    {
        var rules = SymbolRules.FromFilters("BTCUSDT", BtcFilters(), pricePrecision: 2, quantityPrecision: 3);
        Assert.Equal(TestRules.Btc with { MaxOpenOrders = 200 }, rules);
    }

    [Fact]
    public void A_missing_price_filter_is_an_error_naming_it()
    {
        var filters = BtcFilters().Where(f => f.FilterType != "PRICE_FILTER");
        var error = Assert.Throws<ArgumentException>(() => SymbolRules.FromFilters("BTCUSDT", filters));
        Assert.Contains("PRICE_FILTER", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_filter_value_is_an_error_naming_the_field()
    {
        var filters = BtcFilters().Select(f => f.FilterType == "LOT_SIZE"
            ? f with { Values = new Dictionary<string, string>(f.Values) { ["stepSize"] = "0,001" } }
            : f);
        var error = Assert.Throws<FormatException>(() => SymbolRules.FromFilters("BTCUSDT", filters));
        Assert.Contains("LOT_SIZE.stepSize", error.Message, StringComparison.Ordinal);
    }

    internal static IEnumerable<ExchangeFilter> BtcFilters() =>
    [
        new("PRICE_FILTER", new Dictionary<string, string> { ["minPrice"] = "556.80", ["maxPrice"] = "4529764", ["tickSize"] = "0.10" }),
        new("LOT_SIZE", new Dictionary<string, string> { ["stepSize"] = "0.001", ["maxQty"] = "1000", ["minQty"] = "0.001" }),
        new("MARKET_LOT_SIZE", new Dictionary<string, string> { ["stepSize"] = "0.001", ["maxQty"] = "120", ["minQty"] = "0.001" }),
        new("MAX_NUM_ORDERS", new Dictionary<string, string> { ["limit"] = "200" }),
        new("MAX_NUM_ALGO_ORDERS", new Dictionary<string, string> { ["limit"] = "10" }),
        new("MIN_NOTIONAL", new Dictionary<string, string> { ["notional"] = "100" }),
        new("PERCENT_PRICE", new Dictionary<string, string> { ["multiplierUp"] = "1.0500", ["multiplierDown"] = "0.9500", ["multiplierDecimal"] = "4" }),
    ];
}
