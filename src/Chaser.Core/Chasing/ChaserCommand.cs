using Chaser.Core.Domain;

namespace Chaser.Core.Chasing;

public enum ChaserCommandKind
{
    /// <summary>Post a new child order.</summary>
    Place,

    /// <summary>Change the live child's price and total quantity in place (Binance PUT order).</summary>
    Modify,

    /// <summary>Cancel the live child.</summary>
    Cancel,

    /// <summary>Ask the exchange for the child's state (order status, and its trades fed back as fills).</summary>
    Query,

    /// <summary>The parent order is final.</summary>
    Finish,
}

/// <summary>The child order type a <see cref="ChaserCommandKind.Place"/> asks for.</summary>
public enum ChildOrderType
{
    /// <summary>LIMIT with timeInForce=GTX: rests as maker or is rejected.</summary>
    PostOnly,

    /// <summary>MARKET: takes liquidity. Only for <see cref="DeadlineAction.TakeRemainder"/> and <see cref="ChaserOptions.TakeAtArrival"/>.</summary>
    Market,
}

public enum FinishReason
{
    None,
    Filled,
    Canceled,
    Expired,
    Failed,
}

/// <summary>The event that triggered a decision.</summary>
public enum EventKind
{
    Start,
    BookTop,
    Depth,
    Trade,
    Accepted,
    Rejected,
    Fill,
    OrderFinished,
    OutcomeUnknown,
    StatusReport,
    ConnectivityLost,
    ConnectivityRestored,
    Timer,
    RateBudget,
    UserCancel,

    /// <summary>The symbol's invalid-cancellation allowance changed (<see cref="ChaserStateMachine.OnCancelBudget"/>).</summary>
    CancelBudget,
}

/// <summary>The rule that produced a command: with the triggering event, the decision log's explanation.</summary>
public enum DecisionRule
{
    /// <summary>No child live: post the remainder at the best price.</summary>
    PostAtBest,

    /// <summary>A better price appeared on our side: move up to it.</summary>
    RepriceBehindBest,

    /// <summary>We are alone above the rest of our side: move back to the next level.</summary>
    RepriceAloneAtTop,

    /// <summary>Re-post after a post-only rejection.</summary>
    RepostAfterPostOnlyReject,

    /// <summary>The remainder can't be posted any more: the target is reached.</summary>
    TargetReached,

    /// <summary>The initial target can't be posted at all (below min quantity or min notional).</summary>
    TargetNotPostable,

    /// <summary>A modify was refused by a filter: fall back to cancel + new.</summary>
    CancelAfterModifyRefused,

    /// <summary>The outcome of a request is unknown: query before anything else.</summary>
    ConfirmUnknownOutcome,

    /// <summary>The final state of a child did not arrive in time: query it.</summary>
    ConfirmFinalState,

    /// <summary>Order entry came back: reconcile the live child with the exchange.</summary>
    ReconcileAfterReconnect,

    /// <summary>Deadline passed: cancel and expire.</summary>
    DeadlineExpire,

    /// <summary>Deadline passed: take the remainder with a market order (only when asked).</summary>
    DeadlineTakeRemainder,

    /// <summary>The user canceled the parent order.</summary>
    UserCancel,

    /// <summary>The exchange refused an order for a reason retrying won't fix.</summary>
    FatalReject,

    /// <summary>Take the order with market orders from the start (<see cref="ChaserOptions.TakeAtArrival"/>).</summary>
    TakeAtArrival,
}

/// <summary>Why a command was issued: the event that triggered it and the rule that decided it.</summary>
public readonly record struct DecisionCause(EventKind Trigger, DecisionRule Rule);

/// <summary>
/// One command from the chaser to its host. A value type so that a decision allocates nothing; fields not used by
/// a kind are zero. <see cref="Quantity"/> of a modify is the order's new <b>total</b> quantity, as Binance's PUT wants.
/// </summary>
public readonly record struct ChaserCommand(
    ChaserCommandKind Kind,
    string ClientOrderId,
    Side Side,
    ChildOrderType OrderType,
    decimal Price,
    decimal Quantity,
    FinishReason FinishReason,
    DecisionCause Cause,
    string? Detail = null)
{
    /// <summary>
    /// This request cancels (or, with <see cref="ChaserOptions.CountModifyAsCancel"/>, modifies) an order younger than
    /// <see cref="ChaserOptions.InvalidCancelWindow"/>: what Binance counts as an invalid cancellation. Whoever sends
    /// the request records it to the symbol's <see cref="CancellationRatioTracker"/>.
    /// </summary>
    public bool CountsAsYoungCancel { get; init; }

    public override string ToString() => Kind switch
    {
        ChaserCommandKind.Place => $"Place {ClientOrderId} {Side} {OrderType} {Quantity}@{Price} ({Cause.Trigger}/{Cause.Rule})",
        ChaserCommandKind.Modify => $"Modify {ClientOrderId} {Quantity}@{Price} ({Cause.Trigger}/{Cause.Rule})",
        ChaserCommandKind.Cancel => $"Cancel {ClientOrderId} ({Cause.Trigger}/{Cause.Rule})",
        ChaserCommandKind.Query => $"Query {ClientOrderId} ({Cause.Trigger}/{Cause.Rule})",
        _ => $"Finish {FinishReason} ({Cause.Trigger}/{Cause.Rule}){(Detail is null ? "" : ": " + Detail)}",
    };
}
