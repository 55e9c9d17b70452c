namespace Chaser.Simulator.Engine;

/// <summary>One of our orders, mutable, owned by the engine and only touched under its lock.</summary>
internal sealed class SimOrder
{
    public required long OrderId { get; init; }
    public required string Symbol { get; init; }
    public required string ClientOrderId { get; init; }
    public required OrderSide Side { get; init; }
    public required OrderType Type { get; init; }
    public required TimeInForce TimeInForce { get; init; }
    public required bool ReduceOnly { get; init; }
    public required string PriceMatch { get; init; }
    public required string SelfTradePreventionMode { get; init; }
    public required long GoodTillDate { get; init; }
    public required long Time { get; init; }
    public decimal Price { get; set; }
    public decimal OrigQty { get; set; }
    public decimal ExecutedQty { get; set; }
    public decimal CumQuote { get; set; }
    public OrderStatus Status { get; set; } = OrderStatus.New;
    public long UpdateTime { get; set; }
    public decimal QueueAhead { get; set; }
    public List<OrderAmendment> Amendments { get; } = [];
    public int ModifyCount => Amendments.Count;

    public decimal Remaining => OrigQty - ExecutedQty;
    public bool IsOpen => Status is OrderStatus.New or OrderStatus.PartiallyFilled;

    public OrderSnapshot Snapshot() => new()
    {
        OrderId = OrderId,
        Symbol = Symbol,
        ClientOrderId = ClientOrderId,
        Side = Side,
        Type = Type,
        TimeInForce = TimeInForce,
        Price = Price,
        OrigQty = OrigQty,
        ExecutedQty = ExecutedQty,
        CumQuote = CumQuote,
        Status = Status,
        ReduceOnly = ReduceOnly,
        PriceMatch = PriceMatch,
        SelfTradePreventionMode = SelfTradePreventionMode,
        GoodTillDate = GoodTillDate,
        Time = Time,
        UpdateTime = UpdateTime,
        QueueAhead = QueueAhead,
    };
}

/// <summary>
/// The market of one symbol: the book displayed by other participants (from the source), our resting orders
/// overlaid on it, the public tape and the update-id sequence shared by depth diffs, REST depth and bookTicker.
/// </summary>
internal sealed class SymbolMarket
{
    private static readonly Comparer<decimal> Descending = Comparer<decimal>.Create((a, b) => b.CompareTo(a));
    private const int TapeCapacity = 1000;

    private readonly PublicTrade[] tape = new PublicTrade[TapeCapacity];
    private readonly SortedSet<decimal> pendingBids = new(Descending);
    private readonly SortedSet<decimal> pendingAsks = [];
    private int tapeCount;
    private int tapeNext;

    public SymbolMarket(SymbolSpec spec, long firstOrderId)
    {
        Spec = spec;
        NextOrderId = firstOrderId;
    }

    public SymbolSpec Spec { get; }

    /// <summary>Other participants' displayed quantity per price (what the source says).</summary>
    public SortedDictionary<decimal, decimal> ExternalBids { get; } = new(Descending);

    public SortedDictionary<decimal, decimal> ExternalAsks { get; } = [];

    /// <summary>Our resting orders per price, each list in time priority.</summary>
    public SortedDictionary<decimal, List<SimOrder>> OurBids { get; } = new(Descending);

    public SortedDictionary<decimal, List<SimOrder>> OurAsks { get; } = [];

    /// <summary>Volume printed at a price where we rest since that level's last depth update (see ApplyLevels).</summary>
    public Dictionary<decimal, decimal> TradedSinceDepthBid { get; } = [];

    public Dictionary<decimal, decimal> TradedSinceDepthAsk { get; } = [];

    /// <summary>
    /// Quantity of other participants' levels that our orders took (a crossing order filling us, our taker orders).
    /// The source does not know we traded, so it repeats such a level at its recorded size: that much of it is gone.
    /// </summary>
    public Dictionary<decimal, decimal> TakenByUsBid { get; } = [];

    public Dictionary<decimal, decimal> TakenByUsAsk { get; } = [];

    /// <summary>Quantity other participants added at prices crossing our resting orders, not yet matched (see FillCrossedOrders).</summary>
    public Dictionary<decimal, decimal> CrossingBid { get; } = [];

    public Dictionary<decimal, decimal> CrossingAsk { get; } = [];

    public long LastUpdateId { get; private set; } = 1_000_000;
    public long LastEventTime { get; set; }
    public long NextOrderId { get; set; }
    public long NextTradeId { get; set; } = 100_000_000;
    public decimal LastPrice { get; set; }
    public BookTicker? LastTicker { get; private set; }

    public long CountdownDeadline { get; set; }

    /// <summary>
    /// Takes <paramref name="source"/>'s market data (see <see cref="ExchangeEngine.ForkMarkets"/>) into this fresh market:
    /// the books, the tape, the ids, the last price and ticker. A source holding anything of ours is refused.
    /// </summary>
    public void CopyMarketFrom(SymbolMarket source)
    {
        if (source.OurBids.Count + source.OurAsks.Count + source.TradedSinceDepthBid.Count + source.TradedSinceDepthAsk.Count
            + source.TakenByUsBid.Count + source.TakenByUsAsk.Count + source.CrossingBid.Count + source.CrossingAsk.Count
            + source.pendingBids.Count + source.pendingAsks.Count > 0 || source.CountdownDeadline != 0)
        {
            throw new InvalidOperationException($"{Spec.Symbol}: only a market without orders of ours can be copied");
        }

        foreach (var (price, qty) in source.ExternalBids)
        {
            ExternalBids.Add(price, qty);
        }

        foreach (var (price, qty) in source.ExternalAsks)
        {
            ExternalAsks.Add(price, qty);
        }

        Array.Copy(source.tape, tape, TapeCapacity);
        (tapeCount, tapeNext) = (source.tapeCount, source.tapeNext);
        LastUpdateId = source.LastUpdateId;
        LastEventTime = source.LastEventTime;
        NextOrderId = source.NextOrderId;
        NextTradeId = source.NextTradeId;
        LastPrice = source.LastPrice;
        LastTicker = source.LastTicker;
    }

    public SortedDictionary<decimal, decimal> External(BookSide side) => side == BookSide.Bid ? ExternalBids : ExternalAsks;

    public SortedDictionary<decimal, List<SimOrder>> Ours(OrderSide side) => side == OrderSide.Buy ? OurBids : OurAsks;

    public Dictionary<decimal, decimal> TradedSinceDepth(BookSide side) => side == BookSide.Bid ? TradedSinceDepthBid : TradedSinceDepthAsk;

    public Dictionary<decimal, decimal> TakenByUs(BookSide side) => side == BookSide.Bid ? TakenByUsBid : TakenByUsAsk;

    public Dictionary<decimal, decimal> Crossing(BookSide side) => side == BookSide.Bid ? CrossingBid : CrossingAsk;

    public void MarkChanged(BookSide side, decimal price)
    {
        if (side == BookSide.Bid)
        {
            pendingBids.Add(price);
        }
        else
        {
            pendingAsks.Add(price);
        }
    }

    public decimal ExternalQty(BookSide side, decimal price) => External(side).TryGetValue(price, out var q) ? q : 0m;

    public decimal OurQty(BookSide side, decimal price)
    {
        var ours = side == BookSide.Bid ? OurBids : OurAsks;
        if (!ours.TryGetValue(price, out var list))
        {
            return 0m;
        }

        var sum = 0m;
        foreach (var o in list)
        {
            sum += o.Remaining;
        }

        return sum;
    }

    public decimal PublishedQty(BookSide side, decimal price) => ExternalQty(side, price) + OurQty(side, price);

    /// <summary>Best published level (other participants and us) of a side, or null when the side is empty.</summary>
    public BookLevel? Best(BookSide side)
    {
        decimal? best = null;
        foreach (var p in External(side).Keys)
        {
            best = p;
            break;
        }

        foreach (var p in (side == BookSide.Bid ? OurBids : OurAsks).Keys)
        {
            if (best is null || (side == BookSide.Bid ? p > best : p < best))
            {
                best = p;
            }

            break;
        }

        return best is { } price ? new BookLevel(price, PublishedQty(side, price)) : null;
    }

    public BookLevel? BestExternal(BookSide side)
    {
        foreach (var kv in External(side))
        {
            return new BookLevel(kv.Key, kv.Value);
        }

        return null;
    }

    /// <summary>Mark price: the mid of the displayed book, else the last trade.</summary>
    public decimal MarkPrice()
    {
        var bid = BestExternal(BookSide.Bid);
        var ask = BestExternal(BookSide.Ask);
        if (bid is { } b && ask is { } a)
        {
            return RoundToTick((b.Price + a.Price) / 2m);
        }

        return LastPrice != 0m ? LastPrice : bid?.Price ?? ask?.Price ?? 0m;
    }

    public decimal RoundToTick(decimal price) => Math.Round(price / Spec.TickSize, MidpointRounding.ToZero) * Spec.TickSize;

    public List<BookLevel> Levels(BookSide side, int limit)
    {
        // Merge the external levels with ours; both dictionaries iterate best first.
        var result = new List<BookLevel>(Math.Min(limit, 64));
        var prices = new SortedSet<decimal>(side == BookSide.Bid ? Descending : Comparer<decimal>.Default);
        foreach (var p in External(side).Keys)
        {
            if (prices.Count >= limit)
            {
                break;
            }

            prices.Add(p);
        }

        foreach (var p in (side == BookSide.Bid ? OurBids : OurAsks).Keys)
        {
            prices.Add(p);
        }

        foreach (var p in prices)
        {
            if (result.Count >= limit)
            {
                break;
            }

            result.Add(new BookLevel(p, PublishedQty(side, p)));
        }

        return result;
    }

    public PublicTrade Print(decimal price, decimal qty, bool buyerIsMaker, long time)
    {
        var trade = new PublicTrade(Spec.Symbol, NextTradeId++, price, qty, buyerIsMaker, time);
        tape[tapeNext] = trade;
        tapeNext = (tapeNext + 1) % TapeCapacity;
        tapeCount = Math.Min(tapeCount + 1, TapeCapacity);
        LastPrice = price;
        return trade;
    }

    /// <summary>The most recent public trades, oldest first.</summary>
    public List<PublicTrade> RecentTrades(int limit)
    {
        var n = Math.Min(limit, tapeCount);
        var result = new List<PublicTrade>(n);
        for (var i = n; i > 0; i--)
        {
            result.Add(tape[((tapeNext - i) % TapeCapacity + TapeCapacity) % TapeCapacity]);
        }

        return result;
    }

    /// <summary>
    /// Publishes the levels touched since the last flush as one depth diff (update ids U..u, one per level) and a
    /// bookTicker when the top changed. Returns false when nothing changed.
    /// </summary>
    public bool Flush(long now, out DepthUpdate? depth, out BookTicker? ticker)
    {
        depth = null;
        ticker = null;
        var count = pendingBids.Count + pendingAsks.Count;
        if (count == 0)
        {
            return false;
        }

        var bids = new List<BookLevel>(pendingBids.Count);
        foreach (var p in pendingBids)
        {
            bids.Add(new BookLevel(p, PublishedQty(BookSide.Bid, p)));
        }

        var asks = new List<BookLevel>(pendingAsks.Count);
        foreach (var p in pendingAsks)
        {
            asks.Add(new BookLevel(p, PublishedQty(BookSide.Ask, p)));
        }

        pendingBids.Clear();
        pendingAsks.Clear();
        var previous = LastUpdateId;
        LastUpdateId += count;
        LastEventTime = now;
        depth = new DepthUpdate(Spec.Symbol, now, now, previous + 1, LastUpdateId, previous, bids, asks);

        var bestBid = Best(BookSide.Bid) ?? default;
        var bestAsk = Best(BookSide.Ask) ?? default;
        if (LastTicker is not { } last || last.BidPrice != bestBid.Price || last.BidQty != bestBid.Qty
            || last.AskPrice != bestAsk.Price || last.AskQty != bestAsk.Qty)
        {
            ticker = new BookTicker(Spec.Symbol, LastUpdateId, now, now, bestBid.Price, bestBid.Qty, bestAsk.Price, bestAsk.Qty);
            LastTicker = ticker;
        }

        return true;
    }

    public BookTicker CurrentTicker(long now)
    {
        var bestBid = Best(BookSide.Bid) ?? default;
        var bestAsk = Best(BookSide.Ask) ?? default;
        return new BookTicker(Spec.Symbol, LastUpdateId, now, LastEventTime, bestBid.Price, bestBid.Qty, bestAsk.Price, bestAsk.Qty);
    }
}
