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
/// with the recorded decisions, in order. Pure: no clock, no I/O. Every input goes through
/// <see cref="ChaserStateMachine.Apply"/>, the one dispatch the live host uses; the symbol's cancel budget, shared by
/// the orders of a symbol, is one of the inputs, so an order whose young cancels another order held back replays the same.
/// </summary>
public static class OrderReplay
{
    public static ReplayResult Run(ReplayStart start, IReadOnlyList<ReplayInput> inputs, IReadOnlyList<RecordedDecision> recorded)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(recorded);

        var machine = start.Build();
        var complete = recorded.Count > 0 && recorded[^1].Kind == ChaserCommandKind.Finish;
        var same = 0;

        // As the host starts a machine: a rate budget held back is handed over first, then the start; the decisions
        // of both follow the recorded start, before the first input.
        var started = new List<ChaserCommand>();
        if (start.InitialRateBudget < 1m)
        {
            started.AddRange(machine.Apply(ChaserInput.OfRateBudget(start.InitialRateBudget), start.StartedAt).ToArray());
        }

        started.AddRange(machine.Apply(ChaserInput.Start, start.StartedAt).ToArray());
        var divergence = Compare(started, 0);
        var fed = 0;

        // The live host stops handing inputs to a finished machine, and so does the replay.
        while (divergence is null && fed < inputs.Count && machine.Status != ParentStatus.Finished)
        {
            fed++;
            var input = inputs[fed - 1];
            divergence = Compare(machine.Apply(input.Input, input.Time).ToArray(), fed);
        }

        if (divergence is null && fed < inputs.Count)
        {
            // The machine finished where the recording went on feeding it: the live one was still working.
            divergence = new ReplayDivergence(fed, same + 1, null, null);
        }

        return new ReplayResult(inputs.Count, same, divergence, complete);

        // The decisions input n (0: the start) made against those recorded after it and before the next input.
        ReplayDivergence? Compare(IReadOnlyList<ChaserCommand> decisions, int n)
        {
            var end = n < inputs.Count ? Math.Min(inputs[n].DecisionsBefore, recorded.Count) : recorded.Count;
            var last = n == inputs.Count;
            var i = 0;
            foreach (var command in decisions)
            {
                var got = RecordedDecision.Of(command);
                if (same + i >= end)
                {
                    // The process stopped after the last input was recorded, before all its decisions were: not a divergence.
                    return last && !complete ? null : new ReplayDivergence(n, same + i + 1, null, got);
                }

                if (recorded[same + i] != got)
                {
                    return new ReplayDivergence(n, same + i + 1, recorded[same + i], got);
                }

                i++;
            }

            if (same + i < end)
            {
                // A decision recorded after this input that the replay did not make.
                return new ReplayDivergence(n, same + i + 1, recorded[same + i], null);
            }

            same += i;
            return null;
        }
    }
}
