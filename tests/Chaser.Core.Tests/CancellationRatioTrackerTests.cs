using Chaser.Core.Chasing;
using Chaser.Core.Domain;

namespace Chaser.Core.Tests;

public class CancellationRatioTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    // What the tracker counts of a sent request: a place is an order placed, a young cancel (alone) a young cancel.
    private static readonly ChaserCommand Placement = new(ChaserCommandKind.Place, "chs-tst001-1-1", Side.Buy, ChildOrderType.PostOnly, 65_000m, 0.01m, FinishReason.None, new DecisionCause(EventKind.BookTop, DecisionRule.PostAtBest));
    private static readonly ChaserCommand YoungCancel = Placement with { Kind = ChaserCommandKind.Cancel, CountsAsYoungCancel = true };

    [Fact]
    public void The_ratio_is_not_enforced_below_the_minimum_order_count()
    {
        var tracker = new CancellationRatioTracker();
        for (var i = 0; i < 9; i++)
        {
            tracker.Record(Placement, T0);
            tracker.Record(YoungCancel, T0);
        }

        Assert.True(tracker.YoungCancelsAllowed);
        tracker.Record(Placement, T0);
        Assert.False(tracker.YoungCancelsAllowed);
    }

    [Fact]
    public void One_more_young_cancel_is_allowed_while_the_ratio_stays_within_the_bound()
    {
        var tracker = new CancellationRatioTracker();
        for (var i = 0; i < 20; i++)
        {
            tracker.Record(Placement, T0);
        }

        for (var i = 0; i < 9; i++)
        {
            tracker.Record(YoungCancel, T0);
        }

        Assert.True(tracker.YoungCancelsAllowed); // (9+1)/(20+1) = 0.476
        tracker.Record(YoungCancel, T0);
        tracker.Record(YoungCancel, T0);
        Assert.False(tracker.YoungCancelsAllowed); // (11+1)/(20+1) = 0.571
    }

    [Fact]
    public void Counts_cover_a_trailing_ten_minute_cycle()
    {
        var tracker = new CancellationRatioTracker();
        tracker.Record(Placement, T0);
        tracker.Record(YoungCancel, T0);
        tracker.Record(Placement, T0.AddMinutes(5));
        Assert.Equal((2, 1), tracker.Counts(T0.AddMinutes(9)));
        Assert.Equal((1, 0), tracker.Counts(T0.AddMinutes(10)));
        Assert.Equal((0, 0), tracker.Counts(T0.AddMinutes(15)));
    }

    [Fact]
    public void Held_requests_stay_bounded_by_the_cycle_when_no_young_cancel_ever_asks()
    {
        // Issue 17: trimming happened only when a young re-price asked for the ratio, so an order re-priced every 6 s
        // (never young) kept every placement of a long serve.
        var tracker = new CancellationRatioTracker();
        var last = T0;
        for (var i = 0; i < 3_600; i++)
        {
            last = T0.AddSeconds(i);
            tracker.Record(Placement, last);
        }

        // The oldest request held is less than one cycle old: nothing older is kept.
        Assert.True(tracker.NextExpiry > last, $"the oldest held request leaves the cycle at {tracker.NextExpiry:O}, before the last one at {last:O}");
    }

    [Fact]
    public void A_sent_command_counts_as_what_binance_sees()
    {
        var tracker = new CancellationRatioTracker();
        var cause = new DecisionCause(EventKind.BookTop, DecisionRule.RepriceBehindBest);
        ChaserCommand Command(ChaserCommandKind kind, bool young = false) =>
            new(kind, "chs-tst001-1-1", Side.Buy, ChildOrderType.PostOnly, 65_000m, 0.01m, FinishReason.None, cause) { CountsAsYoungCancel = young };

        tracker.Record(Command(ChaserCommandKind.Place), T0);
        tracker.Record(Command(ChaserCommandKind.Modify, young: true), T0);
        tracker.Record(Command(ChaserCommandKind.Modify), T0);
        tracker.Record(Command(ChaserCommandKind.Cancel, young: true), T0);
        tracker.Record(Command(ChaserCommandKind.Cancel), T0);
        tracker.Record(Command(ChaserCommandKind.Query), T0);
        tracker.Record(Command(ChaserCommandKind.Finish), T0);
        Assert.Equal((3, 2), tracker.Counts(T0));
    }

    [Fact]
    public void A_retracted_request_leaves_what_others_recorded_since_and_its_expiry_with_it()
    {
        var tracker = new CancellationRatioTracker();
        var cause = new DecisionCause(EventKind.BookTop, DecisionRule.RepriceBehindBest);
        var youngModify = new ChaserCommand(ChaserCommandKind.Modify, "chs-tst001-1-1", Side.Buy, ChildOrderType.PostOnly, 65_000m, 0.01m, FinishReason.None, cause) { CountsAsYoungCancel = true };

        // Another order recorded a request after the refused one, before it was taken back.
        tracker.Record(youngModify, T0);
        tracker.Record(youngModify, T0.AddSeconds(1));
        tracker.Retract(youngModify, T0);
        Assert.Equal((1, 1), tracker.Counts(T0.AddSeconds(1)));
        Assert.Equal(T0.AddSeconds(1) + CancellationRatioTracker.Cycle, tracker.NextExpiry);

        // A time nothing was recorded at takes nothing back.
        tracker.Retract(youngModify, T0.AddSeconds(5));
        Assert.Equal((1, 1), tracker.Counts(T0.AddSeconds(1)));
    }

    [Fact]
    public void The_allowance_says_when_it_changes_on_a_request_and_when_requests_leave_the_cycle()
    {
        var tracker = new CancellationRatioTracker(new ChaserOptions { MaxInvalidCancelRatio = 0.5m, InvalidCancelRatioMinOrders = 2 });
        Assert.True(tracker.YoungCancelsAllowed);
        Assert.Null(tracker.NextExpiry);
        var cause = new DecisionCause(EventKind.BookTop, DecisionRule.RepriceBehindBest);
        var youngModify = new ChaserCommand(ChaserCommandKind.Modify, "chs-tst001-1-1", Side.Buy, ChildOrderType.PostOnly, 65_000m, 0.01m, FinishReason.None, cause) { CountsAsYoungCancel = true };

        Assert.False(tracker.Record(youngModify, T0)); // 1 placement: below the minimum
        Assert.True(tracker.Record(youngModify, T0.AddMinutes(1))); // (2+1)/(2+1) > 0.5
        Assert.False(tracker.YoungCancelsAllowed);
        Assert.Equal(T0.AddMinutes(10), tracker.NextExpiry);

        Assert.False(tracker.Refresh(T0.AddMinutes(9)));
        Assert.True(tracker.Refresh(T0.AddMinutes(10))); // the first left: 1 placement, below the minimum again
        Assert.True(tracker.YoungCancelsAllowed);
        Assert.Equal(T0.AddMinutes(11), tracker.NextExpiry);
        Assert.False(tracker.Refresh(T0.AddMinutes(11)));
        Assert.Null(tracker.NextExpiry);
    }
}
