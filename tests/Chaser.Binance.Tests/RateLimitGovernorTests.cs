using Chaser.Binance.Parsing;
using Chaser.Binance.Rates;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Binance.Tests;

public sealed class RateLimitGovernorTests
{
    // 12:00:00.000 UTC: the start of a minute and of a 10-second window.
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static (RateLimitGovernor Governor, FakeTimeProvider Time) Create(params RateLimit[] limits)
    {
        var time = new FakeTimeProvider(Start);
        return (new RateLimitGovernor(limits.Length > 0 ? limits : RateLimit.Defaults, time, usableFraction: 1m), time);
    }

    [Fact]
    public void Limits_come_from_exchange_info()
    {
        var info = RestResponseParser.ParseExchangeInfo(Payload.Bytes("exchangeInfo.json"));

        var limits = RateLimit.FromExchangeInfo(info.RateLimits);

        Assert.Equal(
            [
                new RateLimit(RateLimitKind.RequestWeight, TimeSpan.FromMinutes(1), 2400),
                new RateLimit(RateLimitKind.Orders, TimeSpan.FromMinutes(1), 1200),
                new RateLimit(RateLimitKind.Orders, TimeSpan.FromSeconds(10), 300),
            ],
            limits);
        Assert.Equal(["1M", "1M", "10S"], limits.Select(l => l.HeaderSuffix));
    }

    [Fact]
    public void Orders_per_ten_seconds_are_never_exceeded_and_the_next_window_frees_them()
    {
        var (governor, time) = Create();
        for (var i = 0; i < 300; i++)
        {
            Assert.True(governor.TryAcquire(0, 1).Granted);
        }

        var refused = governor.TryAcquire(0, 1);

        Assert.False(refused.Granted);
        Assert.Contains("Orders 300/10S", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(Start.AddSeconds(10), refused.RetryAt);
        Assert.True(governor.TryAcquire(1, 0).Granted); // weight-only requests still pass
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(governor.TryAcquire(0, 1).Granted);
    }

    [Fact]
    public void Orders_per_minute_bind_across_ten_second_windows()
    {
        var (governor, time) = Create(
            new RateLimit(RateLimitKind.Orders, TimeSpan.FromSeconds(10), 300),
            new RateLimit(RateLimitKind.Orders, TimeSpan.FromMinutes(1), 1000));
        var granted = 0;
        for (var window = 0; window < 6; window++)
        {
            while (governor.TryAcquire(0, 1).Granted)
            {
                granted++;
            }

            time.Advance(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(1000, granted);
    }

    [Fact]
    public void Weight_limit_refuses_a_request_that_would_breach_it()
    {
        var (governor, _) = Create(new RateLimit(RateLimitKind.RequestWeight, TimeSpan.FromMinutes(1), 100));
        Assert.True(governor.TryAcquire(90, 0).Granted);

        var refused = governor.TryAcquire(20, 0);

        Assert.False(refused.Granted);
        Assert.True(governor.TryAcquire(10, 0).Granted);
        Assert.False(governor.TryAcquire(1, 0).Granted);
    }

    [Fact]
    public void A_request_larger_than_the_limit_is_refused_for_good()
    {
        var (governor, _) = Create(new RateLimit(RateLimitKind.RequestWeight, TimeSpan.FromMinutes(1), 10));

        var refused = governor.TryAcquire(20, 0);

        Assert.False(refused.Granted);
        Assert.Equal(DateTimeOffset.MaxValue, refused.RetryAt);
    }

    [Fact]
    public void Usage_headers_raise_the_count_but_never_lower_it()
    {
        var (governor, _) = Create(new RateLimit(RateLimitKind.RequestWeight, TimeSpan.FromMinutes(1), 2400));
        governor.TryAcquire(100, 0);

        governor.ObserveUsage(Start, [new("X-MBX-USED-WEIGHT-1M", ["2390"])]);

        Assert.False(governor.TryAcquire(20, 0).Granted);
        Assert.True(governor.TryAcquire(10, 0).Granted);
        governor.ObserveUsage(Start, [new("x-mbx-used-weight-1m", ["5"])]);
        Assert.False(governor.TryAcquire(1, 0).Granted);
    }

    [Fact]
    public void Order_count_headers_update_both_order_windows()
    {
        var (governor, _) = Create();

        governor.ObserveUsage(Start, [new("X-MBX-ORDER-COUNT-10S", ["300"]), new("X-MBX-ORDER-COUNT-1M", ["12"])]);

        var refused = governor.TryAcquire(0, 1);
        Assert.False(refused.Granted);
        Assert.Contains("10S", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Headers_of_a_request_sent_in_an_earlier_window_are_ignored()
    {
        var (governor, time) = Create(new RateLimit(RateLimitKind.RequestWeight, TimeSpan.FromMinutes(1), 2400));
        var sentAt = time.GetUtcNow().AddSeconds(59.9);
        time.Advance(TimeSpan.FromMinutes(1));

        governor.ObserveUsage(sentAt, [new("X-MBX-USED-WEIGHT-1M", ["2400"])]);

        Assert.True(governor.TryAcquire(100, 0).Granted);
    }

    [Fact]
    public void Http_429_blocks_everything_until_retry_after()
    {
        var (governor, time) = Create();

        governor.ObserveRateLimited(429, -1003, TimeSpan.FromSeconds(30));

        var refused = governor.TryAcquire(1, 0);
        Assert.False(refused.Granted);
        Assert.Contains("429", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(Start.AddSeconds(30), refused.RetryAt);
        Assert.Equal(0m, governor.AvailableFraction);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(governor.TryAcquire(1, 0).Granted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(governor.TryAcquire(1, 0).Granted);
    }

    [Fact]
    public void Http_429_without_retry_after_waits_for_the_weight_window_to_reset()
    {
        var (governor, time) = Create();
        time.Advance(TimeSpan.FromSeconds(20));

        governor.ObserveRateLimited(429, null, null);

        Assert.Equal(Start.AddMinutes(1), governor.TryAcquire(1, 0).RetryAt);
    }

    [Fact]
    public void Http_418_ban_without_retry_after_lasts_at_least_two_minutes()
    {
        var (governor, time) = Create();

        governor.ObserveRateLimited(418, null, null);

        var refused = governor.TryAcquire(1, 0);
        Assert.Contains("banned", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(Start.AddMinutes(2), refused.RetryAt);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(governor.TryAcquire(1, 0).Granted);
    }

    [Fact]
    public void Too_many_orders_pauses_orders_only()
    {
        var (governor, _) = Create();

        governor.ObserveRateLimited(400, -1015, TimeSpan.FromSeconds(5));

        Assert.False(governor.TryAcquire(0, 1).Granted);
        Assert.True(governor.TryAcquire(1, 0).Granted);
    }

    [Fact]
    public void Available_fraction_is_the_tightest_limit_share_left()
    {
        var (governor, time) = Create();
        Assert.Equal(1m, governor.AvailableFraction);

        for (var i = 0; i < 150; i++)
        {
            governor.TryAcquire(0, 1);
        }

        Assert.Equal(0.5m, governor.AvailableFraction); // 150 of 300 per 10 s
        governor.TryAcquire(1800, 0);
        Assert.Equal(0.25m, governor.AvailableFraction); // 1800 of 2400 weight per minute
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1m, governor.AvailableFraction);
    }

    [Fact]
    public void Usable_fraction_keeps_headroom()
    {
        var governor = new RateLimitGovernor([new RateLimit(RateLimitKind.Orders, TimeSpan.FromSeconds(10), 300)], new FakeTimeProvider(Start), 0.9m);
        var granted = 0;
        while (governor.TryAcquire(0, 1).Granted)
        {
            granted++;
        }

        Assert.Equal(270, granted);
    }

    [Fact]
    public async Task Acquire_async_waits_for_the_window_to_roll()
    {
        var (governor, time) = Create(new RateLimit(RateLimitKind.Orders, TimeSpan.FromSeconds(10), 2));
        time.Advance(TimeSpan.FromSeconds(3));
        governor.TryAcquire(0, 2);

        var pending = governor.AcquireAsync(0, 1, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken).AsTask();

        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        var permit = await pending.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.True(permit.Granted);
        Assert.Equal(Start.AddSeconds(10), time.GetUtcNow());
    }

    [Fact]
    public async Task Acquire_async_refuses_at_once_when_the_wait_exceeds_the_maximum()
    {
        var (governor, _) = Create(new RateLimit(RateLimitKind.Orders, TimeSpan.FromSeconds(10), 1));
        governor.TryAcquire(0, 1);

        var permit = await governor.AcquireAsync(0, 1, TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);

        Assert.False(permit.Granted);
        Assert.Equal(Start.AddSeconds(10), permit.RetryAt);
    }

    [Fact]
    public void Concurrent_callers_never_get_more_than_the_limit()
    {
        var (governor, _) = Create(new RateLimit(RateLimitKind.Orders, TimeSpan.FromSeconds(10), 300));
        var granted = 0;

        Parallel.For(0, 2000, _ =>
        {
            if (governor.TryAcquire(0, 1).Granted)
            {
                Interlocked.Increment(ref granted);
            }
        });

        Assert.Equal(300, granted);
    }
}
