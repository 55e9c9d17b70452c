using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Rules;

namespace Chaser.Core.Replay;

/// <summary>
/// What a parent order's <see cref="ChaserStateMachine"/> was built from when it started working: enough to build the
/// same machine again. <see cref="Spec"/> is the order as started (its deadline resolved from its time limit),
/// <see cref="Options"/> the machine's (the order's own re-price interval applied: applying it again changes nothing),
/// <see cref="InitialRateBudget"/> the order-rate budget handed to the machine before <c>Start</c> (1 = none held back).
/// The symbol's cancel budget is not here: every change of it is an input (<see cref="EventKind.CancelBudget"/>).
/// </summary>
public sealed record ReplayStart(
    ParentOrderSpec Spec,
    SymbolRules Rules,
    ChaserOptions Options,
    string ClientIdTag,
    DateTimeOffset StartedAt,
    decimal InitialRateBudget)
{
    /// <summary>What <paramref name="machine"/> was built from, as it starts at <paramref name="startedAt"/>.</summary>
    public static ReplayStart Of(ChaserStateMachine machine, DateTimeOffset startedAt, decimal initialRateBudget)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return new ReplayStart(machine.Spec, machine.Rules, machine.Options, machine.ClientIdTag, startedAt, initialRateBudget);
    }

    /// <summary>A machine built as the recorded one was, not started.</summary>
    public ChaserStateMachine Build() => new(Spec, Rules, Options, ClientIdTag);
}

/// <summary>
/// One input as read back from a recording: the <see cref="ChaserInput"/> the host handed the machine, the exact
/// <see cref="Time"/> it handed it at (the machine takes its "now" from it, not from the times inside the event
/// records), and <see cref="DecisionsBefore"/>: how many of the order's decisions were recorded before it, so that a
/// replay knows which decisions followed which input (one after which none followed included). The count is not the
/// machine's: the recorder counts (it sees the order's decisions and inputs in the order they were made).
/// </summary>
public readonly record struct ReplayInput(ChaserInput Input, DateTimeOffset Time, int DecisionsBefore);

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
