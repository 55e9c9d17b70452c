using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Replay;

namespace Chaser.Core.Tests;

/// <summary>The replay against a recording made by driving a machine as the live host does.</summary>
public class OrderReplayTests
{
    private static readonly DateTimeOffset T0 = ChaserHarness.T0;

    [Fact]
    public void A_recording_replays_to_the_same_decisions()
    {
        var (start, inputs, decisions) = Record();

        var result = OrderReplay.Run(start, inputs, decisions);

        Assert.True(result.Same, $"{result.Divergence}");
        Assert.True(result.RecordingComplete);
        Assert.Equal((inputs.Count, decisions.Count), (result.Inputs, result.SameDecisions));
        Assert.Equal([ChaserCommandKind.Place, ChaserCommandKind.Modify, ChaserCommandKind.Finish], decisions.Select(d => d.Kind));
    }

    [Fact]
    public void A_recording_cut_off_after_an_input_before_its_decisions_is_the_same_so_far()
    {
        var (start, inputs, decisions) = Record();

        // The process died after the second book was recorded and before its modify was.
        var cut = inputs.FindIndex(i => i.Input.Kind == EventKind.BookTop && i.DecisionsBefore == 1);
        var result = OrderReplay.Run(start, inputs[..(cut + 1)], decisions[..1]);

        Assert.True(result.Same, $"{result.Divergence}");
        Assert.False(result.RecordingComplete);
        Assert.Equal(1, result.SameDecisions);

        // Cut off anywhere else, it is a divergence: decisions recorded after an input that is not the last are whole.
        var early = OrderReplay.Run(start, inputs, decisions[..1]);
        Assert.Equal(cut + 1, early.Divergence?.Input);
        Assert.Equal((ChaserCommandKind?)null, early.Divergence?.Expected?.Kind);
        Assert.Equal(ChaserCommandKind.Modify, early.Divergence?.Got?.Kind);
    }

    [Fact]
    public void A_changed_book_price_is_the_divergence_at_that_input()
    {
        var (start, inputs, decisions) = Record();
        inputs[0] = inputs[0] with { Input = ChaserInput.OfBook("BTCUSDT", inputs[0].Input.Book with { Bid = 64_999.0m }, 0) };

        var result = OrderReplay.Run(start, inputs, decisions);

        var divergence = Assert.IsType<ReplayDivergence>(result.Divergence);
        Assert.Equal((1, 1), (divergence.Input, divergence.Decision));
        Assert.Equal(65_000.0m, divergence.Expected?.Price);
        Assert.Equal(64_999.0m, divergence.Got?.Price);
    }

    [Fact]
    public void A_recorded_decision_the_replay_does_not_make_is_the_divergence_after_its_input()
    {
        var (start, inputs, decisions) = Record();

        // A cancel recorded after the first accept, where the machine decides nothing.
        var accept = inputs.FindIndex(i => i.Input.Kind == EventKind.Accepted);
        var cancel = new RecordedDecision(ChaserCommandKind.Cancel, decisions[0].ClientOrderId, null, null, EventKind.Accepted, DecisionRule.UserCancel, null, null);
        decisions.Insert(1, cancel);
        for (var i = accept + 1; i < inputs.Count; i++)
        {
            inputs[i] = inputs[i] with { DecisionsBefore = inputs[i].DecisionsBefore + 1 };
        }

        var result = OrderReplay.Run(start, inputs, decisions);

        Assert.Equal(new ReplayDivergence(accept + 1, 2, cancel, null), result.Divergence);
        Assert.Equal(1, result.SameDecisions);
    }

    /// <summary>Buy 650 USDT: a book, its place accepted, a better bid 300 ms later (a modify), its accept, the fill.</summary>
    private static (ReplayStart Start, List<ReplayInput> Inputs, List<RecordedDecision> Decisions) Record()
    {
        var spec = new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 650m);
        var start = new ReplayStart(spec, TestRules.Btc, new ChaserOptions(), ChaserHarness.Tag, T0, 1m);
        var machine = start.Build();
        var inputs = new List<ReplayInput>();
        var decisions = new List<RecordedDecision>();
        Keep(machine.Apply(ChaserInput.Start, T0));

        var time = T0.AddMilliseconds(5);
        Feed(ChaserInput.OfBook("BTCUSDT", new BookTop(65_000.0m, 2m, 65_000.1m, 2m, 1, time), 0));
        var place = decisions[^1];
        Feed(ChaserInput.OfAccepted(new OrderAccepted(place.ClientOrderId!, 77, place.Price!.Value, place.Quantity!.Value, false, time, default)));
        time = time.AddMilliseconds(300);
        Feed(ChaserInput.OfBook("BTCUSDT", new BookTop(65_000.05m, 1m, 65_000.1m, 2m, 2, time), 0));
        var modify = decisions[^1];
        Feed(ChaserInput.OfAccepted(new OrderAccepted(modify.ClientOrderId!, 77, modify.Price!.Value, modify.Quantity!.Value, true, time, default)));
        Feed(ChaserInput.OfFill(new Fill(modify.ClientOrderId!, 9, modify.Price!.Value, modify.Quantity!.Value, 0.01m, "USDT", true, modify.Quantity!.Value, true, time, default)));
        return (start, inputs, decisions);

        void Feed(in ChaserInput input)
        {
            time = time.AddTicks(1_234);
            inputs.Add(new ReplayInput(input, time, decisions.Count));
            Keep(machine.Apply(input, time));
        }

        void Keep(ChaserDecisions made)
        {
            foreach (var command in made)
            {
                decisions.Add(RecordedDecision.Of(command));
            }
        }
    }
}
