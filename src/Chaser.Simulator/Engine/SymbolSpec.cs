using System.Globalization;

namespace Chaser.Simulator.Engine;

/// <summary>
/// The exchange's own description of one perpetual contract: the filters it enforces and what exchangeInfo
/// reports. The simulator keeps its own copy on purpose so it never shares rules with the client under test.
/// </summary>
public sealed record SymbolSpec
{
    public required string Symbol { get; init; }
    public required string BaseAsset { get; init; }
    public string QuoteAsset { get; init; } = "USDT";
    public required decimal TickSize { get; init; }
    public required decimal MinPrice { get; init; }
    public required decimal MaxPrice { get; init; }
    public required decimal StepSize { get; init; }
    public required decimal MinQty { get; init; }
    public required decimal MaxQty { get; init; }
    public required decimal MarketMaxQty { get; init; }
    public required decimal MinNotional { get; init; }
    public decimal MultiplierUp { get; init; } = 1.05m;
    public decimal MultiplierDown { get; init; } = 0.95m;
    public int MultiplierDecimal { get; init; } = 4;
    public required int PricePrecision { get; init; }
    public required int QuantityPrecision { get; init; }
    public int MaxNumOrders { get; init; } = 200;
    public int MaxNumAlgoOrders { get; init; } = 10;

    /// <summary>Where the synthetic market starts; irrelevant for replay.</summary>
    public required decimal InitialPrice { get; init; }

    /// <summary>Typical displayed size of one book level in the synthetic market, in base units.</summary>
    public required decimal TypicalLevelQty { get; init; }

    public int PriceDecimals => Decimals(TickSize);
    public int QuantityDecimals => Decimals(StepSize);

    public string FormatPrice(decimal price) => price.ToString("F" + PriceDecimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    public string FormatQty(decimal qty) => qty.ToString("F" + QuantityDecimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public bool IsOnTick(decimal price) => (price - MinPrice) % TickSize == 0m;
    public bool IsOnStep(decimal qty) => (qty - MinQty) % StepSize == 0m;

    private static int Decimals(decimal value)
    {
        value /= 1.000000000000000000000000000000000m; // drops trailing zeros: 0.10 has one decimal
        return (decimal.GetBits(value)[3] >> 16) & 0xFF;
    }

    /// <summary>
    /// Filters copied from Binance's exchangeInfo (2024–2025). SOLUSDT uses the step the brief asks for (0.01)
    /// rather than Binance's real step of 1, so that small test orders are possible.
    /// </summary>
    public static IReadOnlyList<SymbolSpec> Defaults { get; } =
    [
        new()
        {
            Symbol = "BTCUSDT", BaseAsset = "BTC", TickSize = 0.10m, MinPrice = 261.10m, MaxPrice = 809484m,
            StepSize = 0.001m, MinQty = 0.001m, MaxQty = 1000m, MarketMaxQty = 120m, MinNotional = 100m,
            PricePrecision = 2, QuantityPrecision = 3, InitialPrice = 65000.0m, TypicalLevelQty = 0.5m,
        },
        new()
        {
            Symbol = "ETHUSDT", BaseAsset = "ETH", TickSize = 0.01m, MinPrice = 39.86m, MaxPrice = 306177m,
            StepSize = 0.001m, MinQty = 0.001m, MaxQty = 10000m, MarketMaxQty = 2000m, MinNotional = 20m,
            PricePrecision = 2, QuantityPrecision = 3, InitialPrice = 3400.00m, TypicalLevelQty = 8m,
        },
        new()
        {
            Symbol = "SOLUSDT", BaseAsset = "SOL", TickSize = 0.01m, MinPrice = 0.42m, MaxPrice = 6857m,
            StepSize = 0.01m, MinQty = 0.01m, MaxQty = 1000000m, MarketMaxQty = 5000m, MinNotional = 5m,
            PricePrecision = 4, QuantityPrecision = 2, InitialPrice = 150.00m, TypicalLevelQty = 120m,
        },
        new()
        {
            Symbol = "BNBUSDT", BaseAsset = "BNB", TickSize = 0.01m, MinPrice = 6.60m, MaxPrice = 100000m,
            StepSize = 0.01m, MinQty = 0.01m, MaxQty = 100000m, MarketMaxQty = 2000m, MinNotional = 5m,
            PricePrecision = 3, QuantityPrecision = 2, InitialPrice = 580.00m, TypicalLevelQty = 20m,
        },
        new()
        {
            Symbol = "XRPUSDT", BaseAsset = "XRP", TickSize = 0.0001m, MinPrice = 0.0143m, MaxPrice = 100000m,
            StepSize = 0.1m, MinQty = 0.1m, MaxQty = 10000000m, MarketMaxQty = 2000000m, MinNotional = 5m,
            PricePrecision = 4, QuantityPrecision = 1, InitialPrice = 0.5000m, TypicalLevelQty = 20000m,
        },
    ];
}
