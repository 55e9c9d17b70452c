using Chaser.Core.Chasing;

namespace Chaser.Core.Tests;

public class CancellationRatioTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_ratio_is_not_enforced_below_the_minimum_order_count()
    {
        var tracker = new CancellationRatioTracker();
        for (var i = 0; i < 9; i++)
        {
            tracker.RecordPlacement(T0);
            tracker.RecordYoungCancel(T0);
        }

        Assert.True(tracker.AllowsYoungCancel(T0, 0.5m, minOrders: 10));
        tracker.RecordPlacement(T0);
        Assert.False(tracker.AllowsYoungCancel(T0, 0.5m, minOrders: 10));
    }

    [Fact]
    public void One_more_young_cancel_is_allowed_while_the_ratio_stays_within_the_bound()
    {
        var tracker = new CancellationRatioTracker();
        for (var i = 0; i < 20; i++)
        {
            tracker.RecordPlacement(T0);
        }

        for (var i = 0; i < 9; i++)
        {
            tracker.RecordYoungCancel(T0);
        }

        Assert.True(tracker.AllowsYoungCancel(T0, 0.5m, 10)); // (9+1)/(20+1) = 0.476
        tracker.RecordYoungCancel(T0);
        tracker.RecordYoungCancel(T0);
        Assert.False(tracker.AllowsYoungCancel(T0, 0.5m, 10)); // (11+1)/(20+1) = 0.571
    }

    [Fact]
    public void Counts_cover_a_trailing_ten_minute_cycle()
    {
        var tracker = new CancellationRatioTracker();
        tracker.RecordPlacement(T0);
        tracker.RecordYoungCancel(T0);
        tracker.RecordPlacement(T0.AddMinutes(5));
        Assert.Equal((2, 1), tracker.Counts(T0.AddMinutes(9)));
        Assert.Equal((1, 0), tracker.Counts(T0.AddMinutes(10)));
        Assert.Equal((0, 0), tracker.Counts(T0.AddMinutes(15)));
    }
}
