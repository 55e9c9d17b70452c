namespace Chaser.Core.Chasing;

/// <summary>Where a child order is in its life, as far as the chaser knows.</summary>
public enum ChildState
{
    /// <summary>Place sent, no answer yet.</summary>
    PendingNew,

    /// <summary>Resting on the book.</summary>
    Live,

    /// <summary>Modify sent, no answer yet.</summary>
    PendingModify,

    /// <summary>Cancel sent, no answer yet.</summary>
    PendingCancel,

    /// <summary>A request's outcome is unknown, or the child must be reconciled: a query is out.</summary>
    Unknown,

    /// <summary>The exchange no longer has it open (cancel refused as unknown, post-only modify) but its final state has not arrived.</summary>
    AwaitingFinal,

    /// <summary>Filled, canceled, expired or rejected: nothing more will happen to it but late fill reports.</summary>
    Final,
}

/// <summary>One child order of a parent order, as the chaser tracks it.</summary>
public sealed class ChildOrder
{
    internal ChildOrder(string clientOrderId, int sequence, ChildOrderType orderType, decimal price, decimal quantity, DateTimeOffset sentAt)
    {
        ClientOrderId = clientOrderId;
        Sequence = sequence;
        OrderType = orderType;
        Price = price;
        HighestPrice = price;
        Quantity = quantity;
        SentAt = sentAt;
        PlacedAt = sentAt;
        StateSince = sentAt;
        LastRequestSentAt = sentAt;
    }

    public string ClientOrderId { get; }

    public int Sequence { get; }

    public ChildOrderType OrderType { get; }

    public long ExchangeOrderId { get; internal set; }

    /// <summary>The price it rests at (or was sent at, while pending).</summary>
    public decimal Price { get; internal set; }

    /// <summary>Total order quantity, executed part included (Binance's origQty).</summary>
    public decimal Quantity { get; internal set; }

    public ChildState State { get; internal set; }

    /// <summary>The exchange's final status once <see cref="State"/> is <see cref="ChildState.Final"/>; null for a rejected or never-placed order.</summary>
    public ExchangeOrderStatus? FinalStatus { get; internal set; }

    public bool WasRejected { get; internal set; }

    /// <summary>Quantity counted from fills we have seen (each trade once).</summary>
    public decimal FilledQuantity { get; internal set; }

    public decimal FilledNotional { get; internal set; }

    /// <summary>The largest cumulative executed quantity the exchange has reported for it (may run ahead of the fills we have seen).</summary>
    public decimal ReportedExecutedQuantity { get; internal set; }

    public DateTimeOffset SentAt { get; }

    /// <summary>When it was last placed or re-queued by a modify: its age for the invalid-cancellation rule.</summary>
    public DateTimeOffset PlacedAt { get; internal set; }

    /// <summary>Exchange time of the last accept (new or modify); a book older than this does not show the order.</summary>
    public DateTimeOffset? AcceptedExchangeTime { get; internal set; }

    /// <summary>The price this order rested at before its latest accepted modify (null if never modified).</summary>
    public decimal? VacatedPrice { get; internal set; }

    public DateTimeOffset StateSince { get; internal set; }

    public int Modifies { get; internal set; }

    internal decimal PendingPrice { get; set; }

    /// <summary>
    /// The highest price it was ever sent at (placed or modified to): part of its open quantity may have executed
    /// there with the fills not yet seen, even after later modifies were accepted.
    /// </summary>
    internal decimal HighestPrice { get; set; }

    internal decimal PendingQuantity { get; set; }

    internal DateTimeOffset? LastQueryAt { get; set; }

    /// <summary>When the last place / modify / cancel for it was sent.</summary>
    internal DateTimeOffset LastRequestSentAt { get; set; }

    /// <summary>In <see cref="ChildState.Unknown"/> because a request's outcome is unknown (not a reconnect's reconcile).</summary>
    internal bool RequestOutcomeUnknown { get; set; }

    /// <summary>A status query is not sent before this (the in-flight request could still change the answer).</summary>
    internal DateTimeOffset QueryNotBefore { get; set; }

    internal bool ModifyRefused { get; set; }

    /// <summary>Executed quantity the chaser must assume: what it saw filled, or more if the exchange said so.</summary>
    public decimal CommittedQuantity => Math.Max(FilledQuantity, ReportedExecutedQuantity);

    /// <summary>Executed quantity reported by the exchange whose fills have not arrived yet.</summary>
    public decimal UnaccountedQuantity => Math.Max(0m, ReportedExecutedQuantity - FilledQuantity);

    /// <summary>Quantity still open on the book.</summary>
    public decimal LeavesQuantity => State == ChildState.Final ? 0m : Math.Max(0m, Quantity - CommittedQuantity);

    public bool IsOpen => State != ChildState.Final;

    internal void Enter(ChildState state, DateTimeOffset time)
    {
        RequestOutcomeUnknown = false;
        State = state;
        StateSince = time;
    }
}
