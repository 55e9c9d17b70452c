using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Rules;

namespace Chaser.Core.Replay;

/// <summary>
/// What a parent order's <see cref="ChaserStateMachine"/> was built from when it started working: enough to build the
/// same machine again. <see cref="Spec"/> is the order as started (its deadline resolved from its time limit),
/// <see cref="Options"/> the engine's options before the order's own re-price interval is applied (the machine applies
/// it), <see cref="InitialRateBudget"/> the order-rate budget handed to the machine before <c>Start</c> (1 = none held back).
/// </summary>
public sealed record ReplayStart(
    ParentOrderSpec Spec,
    SymbolRules Rules,
    ChaserOptions Options,
    string ClientIdTag,
    DateTimeOffset StartedAt,
    decimal InitialRateBudget);

/// <summary>
/// One input handed to a parent order's state machine, with the exact <see cref="Time"/> it was handed at: the
/// machine's own vocabulary (<see cref="EventKind"/>), one field per kind. The time inside the event records is not
/// kept: the host replaces it with <see cref="Time"/> before the machine sees it, and so does the replay.
/// A struct, so that handing one to a recorder allocates nothing.
/// </summary>
public readonly record struct RecordedInput
{
    public EventKind Kind { get; init; }

    public DateTimeOffset Time { get; init; }

    public BookTop Book { get; init; }

    public DepthLevels? Depth { get; init; }

    public TradePrint Trade { get; init; }

    public OrderAccepted Accepted { get; init; }

    public OrderRejected Rejected { get; init; }

    public Fill Fill { get; init; }

    public OrderFinished Finished { get; init; }

    public RequestOutcomeUnknown Unknown { get; init; }

    public OrderStatusReport Status { get; init; }

    /// <summary>For <see cref="EventKind.ConnectivityLost"/> and <see cref="EventKind.ConnectivityRestored"/>.</summary>
    public ConnectionScope Scope { get; init; }

    /// <summary>For <see cref="EventKind.RateBudget"/>: the fraction of the order-rate budget available.</summary>
    public decimal Budget { get; init; }

    /// <summary>
    /// As read back from a recording: how many of the order's decisions were recorded before this input, so that a
    /// replay knows which decisions followed which input (one after which none followed included). Not the machine's:
    /// a host leaves it 0, the recorder counts (it sees the order's decisions and inputs in the order they were made).
    /// </summary>
    public int DecisionsBefore { get; init; }

    /// <summary>Hands this input to <paramref name="machine"/> as a live host does: every event record at <see cref="Time"/>.</summary>
    public ChaserDecisions ApplyTo(ChaserStateMachine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return Kind switch
        {
            EventKind.BookTop => machine.OnBookTop(Book, Time),
            EventKind.Depth => machine.OnDepth(Depth ?? throw new InvalidOperationException("a depth input without its levels"), Time),
            EventKind.Trade => machine.OnTrade(Trade with { Time = Time }),
            EventKind.Accepted => machine.OnAccepted(Accepted with { Time = Time }),
            EventKind.Rejected => machine.OnRejected(Rejected with { Time = Time }),
            EventKind.Fill => machine.OnFill(Fill with { Time = Time }),
            EventKind.OrderFinished => machine.OnOrderFinished(Finished with { Time = Time }),
            EventKind.OutcomeUnknown => machine.OnOutcomeUnknown(Unknown with { Time = Time }),
            EventKind.StatusReport => machine.OnStatusReport(Status with { Time = Time }),
            EventKind.ConnectivityLost => machine.OnConnectivityLost(Scope, Time),
            EventKind.ConnectivityRestored => machine.OnConnectivityRestored(Scope, Time),
            EventKind.RateBudget => machine.OnRateBudget(Budget, Time),
            EventKind.UserCancel => machine.OnUserCancel(Time),
            EventKind.Timer => machine.OnTimer(Time),
            _ => throw new InvalidOperationException($"{Kind} is not an input a host hands to a running machine"),
        };
    }
}

/// <summary>
/// One decision as the <c>events</c> table keeps it: a command without the fields a kind doesn't use (no price or
/// quantity for a cancel, a query or a finish; no client order id for a finish), so that a command and its stored row
/// compare equal.
/// </summary>
public readonly record struct RecordedDecision(
    ChaserCommandKind Kind,
    string? ClientOrderId,
    decimal? Price,
    decimal? Quantity,
    EventKind Trigger,
    DecisionRule Rule,
    FinishReason? FinishReason,
    string? Detail)
{
    /// <summary>The command as it would be stored.</summary>
    public static RecordedDecision Of(in ChaserCommand command)
    {
        var finish = command.Kind == ChaserCommandKind.Finish;
        var priced = command.Kind is ChaserCommandKind.Place or ChaserCommandKind.Modify;
        return new RecordedDecision(
            command.Kind,
            finish ? null : command.ClientOrderId,
            priced ? command.Price : null,
            priced ? command.Quantity : null,
            command.Cause.Trigger,
            command.Cause.Rule,
            finish ? command.FinishReason : null,
            command.Detail);
    }

    public override string ToString()
    {
        var cause = $"({Trigger}/{Rule})";
        return Kind switch
        {
            ChaserCommandKind.Place or ChaserCommandKind.Modify => $"{Kind} {ClientOrderId} {Quantity}@{Price} {cause}",
            ChaserCommandKind.Finish => $"Finish {FinishReason} {cause}{(Detail is null ? "" : ": " + Detail)}",
            _ => $"{Kind} {ClientOrderId} {cause}",
        };
    }
}
