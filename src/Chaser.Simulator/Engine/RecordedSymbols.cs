using System.Globalization;
using System.Text.Json;

namespace Chaser.Simulator.Engine;

/// <summary>
/// Symbol specs read from a recorded <c>GET /fapi/v1/exchangeInfo</c> response (embedded from
/// <c>data/binance/fapi-v1-exchangeInfo-2024-10-20.json</c>; source and date in <c>data/binance/README.md</c>): the
/// filters are Binance's own, unaltered. The synthetic market starts each symbol at its mark price from a recorded
/// <c>GET /fapi/v1/premiumIndex</c> (<c>fapi-v1-premiumIndex-2025-06-17.json</c>), rounded to the tick.
/// </summary>
public static class RecordedSymbols
{
    /// <summary>The notional of one typical synthetic book level; the quantity follows from the price.</summary>
    public const decimal TypicalLevelNotional = 20_000m;

    private static readonly Lazy<IReadOnlyList<SymbolSpec>> Loaded = new(() => Load(Open("exchangeInfo"), Open("premiumIndex")));

    public static IReadOnlyList<SymbolSpec> All => Loaded.Value;

    /// <summary>Reads an exchangeInfo body and a premiumIndex (all symbols) body; a symbol without a mark price is skipped.</summary>
    public static IReadOnlyList<SymbolSpec> Load(Stream exchangeInfo, Stream premiumIndex)
    {
        ArgumentNullException.ThrowIfNull(exchangeInfo);
        ArgumentNullException.ThrowIfNull(premiumIndex);
        using var marks = JsonDocument.Parse(premiumIndex);
        var markPrices = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var entry in marks.RootElement.EnumerateArray())
        {
            markPrices[Text(entry, "symbol", "premiumIndex")] = Number(entry, "markPrice", "premiumIndex");
        }

        using var info = JsonDocument.Parse(exchangeInfo);
        var specs = new List<SymbolSpec>();
        foreach (var symbol in info.RootElement.GetProperty("symbols").EnumerateArray())
        {
            var name = Text(symbol, "symbol", "exchangeInfo");
            if (!markPrices.TryGetValue(name, out var mark))
            {
                continue;
            }

            var filters = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var filter in symbol.GetProperty("filters").EnumerateArray())
            {
                filters[Text(filter, "filterType", name)] = filter;
            }

            var price = Filter(filters, "PRICE_FILTER", name);
            var lot = Filter(filters, "LOT_SIZE", name);
            var percent = Filter(filters, "PERCENT_PRICE", name);
            var tick = Number(price, "tickSize", name);
            var step = Number(lot, "stepSize", name);
            var minQty = Number(lot, "minQty", name);
            var minPrice = Number(price, "minPrice", name);
            var maxPrice = Number(price, "maxPrice", name);
            var start = Math.Clamp(Math.Round(mark / tick, MidpointRounding.AwayFromZero) * tick, minPrice, maxPrice);
            specs.Add(new SymbolSpec
            {
                Symbol = name,
                BaseAsset = Text(symbol, "baseAsset", name),
                QuoteAsset = Text(symbol, "quoteAsset", name),
                ContractType = Text(symbol, "contractType", name),
                TickSize = tick,
                MinPrice = minPrice,
                MaxPrice = maxPrice,
                StepSize = step,
                MinQty = minQty,
                MaxQty = Number(lot, "maxQty", name),
                MarketMaxQty = Number(Filter(filters, "MARKET_LOT_SIZE", name), "maxQty", name),
                MinNotional = Number(Filter(filters, "MIN_NOTIONAL", name), "notional", name),
                MultiplierUp = Number(percent, "multiplierUp", name),
                MultiplierDown = Number(percent, "multiplierDown", name),
                MultiplierDecimal = (int)Number(percent, "multiplierDecimal", name),
                PricePrecision = symbol.GetProperty("pricePrecision").GetInt32(),
                QuantityPrecision = symbol.GetProperty("quantityPrecision").GetInt32(),
                MaxNumOrders = Filter(filters, "MAX_NUM_ORDERS", name).GetProperty("limit").GetInt32(),
                MaxNumAlgoOrders = filters.TryGetValue("MAX_NUM_ALGO_ORDERS", out var algo) ? algo.GetProperty("limit").GetInt32() : 10,
                InitialPrice = start,
                TypicalLevelQty = Math.Max(minQty, Math.Floor(TypicalLevelNotional / start / step) * step),
            });
        }

        return specs;
    }

    private static Stream Open(string name) =>
        typeof(RecordedSymbols).Assembly.GetManifestResourceStream("Chaser.Simulator.Data." + name + ".json")
        ?? throw new InvalidOperationException($"embedded resource {name}.json is missing from {typeof(RecordedSymbols).Assembly.GetName().Name}");

    private static JsonElement Filter(Dictionary<string, JsonElement> filters, string type, string symbol) =>
        filters.TryGetValue(type, out var filter) ? filter : throw new InvalidDataException($"exchangeInfo: {symbol} has no {type} filter");

    private static string Text(JsonElement element, string name, string where) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new InvalidDataException($"{where}: '{name}' missing or not a string");

    // Binance sends decimals as strings ("0.10"); multiplierDecimal has been seen both as "4" and as 4.
    private static decimal Number(JsonElement element, string name, string where)
    {
        if (element.TryGetProperty(name, out var value))
        {
            if (value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number))
            {
                return number;
            }

            if (value.ValueKind == JsonValueKind.String && decimal.TryParse(value.GetString(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var parsed))
            {
                return parsed;
            }
        }

        throw new InvalidDataException($"{where}: '{name}' missing or not a decimal");
    }
}
