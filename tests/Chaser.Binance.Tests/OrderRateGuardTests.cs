using Chaser.Binance.Connector;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Binance.Tests;

/// <summary>The connector's rate guard on fake time: how long until a spent budget is back, with nothing more sent.</summary>
public sealed class OrderRateGuardTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_budget_spent_in_the_ten_second_window_is_back_when_the_window_has_rolled_over_the_requests()
    {
        var time = new FakeTimeProvider(Start);
        var guard = new OrderRateGuard(time, ordersPer10s: 20, ordersPerMinute: 1_200, weightPerMinute: 2_400);

        // 18 usable (10 % reserve): 9 now, 9 four seconds later.
        Acquire(guard, 9);
        time.Advance(TimeSpan.FromSeconds(4));
        Acquire(guard, 9);
        Assert.False(guard.TryAcquire(1, 0, out var refusal));
        Assert.StartsWith("order rate limit", refusal, StringComparison.Ordinal);
        Assert.Equal(0m, guard.AvailableFraction());

        // Half the budget needs the first nine to leave their window: 6 s from now. All of it needs the minute window
        // to let go of them too.
        Assert.Equal(TimeSpan.FromSeconds(6), guard.TimeUntilAvailable(0.05m));
        Assert.Equal(TimeSpan.FromSeconds(6), guard.TimeUntilAvailable(0.5m));
        Assert.Equal(TimeSpan.FromSeconds(60), guard.TimeUntilAvailable(1m));

        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(0.5m, guard.AvailableFraction());
        Assert.Equal(TimeSpan.Zero, guard.TimeUntilAvailable(0.5m));
        Assert.True(guard.TryAcquire(1, 0, out _));
    }

    [Fact]
    public void A_retry_after_ban_holds_the_budget_at_zero_until_it_ends()
    {
        var time = new FakeTimeProvider(Start);
        var guard = new OrderRateGuard(time);
        guard.Ban(TimeSpan.FromSeconds(7));
        Assert.Equal(0m, guard.AvailableFraction());
        Assert.Equal(TimeSpan.FromSeconds(7), guard.TimeUntilAvailable(0.05m));

        time.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal(1m, guard.AvailableFraction());
        Assert.Equal(TimeSpan.Zero, guard.TimeUntilAvailable(1m));
    }

    [Fact]
    public void Counts_the_exchange_reported_stand_until_a_window_after_they_were_reported()
    {
        var time = new FakeTimeProvider(Start);
        var guard = new OrderRateGuard(time, ordersPer10s: 20, ordersPerMinute: 1_200, weightPerMinute: 2_400);
        time.Advance(TimeSpan.FromSeconds(1));

        // Another client of the account used the whole 10 s window.
        guard.Observe(orders10s: 20, orders1m: 20, usedWeight1m: null);
        Assert.Equal(0m, guard.AvailableFraction());
        Assert.Equal(TimeSpan.FromSeconds(10), guard.TimeUntilAvailable(0.05m));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(guard.AvailableFraction() > 0m);
    }

    private static void Acquire(OrderRateGuard guard, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(guard.TryAcquire(1, 0, out var refusal), refusal);
        }
    }
}
