namespace Chaser.Core.Domain;

/// <summary>
/// The assets in a USDⓈ-M symbol's name: its base asset followed by its margin (quote) asset, the one prices and fees
/// are in (BTCUSDT = BTC + USDT). The names are the only record of them where no exchangeInfo is at hand.
/// </summary>
public static class SymbolAssets
{
    private static readonly string[] QuoteAssets = ["USDT", "USDC", "FDUSD", "BUSD"];

    /// <summary>The quote asset the symbol ends with, or null when it ends with none (or is nothing but one).</summary>
    public static string? QuoteAsset(string symbol) =>
        QuoteAssets.FirstOrDefault(q => symbol.Length > q.Length && symbol.EndsWith(q, StringComparison.Ordinal));

    /// <summary>The base asset (BTCUSDT → BTC), the unit of a quantity; the whole symbol when no quote asset is known.</summary>
    public static string BaseAsset(string symbol) => QuoteAsset(symbol) is { } quote ? symbol[..^quote.Length] : symbol;
}
