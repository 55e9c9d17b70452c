using Chaser.Core.Market;

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

/// <summary>
/// One input of a parent order's chaser, as it travels from the socket to the state machine: the connector's sink,
/// the engine's routing, a runner's inbox, the host and <see cref="ChaserStateMachine.Apply"/> all speak it, so the
/// vocabulary is declared once (<see cref="EventKind"/> names it; the record structs above carry it). A struct, so
/// queueing a market-data frame allocates nothing; only the field of its kind is set.
/// </summary>
public readonly struct ChaserInput
{
    public EventKind Kind { get; private init; }

    /// <summary>The symbol of a market-data input (book, depth, trade) or a market-data outage (null: every symbol).</summary>
    public string? Symbol { get; private init; }

    /// <summary>
    /// The <see cref="TimeProvider.GetTimestamp"/> reading when the input arrived (0 when unknown): a frame or an
    /// answer when its bytes were read, a timer when it fired. Where the engine's hop (input to bytes on the socket)
    /// is measured from, and a price frame's tick-to-order.
    /// </summary>
    public long ReceivedTimestamp { get; private init; }

    public BookTop Book { get; private init; }

    public DepthLevels? Depth { get; private init; }

    public TradePrint Trade { get; private init; }

    public OrderAccepted Accepted { get; private init; }

    public OrderRejected Rejected { get; private init; }

    public Fill Fill { get; private init; }

    public OrderFinished Finished { get; private init; }

    public RequestOutcomeUnknown Unknown { get; private init; }

    public OrderStatusReport Status { get; private init; }

    /// <summary>Which connection a <see cref="EventKind.ConnectivityLost"/> / <see cref="EventKind.ConnectivityRestored"/> is about.</summary>
    public ConnectionScope Scope { get; private init; }

    /// <summary>The share of the account's order-rate budget still available (0..1), for <see cref="EventKind.RateBudget"/>.</summary>
    public decimal Budget { get; private init; }

    /// <summary>For <see cref="EventKind.CancelBudget"/>: whether the symbol allows one more young cancel.</summary>
    public bool YoungCancelsAllowed { get; private init; }

    /// <summary>The client order id an order event names; null for market data, timers and the rest.</summary>
    public string? ClientOrderId => Kind switch
    {
        EventKind.Accepted => Accepted.ClientOrderId,
        EventKind.Rejected => Rejected.ClientOrderId,
        EventKind.Fill => Fill.ClientOrderId,
        EventKind.OrderFinished => Finished.ClientOrderId,
        EventKind.OutcomeUnknown => Unknown.ClientOrderId,
        EventKind.StatusReport => Status.ClientOrderId,
        _ => null,
    };

    /// <summary>Whether this is market data (book, depth): a frame the chaser prices from.</summary>
    public bool IsPriceFrame => Kind is EventKind.BookTop or EventKind.Depth;

    /// <summary>The same input, received at <paramref name="timestamp"/> (a <see cref="TimeProvider.GetTimestamp"/> reading).</summary>
    public ChaserInput ReceivedAt(long timestamp) => this with { ReceivedTimestamp = timestamp };

    public static ChaserInput Start { get; } = new() { Kind = EventKind.Start };

    public static ChaserInput Timer { get; } = new() { Kind = EventKind.Timer };

    public static ChaserInput UserCancel { get; } = new() { Kind = EventKind.UserCancel };

    public static ChaserInput OfBook(string symbol, in BookTop top, long receivedTimestamp) =>
        new() { Kind = EventKind.BookTop, Symbol = symbol, Book = top, ReceivedTimestamp = receivedTimestamp };

    public static ChaserInput OfDepth(string symbol, DepthLevels depth, long receivedTimestamp) =>
        new() { Kind = EventKind.Depth, Symbol = symbol, Depth = depth ?? throw new ArgumentNullException(nameof(depth)), ReceivedTimestamp = receivedTimestamp };

    public static ChaserInput OfTrade(string symbol, in TradePrint trade) => new() { Kind = EventKind.Trade, Symbol = symbol, Trade = trade };

    public static ChaserInput OfAccepted(in OrderAccepted accepted) => new() { Kind = EventKind.Accepted, Accepted = accepted };

    public static ChaserInput OfRejected(in OrderRejected rejected) => new() { Kind = EventKind.Rejected, Rejected = rejected };

    public static ChaserInput OfFill(in Fill fill) => new() { Kind = EventKind.Fill, Fill = fill };

    public static ChaserInput OfFinished(in OrderFinished finished) => new() { Kind = EventKind.OrderFinished, Finished = finished };

    public static ChaserInput OfUnknown(in RequestOutcomeUnknown unknown) => new() { Kind = EventKind.OutcomeUnknown, Unknown = unknown };

    public static ChaserInput OfStatus(in OrderStatusReport report) => new() { Kind = EventKind.StatusReport, Status = report };

    /// <summary>A connection went down (<paramref name="up"/> false) or came back; <paramref name="symbol"/> null: every symbol.</summary>
    public static ChaserInput OfConnectivity(ConnectionScope scope, string? symbol, bool up) =>
        new() { Kind = up ? EventKind.ConnectivityRestored : EventKind.ConnectivityLost, Scope = scope, Symbol = symbol };

    public static ChaserInput OfRateBudget(decimal availableFraction) => new() { Kind = EventKind.RateBudget, Budget = availableFraction };

    /// <summary>The symbol's invalid-cancellation allowance changed (its host keeps the <see cref="CancellationRatioTracker"/>).</summary>
    public static ChaserInput OfCancelBudget(bool youngCancelsAllowed) => new() { Kind = EventKind.CancelBudget, YoungCancelsAllowed = youngCancelsAllowed };
}
