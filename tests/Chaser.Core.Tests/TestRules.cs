using Chaser.Core.Rules;

namespace Chaser.Core.Tests;

/// <summary>Symbol rules as Binance published them for BTCUSDT and ETHUSDT (API notes §9), and DOGEUSDT.</summary>
internal static class TestRules
{
    public static SymbolRules Btc { get; } = new()
    {
        Symbol = "BTCUSDT",
        TickSize = 0.10m,
        MinPrice = 556.80m,
        MaxPrice = 4529764m,
        StepSize = 0.001m,
        MinQty = 0.001m,
        MaxQty = 1000m,
        MarketStepSize = 0.001m,
        MarketMinQty = 0.001m,
        MarketMaxQty = 120m,
        MinNotional = 100m,
        PercentPriceMultiplierUp = 1.05m,
        PercentPriceMultiplierDown = 0.95m,
        PricePrecision = 2,
        QuantityPrecision = 3,
    };

    public static SymbolRules Eth { get; } = new()
    {
        Symbol = "ETHUSDT",
        TickSize = 0.01m,
        MinPrice = 39.86m,
        MaxPrice = 306177m,
        StepSize = 0.001m,
        MinQty = 0.001m,
        MaxQty = 10000m,
        MinNotional = 20m,
        PricePrecision = 2,
        QuantityPrecision = 3,
    };

    /// <summary>DOGEUSDT's filters: a coarse tick against the price, a whole-coin lot step.</summary>
    public static SymbolRules Doge { get; } = new()
    {
        Symbol = "DOGEUSDT",
        TickSize = 0.00001m,
        MinPrice = 0.00244m,
        MaxPrice = 30m,
        StepSize = 1m,
        MinQty = 1m,
        MaxQty = 50_000_000m,
        MarketStepSize = 1m,
        MarketMinQty = 1m,
        MarketMaxQty = 30_000_000m,
        MinNotional = 5m,
        PercentPriceMultiplierUp = 1.05m,
        PercentPriceMultiplierDown = 0.95m,
        PricePrecision = 6,
        QuantityPrecision = 0,
    };
}
