namespace Chaser.Storage;

/// <summary>The parent order's <c>status</c> column values.</summary>
public static class OrderStatus
{
    public const string New = "new";
    public const string Working = "working";
    public const string Filled = "filled";
    public const string Canceled = "canceled";
    public const string Failed = "failed";
    public const string Expired = "expired";

    public static IReadOnlyList<string> All { get; } = [New, Working, Filled, Canceled, Failed, Expired];

    /// <summary>A final status: nothing more will happen to the order.</summary>
    public static bool IsFinal(string status) => status is Filled or Canceled or Failed or Expired;
}

/// <summary>A row of <c>orders</c>: the parent order as the user created it, and how it ended.</summary>
public sealed class OrderRow
{
    public long Id { get; set; }

    public string Exchange { get; set; } = "binfut";

    public string Symbol { get; set; } = "";

    public string Type { get; set; } = "limit";

    public decimal Size { get; set; }

    /// <summary>"n" (notional in quote currency) or "q" (base quantity).</summary>
    public string SizeType { get; set; } = "q";

    /// <summary>+1 buy, −1 sell.</summary>
    public int Side { get; set; }

    public bool ReduceOnly { get; set; }

    public bool Liquidated { get; set; }

    /// <summary>The user's benchmark price; 0 = none.</summary>
    public decimal PriceExpected { get; set; }

    public string Strategy { get; set; } = "";

    public DateTimeOffset? Deadline { get; set; }

    /// <summary>How long the order may work, counted from when it starts working (not from when it was created or queued).</summary>
    public long? TimeLimitMs { get; set; }

    /// <summary>"cancel" (cancel and expire) or "take" (take the remainder with a market order).</summary>
    public string DeadlineAction { get; set; } = "cancel";

    /// <summary>The order's own minimum time between two re-pricing requests (0 to 600,000 ms); null keeps the engine's.</summary>
    public long? MinRepriceIntervalMs { get; set; }

    public string Status { get; set; } = OrderStatus.New;

    public string? StatusDetail { get; set; }

    /// <summary>The venue the order was claimed for (e.g. <c>live https://fapi.binance.com</c>); null while new.</summary>
    public string? Venue { get; set; }

    /// <summary>The account on that venue: a fingerprint of the API key, never the key itself; null while new.</summary>
    public string? Account { get; set; }

    /// <summary>When the process working the order (queued or working) last said it is alive; null while new.</summary>
    public DateTimeOffset? HeartbeatAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public decimal ArrivalMid { get; set; }

    public decimal FilledQty { get; set; }

    public decimal FilledNotional { get; set; }

    public decimal AvgPrice { get; set; }

    public decimal Fees { get; set; }

    public int ChildOrders { get; set; }

    public int Modifies { get; set; }

    public int Cancels { get; set; }

    public int PostOnlyRejects { get; set; }

    public List<ChildOrderRow> Children { get; set; } = [];

    public List<FillRow> Fills { get; set; } = [];

    public List<MidRow> Mids { get; set; } = [];

    public List<EventRow> Events { get; set; } = [];

    public List<MarketTradeRow> MarketTrades { get; set; } = [];
}

/// <summary>A row of <c>child_orders</c>: the latest known state of one child order.</summary>
public sealed class ChildOrderRow
{
    public long Id { get; set; }

    public long OrderId { get; set; }

    public string ClientOrderId { get; set; } = "";

    public long ExchangeOrderId { get; set; }

    public int Sequence { get; set; }

    /// <summary>"post_only" or "market".</summary>
    public string Type { get; set; } = "";

    public decimal Price { get; set; }

    public decimal Qty { get; set; }

    /// <summary>pending_new, live, pending_modify, pending_cancel, unknown, awaiting_final while open; filled, canceled, expired, rejected (or closed) once final.</summary>
    public string Status { get; set; } = "";

    public decimal FilledQty { get; set; }

    public int Modifies { get; set; }

    public DateTimeOffset SentAt { get; set; }

    public DateTimeOffset? AckedAt { get; set; }

    public DateTimeOffset? DoneAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A row of <c>fills</c>: one execution of a child order.</summary>
public sealed class FillRow
{
    public long Id { get; set; }

    public long OrderId { get; set; }

    public string ClientOrderId { get; set; } = "";

    public long TradeId { get; set; }

    public decimal Price { get; set; }

    public decimal Qty { get; set; }

    public decimal Fee { get; set; }

    public string? FeeAsset { get; set; }

    public bool IsMaker { get; set; }

    public DateTimeOffset ExchangeTime { get; set; }

    public DateTimeOffset ReceivedTime { get; set; }
}

/// <summary>A row of <c>mids</c>: the book's top when its mid changed.</summary>
public sealed class MidRow
{
    public long Id { get; set; }

    public long OrderId { get; set; }

    public decimal Bid { get; set; }

    public decimal Ask { get; set; }

    public decimal Mid { get; set; }

    public DateTimeOffset ExchangeTime { get; set; }

    public DateTimeOffset ReceivedTime { get; set; }
}

/// <summary>A row of <c>market_trades</c>: a print on the market's tape while the order worked.</summary>
public sealed class MarketTradeRow
{
    public long Id { get; set; }

    public long OrderId { get; set; }

    public decimal Price { get; set; }

    public decimal Qty { get; set; }

    public bool BuyerIsMaker { get; set; }

    public DateTimeOffset ExchangeTime { get; set; }

    public DateTimeOffset ReceivedTime { get; set; }
}

/// <summary>A row of <c>events</c>: one decision of the chaser with its cause, tick-to-order latency and hop.</summary>
public sealed class EventRow
{
    public long Id { get; set; }

    public long OrderId { get; set; }

    public DateTimeOffset Time { get; set; }

    /// <summary>The command: place, modify, cancel, query or finish.</summary>
    public string Kind { get; set; } = "";

    public string? ClientOrderId { get; set; }

    public decimal? Price { get; set; }

    public decimal? Qty { get; set; }

    /// <summary>The event that triggered the decision (snake_case of <c>EventKind</c>).</summary>
    public string Trigger { get; set; } = "";

    /// <summary>The rule that decided it (snake_case of <c>DecisionRule</c>).</summary>
    public string Rule { get; set; } = "";

    /// <summary>For a finish: filled, canceled, expired or failed.</summary>
    public string? FinishReason { get; set; }

    public string? Detail { get; set; }

    /// <summary>Latency from the triggering tick's arrival to the request being sent, in microseconds (not money: a double).</summary>
    public double? TickToOrderUs { get; set; }

    /// <summary>The engine's hop: from the arrival of the input decided on to the request's bytes on the socket, in microseconds.</summary>
    public double? HopUs { get; set; }
}
