using System.Globalization;
using System.Text.Json;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Sources;
using Chaser.Tests.Shared;

namespace Chaser.Simulator.Tests;

/// <summary>
/// The real USDⓈ-M perpetuals from the recorded exchangeInfo (data/binance/fapi-v1-exchangeInfo-2024-10-20.json):
/// every filter the simulator enforces and serves is the file's own, read here independently of the loader.
/// </summary>
public class RecordedSymbolsTests
{
    private static readonly string DataDirectory = Path.GetFullPath(Path.Combine(RecordedData.Directory, ".."));

    /// <summary>The recorded file's symbols as name → (field → value), the filters flattened as "FILTER.field".</summary>
    private static Dictionary<string, Dictionary<string, string>> RecordedFile()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(DataDirectory, "fapi-v1-exchangeInfo-2024-10-20.json")));
        var result = new Dictionary<string, Dictionary<string, string>>();
        foreach (var symbol in document.RootElement.GetProperty("symbols").EnumerateArray())
        {
            result[symbol.GetProperty("symbol").GetString()!] = Flatten(symbol);
        }

        return result;
    }

    private static Dictionary<string, string> Flatten(JsonElement symbol)
    {
        var fields = new Dictionary<string, string>();
        foreach (var name in new[] { "contractType", "baseAsset", "quoteAsset", "pricePrecision", "quantityPrecision" })
        {
            fields[name] = symbol.GetProperty(name).ToString();
        }

        foreach (var filter in symbol.GetProperty("filters").EnumerateArray())
        {
            var type = filter.GetProperty("filterType").GetString();
            foreach (var property in filter.EnumerateObject().Where(p => p.Name != "filterType"))
            {
                fields[$"{type}.{property.Name}"] = property.Value.ToString();
            }
        }

        return fields;
    }

    private static Dictionary<string, string> Fields(SymbolSpec s) => new()
    {
        ["contractType"] = s.ContractType,
        ["baseAsset"] = s.BaseAsset,
        ["quoteAsset"] = s.QuoteAsset,
        ["pricePrecision"] = s.PricePrecision.ToString(CultureInfo.InvariantCulture),
        ["quantityPrecision"] = s.QuantityPrecision.ToString(CultureInfo.InvariantCulture),
        ["PRICE_FILTER.tickSize"] = Text(s.TickSize),
        ["PRICE_FILTER.minPrice"] = Text(s.MinPrice),
        ["PRICE_FILTER.maxPrice"] = Text(s.MaxPrice),
        ["LOT_SIZE.stepSize"] = Text(s.StepSize),
        ["LOT_SIZE.minQty"] = Text(s.MinQty),
        ["LOT_SIZE.maxQty"] = Text(s.MaxQty),
        ["MARKET_LOT_SIZE.maxQty"] = Text(s.MarketMaxQty),
        ["MIN_NOTIONAL.notional"] = Text(s.MinNotional),
        ["PERCENT_PRICE.multiplierUp"] = Text(s.MultiplierUp),
        ["PERCENT_PRICE.multiplierDown"] = Text(s.MultiplierDown),
        ["PERCENT_PRICE.multiplierDecimal"] = s.MultiplierDecimal.ToString(CultureInfo.InvariantCulture),
        ["MAX_NUM_ORDERS.limit"] = s.MaxNumOrders.ToString(CultureInfo.InvariantCulture),
    };

    private static string Text(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Same value: decimals compare by value ("0.0100" = "0.01"), everything else as text.</summary>
    private static void AssertSame(string symbol, Dictionary<string, string> expected, Dictionary<string, string> actual)
    {
        foreach (var (field, value) in actual)
        {
            Assert.True(expected.ContainsKey(field), $"{symbol}: {field} is not in the recorded file");
            var same = decimal.TryParse(expected[field], NumberStyles.Number, CultureInfo.InvariantCulture, out var a)
                && decimal.TryParse(value, NumberStyles.Number, CultureInfo.InvariantCulture, out var b)
                ? a == b
                : expected[field] == value;
            Assert.True(same, $"{symbol}: {field} is {value}, the recorded file says {expected[field]}");
        }
    }

    [Fact]
    public void At_least_50_recorded_perpetuals_load_with_the_files_filters()
    {
        var file = RecordedFile();
        var recorded = SymbolSpec.Recorded;

        Assert.True(recorded.Count >= 50, $"only {recorded.Count} recorded symbols");
        Assert.Equal(recorded.Count, recorded.Select(s => s.Symbol).Distinct().Count());
        foreach (var spec in recorded)
        {
            Assert.True(file.ContainsKey(spec.Symbol), $"{spec.Symbol} is not in the recorded file");
            Assert.Equal("PERPETUAL", spec.ContractType);
            AssertSame(spec.Symbol, file[spec.Symbol], Fields(spec));

            // the synthetic market starts on a tick inside the price filter, with levels the lot filter accepts
            Assert.True(spec.IsOnTick(spec.InitialPrice) && spec.InitialPrice >= spec.MinPrice && spec.InitialPrice <= spec.MaxPrice, $"{spec.Symbol} starts at {spec.InitialPrice}");
            Assert.True(spec.TypicalLevelQty >= spec.MinQty && spec.IsOnStep(spec.TypicalLevelQty), $"{spec.Symbol} level {spec.TypicalLevelQty}");
        }
    }

    [Fact]
    public void The_defaults_are_the_recorded_specs_but_for_solusdts_step()
    {
        var file = RecordedFile();
        var deviating = new List<string>();
        foreach (var spec in SymbolSpec.Defaults)
        {
            var fields = Fields(spec);
            var recorded = Fields(SymbolSpec.Recorded.Single(s => s.Symbol == spec.Symbol));
            if (fields.Any(f => recorded[f.Key] != f.Value))
            {
                deviating.Add(spec.Symbol);
                continue;
            }

            AssertSame(spec.Symbol, file[spec.Symbol], fields);
        }

        Assert.Equal(["SOLUSDT"], deviating);
        Assert.Equal(0.01m, SymbolSpec.Find("solusdt")!.StepSize);
    }

    [Fact]
    public async Task The_simulators_exchangeInfo_serves_every_recorded_symbol_with_its_filters()
    {
        var file = RecordedFile();
        var names = SymbolSpec.Recorded.Select(s => s.Symbol).ToArray();
        await using var sim = await SimulatorFixture.StartAsync(o => o with { Symbols = names });

        var info = await sim.GetJsonAsync("/fapi/v1/exchangeInfo");
        var served = info.GetProperty("symbols").EnumerateArray().ToDictionary(s => s.GetProperty("symbol").GetString()!, Flatten);

        Assert.Equal(names.Order(), served.Keys.Order());
        foreach (var (name, fields) in served.Where(s => s.Key != "SOLUSDT")) // SOLUSDT's step deviates on purpose
        {
            var checkedFields = fields.Where(f => file[name].ContainsKey(f.Key)).ToDictionary();
            Assert.True(checkedFields.Count >= 15, $"{name}: only {checkedFields.Count} fields in common with the file");
            AssertSame(name, file[name], checkedFields);
        }
    }

    [Fact]
    public async Task A_recorded_symbol_trades_in_the_synthetic_market_within_its_filters()
    {
        var spec = SymbolSpec.Find("DOGEUSDT")!;
        var market = new SyntheticMarket(spec, seed: 7, startTime: 0);
        var trades = 0;
        for (var i = 0; i < 2000; i++)
        {
            foreach (var e in market.Next())
            {
                if (e is TradeEvent trade)
                {
                    trades++;
                    Assert.True(spec.IsOnTick(trade.Price) && spec.IsOnStep(trade.Qty) && trade.Qty >= spec.MinQty, $"trade {trade.Qty} @ {trade.Price}");
                }
            }
        }

        Assert.True(trades > 0, "no trades");
        await using var sim = await SimulatorFixture.StartAsync(o => o with { Symbols = ["BTCUSDT", "DOGEUSDT"] });
        Assert.Equal(0.00001m, sim.Engine.Symbols.Single(s => s.Symbol == "DOGEUSDT").TickSize);
    }

    [Fact]
    public async Task A_symbol_listed_twice_is_refused_naming_it()
    {
        // It was "An item with the same key has already been added" from the engine's dictionary. (How `chaser sim
        // --symbols` names it is the command line's: Chaser.Cli.Tests' SimCommandTests.)
        var library = await Assert.ThrowsAsync<ArgumentException>(() => SimulatorFixture.StartAsync(o => o with { Symbols = ["BTCUSDT", "btcusdt"] }));
        Assert.StartsWith("Symbol 'BTCUSDT' is listed twice", library.Message, StringComparison.Ordinal);
    }
}
