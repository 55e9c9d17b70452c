namespace Chaser.Core.Chasing;

/// <summary>Which request to the exchange an answer is about.</summary>
public enum RequestKind
{
    Place,
    Modify,
    Cancel,
}

/// <summary>How the chaser treats a rejected request. The adapter maps Binance's codes (see <see cref="BinanceRejects"/>).</summary>
public enum RejectKind
{
    /// <summary>-5022: a post-only order (or modify) would have crossed the book.</summary>
    PostOnlyWouldCross,

    /// <summary>-2011 / -2013: the exchange does not know the order (already filled, canceled or never placed).</summary>
    UnknownOrder,

    /// <summary>Rate limits, throttling, a busy exchange (-1003, -1008, -1015, 429, 503 "Service Unavailable"): retry later.</summary>
    Retryable,

    /// <summary>Anything else (filters, margin, permissions, quantitative-rules restriction): do not retry.</summary>
    Fatal,
}

/// <summary>The order's status as the exchange reports it.</summary>
public enum ExchangeOrderStatus
{
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Expired,
}

/// <summary>Which connection an outage is about.</summary>
public enum ConnectionScope
{
    /// <summary>Market data: the book can't be trusted until it is whole again.</summary>
    MarketData,

    /// <summary>The user data stream / order entry: our orders' state can't be seen until reconciled.</summary>
    OrderEntry,
}

/// <summary>The exchange accepted a new order or a modify (REST/WS-API response or the stream's NEW / AMENDMENT).</summary>
public readonly record struct OrderAccepted(
    string ClientOrderId,
    long ExchangeOrderId,
    decimal Price,
    decimal Quantity,
    bool IsModify,
    DateTimeOffset ExchangeTime,
    DateTimeOffset Time);

/// <summary>The exchange refused a request.</summary>
public readonly record struct OrderRejected(
    string ClientOrderId,
    RequestKind Request,
    RejectKind Kind,
    int Code,
    string? Message,
    DateTimeOffset Time);

/// <summary>One execution of a child order (ORDER_TRADE_UPDATE with x=TRADE, or a userTrades row).</summary>
public readonly record struct Fill(
    string ClientOrderId,
    long TradeId,
    decimal Price,
    decimal Quantity,
    decimal Fee,
    string? FeeAsset,
    bool IsMaker,
    decimal CumulativeQuantity,
    bool OrderFullyFilled,
    DateTimeOffset ExchangeTime,
    DateTimeOffset Time);

/// <summary>The order reached a final state other than by our fills alone: canceled, expired, or filled (with cumulative executed quantity).</summary>
public readonly record struct OrderFinished(
    string ClientOrderId,
    ExchangeOrderStatus Status,
    decimal ExecutedQuantity,
    DateTimeOffset ExchangeTime,
    DateTimeOffset Time);

/// <summary>A request whose outcome is unknown (timeout, HTTP 503 "Unknown error", -1007): the order must be queried.</summary>
public readonly record struct RequestOutcomeUnknown(string ClientOrderId, RequestKind Request, DateTimeOffset Time);

/// <summary>The answer to a status query of one of our child orders (GET order, after userTrades were fed as fills).</summary>
public readonly record struct OrderStatusReport(
    string ClientOrderId,
    bool Found,
    ExchangeOrderStatus Status,
    decimal Price,
    decimal Quantity,
    decimal ExecutedQuantity,
    DateTimeOffset Time);

/// <summary>A print on the tape (aggTrade).</summary>
public readonly record struct TradePrint(decimal Price, decimal Quantity, bool BuyerIsMaker, DateTimeOffset ExchangeTime, DateTimeOffset Time);
