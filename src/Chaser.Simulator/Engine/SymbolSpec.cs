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
    public string ContractType { get; init; } = "PERPETUAL";
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
    /// The real USDⓈ-M perpetuals of the recorded exchangeInfo (<see cref="RecordedSymbols"/>), with their filters
    /// exactly as Binance served them.
    /// </summary>
    public static IReadOnlyList<SymbolSpec> Recorded => RecordedSymbols.All;

    /// <summary>
    /// A symbol the simulator can list, by name (any case): one of <see cref="Defaults"/> (the demo's and the tests'
    /// five, whose filters stay as they are), else one of <see cref="Recorded"/>; null when neither has it.
    /// </summary>
    public static SymbolSpec? Find(string symbol) =>
        Defaults.FirstOrDefault(s => string.Equals(s.Symbol, symbol, StringComparison.OrdinalIgnoreCase))
        ?? Recorded.FirstOrDefault(s => string.Equals(s.Symbol, symbol, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every name <see cref="Find"/> knows, defaults first.</summary>
    public static IEnumerable<string> KnownNames => Defaults.Select(s => s.Symbol).Concat(Recorded.Select(s => s.Symbol).Except(Defaults.Select(s => s.Symbol)));

    /// <summary>
    /// The simulator's default listing, which the demo and the tests are tuned to: the recorded specs of these five
    /// with the demo's starting prices and level sizes. SOLUSDT keeps a step of 0.01 where Binance's is 1, so that
    /// small test orders are possible (the one deliberate deviation; a test pins it).
    /// </summary>
    public static IReadOnlyList<SymbolSpec> Defaults { get; } =
    [
        Recorded.Single(s => s.Symbol == "BTCUSDT") with { InitialPrice = 65000.0m, TypicalLevelQty = 0.5m },
        Recorded.Single(s => s.Symbol == "ETHUSDT") with { InitialPrice = 3400.00m, TypicalLevelQty = 8m },
        Recorded.Single(s => s.Symbol == "SOLUSDT") with { StepSize = 0.01m, MinQty = 0.01m, QuantityPrecision = 2, InitialPrice = 150.00m, TypicalLevelQty = 120m },
        Recorded.Single(s => s.Symbol == "BNBUSDT") with { InitialPrice = 580.00m, TypicalLevelQty = 20m },
        Recorded.Single(s => s.Symbol == "XRPUSDT") with { InitialPrice = 0.5000m, TypicalLevelQty = 20000m },
    ];
}
