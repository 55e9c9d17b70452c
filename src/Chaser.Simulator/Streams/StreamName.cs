using System.Globalization;
using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Streams;

internal enum StreamKind
{
    BookTicker,
    AggTrade,
    Trade,
    DiffDepth,
    PartialDepth,
    MarkPrice,
}

/// <summary>
/// Binance's routed stream entry points (binance-futures-api.md §6; Binance's "Important WebSocket Change Notice",
/// 2026-03-06: legacy /ws and /stream retired 2026-04-23). A stream is served only on its own route.
/// </summary>
internal enum StreamRoute
{
    /// <summary>/public: high-frequency data (bookTicker, depth diffs, partial depth, rpiDepth, trade).</summary>
    Public,

    /// <summary>/market: regular data (aggTrade, markPrice, klines, tickers, forceOrder, contractInfo, assetIndex).</summary>
    Market,

    /// <summary>/private: user data (listen keys).</summary>
    Private,
}

/// <summary>A parsed market stream name such as btcusdt@depth5@100ms; Name is its canonical spelling.</summary>
internal sealed record StreamName(string Name, string Symbol, StreamKind Kind, int Levels, int IntervalMs)
{
    /// <summary>
    /// The route that serves this stream. The undocumented <c>@trade</c> is on /public: ccxt 4.5.84 routes it there
    /// (binance.js getFutureWsCategory) and a live frame count on each route found it there (BYTEX-TRADE/bytex#7).
    /// </summary>
    public StreamRoute Route => Kind switch
    {
        StreamKind.BookTicker or StreamKind.DiffDepth or StreamKind.PartialDepth or StreamKind.Trade => StreamRoute.Public,
        _ => StreamRoute.Market,
    };

    public static bool TryParse(string raw, Func<string, bool> isSymbol, out StreamName stream)
    {
        stream = null!;
        var parts = raw.Split('@');
        if (parts.Length is < 2 or > 3)
        {
            return false;
        }

        var symbol = parts[0].ToUpperInvariant();
        if (!isSymbol(symbol))
        {
            return false;
        }

        var lower = parts[0].ToLowerInvariant();
        var type = parts[1];
        var speed = parts.Length == 3 ? parts[2] : null;
        int? interval = speed switch
        {
            null => null,
            "0ms" => 0,
            "100ms" => 100,
            "250ms" => 250,
            "500ms" => 500,
            "1s" => 1000,
            _ => -1,
        };
        if (interval == -1)
        {
            return false;
        }

        switch (type)
        {
            case "bookTicker" or "bookticker" when speed is null:
                stream = new StreamName($"{lower}@bookTicker", symbol, StreamKind.BookTicker, 0, 0);
                return true;
            case "aggTrade" or "aggtrade" when speed is null:
                stream = new StreamName($"{lower}@aggTrade", symbol, StreamKind.AggTrade, 0, 0);
                return true;
            case "trade" when speed is null:
                stream = new StreamName($"{lower}@trade", symbol, StreamKind.Trade, 0, 0);
                return true;
            case "markPrice" or "markprice" when interval is null or 1000:
                stream = new StreamName(speed is null ? $"{lower}@markPrice" : $"{lower}@markPrice@1s", symbol, StreamKind.MarkPrice, 0, interval ?? 3000);
                return true;
            case "depth" when interval is null or 0 or 100 or 250 or 500:
                stream = new StreamName(speed is null ? $"{lower}@depth" : $"{lower}@depth@{speed}", symbol, StreamKind.DiffDepth, 0, interval ?? 250);
                return true;
            case "depth5" or "depth10" or "depth20" when interval is null or 100 or 250 or 500:
                var levels = int.Parse(type.AsSpan(5), CultureInfo.InvariantCulture);
                stream = new StreamName(speed is null ? $"{lower}@{type}" : $"{lower}@{type}@{speed}", symbol, StreamKind.PartialDepth, levels, interval ?? 250);
                return true;
            default:
                return false;
        }
    }

    public static bool TryParse(string raw, ExchangeEngine engine, out StreamName stream) => TryParse(raw, engine.HasSymbol, out stream);
}
