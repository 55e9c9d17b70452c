namespace Chaser.Simulator.Engine;

public readonly record struct BookLevel(decimal Price, decimal Qty);

/// <summary>An absolute change of one displayed level from the market source (qty 0 removes the level).</summary>
public readonly record struct LevelChange(BookSide Side, decimal Price, decimal Qty);

/// <summary>A diff of the published book (other participants plus our resting orders), Binance's depthUpdate.</summary>
public sealed record DepthUpdate(
    string Symbol, long EventTime, long TransactionTime, long FirstUpdateId, long FinalUpdateId, long PreviousFinalUpdateId,
    IReadOnlyList<BookLevel> Bids, IReadOnlyList<BookLevel> Asks);

public sealed record BookTicker(string Symbol, long UpdateId, long EventTime, long TransactionTime, decimal BidPrice, decimal BidQty, decimal AskPrice, decimal AskQty);

/// <summary>A print on the public tape. BuyerIsMaker = the seller was the aggressor.</summary>
public sealed record PublicTrade(string Symbol, long TradeId, decimal Price, decimal Qty, bool BuyerIsMaker, long Time);

public sealed record DepthSnapshot(string Symbol, long LastUpdateId, long EventTime, long TransactionTime, IReadOnlyList<BookLevel> Bids, IReadOnlyList<BookLevel> Asks);

/// <summary>Immutable view of one of our orders, in the shape REST and the user stream report.</summary>
public sealed record OrderSnapshot
{
    public required long OrderId { get; init; }
    public required string Symbol { get; init; }
    public required string ClientOrderId { get; init; }
    public required OrderSide Side { get; init; }
    public required OrderType Type { get; init; }
    public required TimeInForce TimeInForce { get; init; }
    public required decimal Price { get; init; }
    public required decimal OrigQty { get; init; }
    public required decimal ExecutedQty { get; init; }
    public required decimal CumQuote { get; init; }
    public required OrderStatus Status { get; init; }
    public required bool ReduceOnly { get; init; }
    public required string PriceMatch { get; init; }
    public required string SelfTradePreventionMode { get; init; }
    public required long GoodTillDate { get; init; }
    public required long Time { get; init; }
    public required long UpdateTime { get; init; }

    /// <summary>Displayed quantity of other participants ahead of this order in its price queue (simulator only).</summary>
    public required decimal QueueAhead { get; init; }

    public decimal AvgPrice => ExecutedQty == 0m ? 0m : CumQuote / ExecutedQty;
    public bool IsOpen => Status is OrderStatus.New or OrderStatus.PartiallyFilled;
}

/// <summary>One fill of ours, as userTrades and ORDER_TRADE_UPDATE report it.</summary>
public sealed record UserTrade(
    string Symbol, long TradeId, long OrderId, OrderSide Side, decimal Price, decimal Qty, decimal QuoteQty,
    decimal Commission, string CommissionAsset, decimal RealizedPnl, bool Maker, long Time);

/// <summary>ORDER_TRADE_UPDATE payload.</summary>
public sealed record OrderUpdate(
    OrderSnapshot Order, ExecutionType ExecutionType, long EventTime, long TransactionTime, UserTrade? Trade,
    decimal BidNotional, decimal AskNotional);

public sealed record BalanceView(string Asset, decimal WalletBalance, decimal CrossWalletBalance, decimal BalanceChange);

public sealed record PositionView(
    string Symbol, decimal Amount, decimal EntryPrice, decimal BreakEvenPrice, decimal AccumulatedRealized,
    decimal UnrealizedPnl, decimal MarkPrice, int Leverage);

/// <summary>ACCOUNT_UPDATE payload.</summary>
public sealed record AccountUpdate(string Reason, long EventTime, long TransactionTime, IReadOnlyList<BalanceView> Balances, IReadOnlyList<PositionView> Positions);

/// <summary>
/// Receives everything the engine publishes. Called synchronously under the engine lock, in order, so
/// implementations must only enqueue (never block, never call back into the engine).
/// </summary>
public interface IExchangeObserver
{
    void OnDepthUpdate(DepthUpdate update);

    void OnBookTicker(BookTicker ticker);

    void OnTrade(PublicTrade trade);

    void OnOrderUpdate(OrderUpdate update);

    void OnAccountUpdate(AccountUpdate update);
}

public sealed record NewOrderRequest
{
    public required string Symbol { get; init; }
    public required OrderSide Side { get; init; }
    public required OrderType Type { get; init; }
    public TimeInForce? TimeInForce { get; init; }
    public decimal? Quantity { get; init; }
    public decimal? Price { get; init; }
    public bool ReduceOnly { get; init; }
    public string? NewClientOrderId { get; init; }

    /// <summary>NONE, OPPONENT[_5/_10/_20], QUEUE[_5/_10/_20]; replaces price.</summary>
    public string? PriceMatch { get; init; }

    public string SelfTradePreventionMode { get; init; } = "EXPIRE_MAKER";
    public long GoodTillDate { get; init; }
}

public sealed record ModifyOrderRequest
{
    public required string Symbol { get; init; }
    public long? OrderId { get; init; }
    public string? OrigClientOrderId { get; init; }
    public required OrderSide Side { get; init; }
    public required decimal Quantity { get; init; }
    public decimal? Price { get; init; }
    public string? PriceMatch { get; init; }
}

/// <summary>
/// One successful modify of an order, as <c>GET /fapi/v1/orderAmendment</c> lists it: price and quantity before and
/// after, and which modify of the order it was (1 = the first).
/// </summary>
public sealed record OrderAmendment(long AmendmentId, string Symbol, long OrderId, string ClientOrderId, long Time,
    decimal PriceBefore, decimal PriceAfter, decimal QtyBefore, decimal QtyAfter, int Count);

/// <summary>Result of placing an order: the state at acceptance (ACK) and after matching (RESULT).</summary>
public sealed record PlaceResult(OrderSnapshot Accepted, OrderSnapshot Final);

/// <summary>The invalid-cancellation statistics of one symbol in the current 10-minute cycle.</summary>
public sealed record CancellationStats(string Symbol, int Placed, int QuickCancels, long CycleStart);
