namespace Chaser.Core.Market;

/// <summary>The best bid and ask (Binance bookTicker): prices, displayed quantities, update id and exchange time.</summary>
public readonly record struct BookTop(
    decimal Bid,
    decimal BidQty,
    decimal Ask,
    decimal AskQty,
    long UpdateId,
    DateTimeOffset ExchangeTime)
{
    /// <summary>Both sides present and not crossed or locked: the only book a post-only order may be priced from.</summary>
    public bool IsSane => Bid > 0 && Ask > 0 && BidQty > 0 && AskQty > 0 && Bid < Ask;

    public decimal Mid => (Bid + Ask) / 2m;
}

/// <summary>One price level: price and displayed quantity.</summary>
public readonly record struct PriceLevel(decimal Price, decimal Quantity);

/// <summary>
/// The top levels of the book (bids descending, asks ascending), for example from a partial depth stream or a local
/// book kept from diffs. The chaser uses them to find the next level when its own order is alone at the top.
/// </summary>
public sealed record DepthLevels(
    IReadOnlyList<PriceLevel> Bids,
    IReadOnlyList<PriceLevel> Asks,
    long UpdateId,
    DateTimeOffset ExchangeTime);
