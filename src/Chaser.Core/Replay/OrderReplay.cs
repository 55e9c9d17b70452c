using Chaser.Core.Chasing;

namespace Chaser.Core.Replay;

/// <summary>Where a replay first decided otherwise than the recording: after input <see cref="Input"/> (0 = the start).</summary>
/// <param name="Input">The input after which the decisions differ: 0 is the start, 1 the first recorded input.</param>
/// <param name="Decision">Which decision (1-based, over the whole order) differs.</param>
/// <param name="Expected">The recorded decision, or null when the recording has none there.</param>
/// <param name="Got">The replayed decision, or null when the replay made none there.</param>
public sealed record ReplayDivergence(int Input, int Decision, RecordedDecision? Expected, RecordedDecision? Got);

/// <summary>
/// The outcome of a replay: the decisions it made the same as recorded, and the first divergence if there is one.
/// <see cref="RecordingComplete"/> is false when the recorded decisions end without a finish (the process stopped
/// mid-order: a crash, a kill; restart recovery closed the order from the exchange's record, not by a decision):
/// the replay then compares what was recorded, and the last input's decisions that never reached the database are
/// not counted as a divergence.
/// </summary>
public sealed record ReplayResult(int Inputs, int SameDecisions, ReplayDivergence? Divergence, bool RecordingComplete)
{
    public bool Same => Divergence is null;
}

/// <summary>
/// Re-runs one parent order's state machine from its recorded start and inputs and compares every command it makes
/// with the recorded decisions, in order. Pure: no clock, no I/O. The machine's cancellation-ratio tracker is a fresh
/// one (the live one is shared by the orders of a symbol and is not an input yet), so an order whose cancel the
/// shared budget held back replays differently at that point.
/// </summary>
public static class OrderReplay
{
    public static ReplayResult Run(ReplayStart start, IReadOnlyList<RecordedInput> inputs, IReadOnlyList<RecordedDecision> recorded)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(recorded);

        var machine = new ChaserStateMachine(start.Spec, start.Rules, start.Options, new CancellationRatioTracker(), start.ClientIdTag);
        var complete = recorded.Count > 0 && recorded[^1].Kind == ChaserCommandKind.Finish;
        var next = 0;

        // As the live host starts a machine: a budget held back is handed over first, its decisions not acted on.
        if (start.InitialRateBudget < 1m)
        {
            machine.OnRateBudget(start.InitialRateBudget, start.StartedAt);
        }

        var fed = 0;
        var divergence = Compare(machine.Start(start.StartedAt), 0, last: inputs.Count == 0);

        // The live host stops handing inputs to a finished machine, and so does the replay.
        while (divergence is null && fed < inputs.Count && machine.Status != ParentStatus.Finished)
        {
            fed++;
            divergence = Compare(inputs[fed - 1].ApplyTo(machine), fed, last: fed == inputs.Count);
        }

        if (divergence is null && next < recorded.Count)
        {
            // Recorded decisions the replay never made (or a machine that finished with inputs left): named after the last input fed.
            divergence = new ReplayDivergence(fed, next + 1, recorded[next], null);
        }
        else if (divergence is null && fed < inputs.Count)
        {
            // The machine finished where the recording went on feeding it: the live one was still working.
            divergence = new ReplayDivergence(fed, next + 1, null, null);
        }

        return new ReplayResult(inputs.Count, next, divergence, complete);

        ReplayDivergence? Compare(ChaserDecisions decisions, int input, bool last)
        {
            foreach (var command in decisions)
            {
                var got = RecordedDecision.Of(command);
                if (next == recorded.Count)
                {
                    // The process stopped after this input was recorded and before its decisions were: not a divergence.
                    return !complete && last ? null : new ReplayDivergence(input, next + 1, null, got);
                }

                if (recorded[next] != got)
                {
                    return new ReplayDivergence(input, next + 1, recorded[next], got);
                }

                next++;
            }

            return null;
        }
    }
}
