using Chaser.Binance.Connector;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Binance.Tests;

/// <summary>
/// The connector's one rate guard on fake time, with Binance's semantics (API notes §4): fixed windows on the
/// exchange's clock, the exchange's counts as the truth for their window, and the pauses 429, 418 and -1015 order.
/// </summary>
public sealed class OrderRateGuardTests
{
    // 10:00:00.000 UTC: the start of a minute and of a 10-second window.
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    // 300 per 10 s and 1,200 per minute leave 270 and 1,080 usable (10 % reserve); 2,400 weight leaves 2,160.
    private const int Usable10s = 270;

    [Fact]
    public void Orders_spent_at_the_end_of_a_ten_second_window_are_free_again_when_it_resets_not_ten_seconds_later()
    {
        var (guard, time) = Create();
        time.Advance(TimeSpan.FromMilliseconds(9_900));
        Acquire(guard, Usable10s);
        Assert.False(guard.TryAcquire(1, 0, out var refusal));
        Assert.StartsWith("order rate limit: 270/300 per 10 s", refusal, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromMilliseconds(100), guard.TimeUntilAcquirable(1, 0));

        // 10:00:10.000: Binance's 10 s window has reset, 0.1 s after the orders (a sliding window would wait 9.9 s more).
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(guard.TryAcquire(1, 0, out refusal), refusal);
    }

    [Fact]
    public void Requests_that_can_wait_stop_at_sixty_percent_of_the_weight_and_the_rest_stays_for_order_entry()
    {
        var (guard, time) = Create();

        // Book snapshots (weight 20): 72 of them make 1,440, 60 % of 2,400; the next waits for the minute's reset.
        for (var i = 0; i < 72; i++)
        {
            Assert.True(guard.TryAcquire(0, 20, out var granted, deferrable: true), granted);
        }

        Assert.False(guard.TryAcquire(0, 20, out var refusal, deferrable: true));
        Assert.Equal("request weight limit: 1440/2400 per minute (at most 1440 for requests that can wait)", refusal);
        Assert.Equal(TimeSpan.FromMinutes(1), guard.TimeUntilAcquirable(0, 20, deferrable: true));

        // Cancels, queries and trades still have up to the 10 % reserve: 720 more.
        Assert.Equal(TimeSpan.Zero, guard.TimeUntilAcquirable(0, 720));
        Assert.True(guard.TryAcquire(0, 720, out refusal), refusal);
        Assert.False(guard.TryAcquire(0, 1, out _));

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(guard.TryAcquire(0, 20, out refusal, deferrable: true), refusal);
    }

    [Fact]
    public void The_minute_window_resets_on_the_minute()
    {
        var (guard, time) = Create();
        time.Advance(TimeSpan.FromSeconds(59.5));
        Assert.True(guard.TryAcquire(0, 2_160, out _));
        Assert.False(guard.TryAcquire(0, 1, out var refusal));
        Assert.Equal("request weight limit: 2160/2400 per minute", refusal);

        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.True(guard.TryAcquire(0, 2_000, out refusal), refusal);
    }

    [Fact]
    public void Windows_are_numbered_by_the_exchange_clock_not_the_local_one()
    {
        // The exchange is 3 s ahead: local 10:00:07 is 10:00:10 on the exchange, when its window resets.
        var (guard, time) = Create(serverAheadMs: 3_000);
        time.Advance(TimeSpan.FromSeconds(7.5));
        Acquire(guard, Usable10s);

        // Local 10:00:10 is 10:00:13 there: the same window, still full (a window on the local clock would have reset).
        time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.False(guard.TryAcquire(1, 0, out _));
        Assert.Equal(TimeSpan.FromSeconds(7), guard.TimeUntilAcquirable(1, 0));

        // Local 10:00:17 is 10:00:20 there: reset, 9.5 s after the orders.
        time.Advance(TimeSpan.FromSeconds(7));
        Assert.True(guard.TryAcquire(1, 0, out var refusal), refusal);
    }

    [Fact]
    public void The_exchange_count_is_the_truth_for_its_window_and_lapses_when_the_window_resets()
    {
        var (guard, time) = Create();
        time.Advance(TimeSpan.FromSeconds(8));
        Acquire(guard, 10);

        // Another client of the account sent 250 in this window: the usage is the larger count, theirs, and what we
        // send after it came adds to it.
        guard.Observe(orders10s: 260, orders1m: 260, usedWeight1m: null, sentAt: time.GetUtcNow());
        Assert.Equal(1m - (260m / 270m), guard.AvailableFraction());
        Acquire(guard, 10);
        Assert.False(guard.TryAcquire(1, 0, out var refusal));
        Assert.StartsWith("order rate limit: 270/300 per 10 s", refusal, StringComparison.Ordinal);

        // A lower report (an answer overtaken by later ones) never lowers it: ours or a later count still stands.
        guard.Observe(orders10s: 5, orders1m: 5, usedWeight1m: null, sentAt: time.GetUtcNow());
        Assert.False(guard.TryAcquire(1, 0, out _));

        // At 10:00:10 the window resets and the report with it (it did not stand for 10 s after it came).
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(guard.TryAcquire(1, 0, out refusal), refusal);
    }

    [Fact]
    public void A_count_for_a_request_sent_in_the_previous_window_is_not_taken_for_the_new_one()
    {
        var (guard, time) = Create();
        // Sent at 10:00:59.950, answered at 10:01:00.050: both windows reset in between.
        var sentAt = time.GetUtcNow().AddMilliseconds(59_950);
        time.Advance(TimeSpan.FromMilliseconds(60_050));

        guard.Observe(orders10s: 300, orders1m: 300, usedWeight1m: 2_400, sentAt: sentAt);

        Assert.True(guard.TryAcquire(1, 1, out var refusal), refusal);
    }

    [Fact]
    public void A_count_reported_without_its_send_time_counts_for_the_window_it_arrives_in()
    {
        var (guard, time) = Create();
        time.Advance(TimeSpan.FromSeconds(3));

        // The WebSocket API's rateLimits: the answer just came, so it belongs to now.
        guard.Observe(orders10s: 300, orders1m: null, usedWeight1m: null);

        Assert.False(guard.TryAcquire(1, 0, out _));
        Assert.Equal(TimeSpan.FromSeconds(7), guard.TimeUntilAvailable(0.05m));
    }

    [Fact]
    public void A_429_with_retry_after_pauses_every_request_until_it_has_passed()
    {
        var (guard, time) = Create();

        var paused = guard.ObserveRateLimited(429, -1003, "Too many requests.", TimeSpan.FromSeconds(7));

        Assert.Contains("HTTP 429", paused, StringComparison.Ordinal);
        Assert.False(guard.TryAcquire(0, 1, out var refusal));
        Assert.Contains("rate limit broken (HTTP 429)", refusal, StringComparison.Ordinal);
        Assert.Equal(0m, guard.AvailableFraction());
        Assert.Equal(TimeSpan.FromSeconds(7), guard.TimeUntilAvailable(0.05m));
        time.Advance(TimeSpan.FromSeconds(6.9));
        Assert.False(guard.TryAcquire(0, 1, out _));
        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(guard.TryAcquire(0, 1, out _));
        Assert.Equal(1m - (1m / 2_160m), guard.AvailableFraction());
    }

    [Fact]
    public void A_429_without_retry_after_pauses_until_the_weight_window_resets()
    {
        var (guard, time) = Create();
        time.Advance(TimeSpan.FromSeconds(20));

        guard.ObserveRateLimited(429, -1003, "Too many requests.", retryAfter: null);

        Assert.Equal(TimeSpan.FromSeconds(40), guard.TimeUntilAcquirable(0, 1));
    }

    [Fact]
    public void A_418_without_retry_after_bans_until_the_time_its_message_states_on_the_exchange_clock()
    {
        var (guard, time) = Create(serverAheadMs: 2_000);
        var bannedUntilOnTheExchange = Start.AddMinutes(5).ToUnixTimeMilliseconds();

        guard.ObserveRateLimited(418, -1003, $"Way too many requests; IP(203.0.113.7) banned until {bannedUntilOnTheExchange}. Please use the websocket for live updates to avoid bans.", retryAfter: null);

        // 10:05:00 there is 10:04:58 here.
        Assert.Equal(TimeSpan.FromSeconds(298), guard.TimeUntilAcquirable(0, 1));
        Assert.False(guard.TryAcquire(1, 0, out var refusal));
        Assert.Contains("IP banned (HTTP 418)", refusal, StringComparison.Ordinal);
        time.Advance(TimeSpan.FromSeconds(298));
        Assert.True(guard.TryAcquire(1, 1, out _));
    }

    [Fact]
    public void A_418_that_states_no_end_bans_for_binances_shortest_ban()
    {
        var (guard, _) = Create();

        guard.ObserveRateLimited(418, null, null, retryAfter: null);

        Assert.Equal(TimeSpan.FromMinutes(2), guard.TimeUntilAcquirable(0, 1));
    }

    [Theory]
    [InlineData("Way too many requests; IP(203.0.113.7) banned until 9999999999999999.")]
    [InlineData("Way too many requests; IP(203.0.113.7) banned until 0000000000.")]
    public void A_garbled_ban_end_is_no_exception(string message)
    {
        var (guard, _) = Create();

        guard.ObserveRateLimited(418, -1003, message, retryAfter: TimeSpan.MaxValue);
        guard.ObserveRateLimited(418, -1003, message, retryAfter: null);

        Assert.False(guard.TryAcquire(0, 1, out _));
        Assert.True(guard.TimeUntilAcquirable(0, 1) > TimeSpan.FromDays(365));
        Assert.Equal(0m, guard.AvailableFraction());
    }

    [Theory]
    [InlineData("Too many new orders; current limit is 300 orders per TEN_SECONDS.", 6)]
    [InlineData("Too many new orders; current limit is 1200 orders per ONE_MINUTE.", 56)]
    [InlineData("Too many new orders.", 56)]
    public void Too_many_orders_pauses_orders_only_until_the_window_it_names_resets(string message, int seconds)
    {
        var (g, clock) = Create();
        clock.Advance(TimeSpan.FromSeconds(4));

        g.ObserveRateLimited(400, -1015, message, retryAfter: null);

        Assert.False(g.TryAcquire(1, 0, out var refusal));
        Assert.Contains("too many orders (-1015)", refusal, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(seconds), g.TimeUntilAcquirable(1, 0));
        // Cancels and queries carry no order count: they still go, so the chaser can take its order off the book.
        Assert.True(g.TryAcquire(0, 1, out refusal), refusal);
        clock.Advance(TimeSpan.FromSeconds(seconds));
        Assert.True(g.TryAcquire(1, 0, out refusal), refusal);
    }

    [Fact]
    public void Too_many_orders_with_retry_after_pauses_orders_for_that_long()
    {
        var (guard, _) = Create();

        guard.ObserveRateLimited(429, -1015, "Too many new orders; current limit is 300 orders per TEN_SECONDS.", TimeSpan.FromSeconds(3));

        Assert.Equal(TimeSpan.FromSeconds(3), guard.TimeUntilAcquirable(1, 0));
        Assert.True(guard.TryAcquire(0, 1, out _));
    }

    [Fact]
    public void A_spent_budget_is_back_when_the_windows_reset_with_nothing_more_sent()
    {
        var (guard, time) = Create();
        time.Advance(TimeSpan.FromSeconds(4));
        Acquire(guard, Usable10s);
        Assert.Equal(0m, guard.AvailableFraction());

        // The 10 s window gives all of its budget back at 10:00:10; the minute's share (270 of 1,080) at 10:01:00.
        Assert.Equal(TimeSpan.FromSeconds(6), guard.TimeUntilAvailable(0.05m));
        Assert.Equal(TimeSpan.FromSeconds(6), guard.TimeUntilAvailable(0.75m));
        Assert.Equal(TimeSpan.FromSeconds(56), guard.TimeUntilAvailable(1m));

        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(0.75m, guard.AvailableFraction());
        Assert.Equal(TimeSpan.Zero, guard.TimeUntilAvailable(0.75m));
        Assert.True(guard.TryAcquire(1, 0, out _));
    }

    [Fact]
    public void A_request_that_costs_more_than_a_whole_window_allows_can_never_go()
    {
        var (guard, _) = Create();

        Assert.False(guard.TryAcquire(0, 2_161, out var refusal));
        Assert.Contains("more than the 2160 usable of 2400 request weight per minute", refusal, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.MaxValue, guard.TimeUntilAcquirable(0, 2_161));
    }

    [Fact]
    public void Limits_from_exchange_info_replace_the_defaults()
    {
        var (guard, _) = Create();
        guard.SetLimits(ordersPer10s: 20, ordersPerMinute: 1_200, weightPerMinute: 2_400);

        Acquire(guard, 18);

        Assert.False(guard.TryAcquire(1, 0, out _));
    }

    [Fact]
    public void Concurrent_callers_never_get_more_than_the_usable_limit()
    {
        var (guard, _) = Create();
        var granted = 0;

        Parallel.For(0, 2_000, attempt =>
        {
            if (guard.TryAcquire(1, 0, out _))
            {
                Interlocked.Increment(ref granted);
            }
        });

        Assert.Equal(Usable10s, granted);
    }

    [Fact]
    public void When_the_window_runs_short_the_fastest_symbol_leaves_every_other_symbol_its_share()
    {
        var (guard, time) = Create();
        var others = Enumerable.Range(0, 49).Select(i => $"SYM{i}USDT").ToArray();

        // 10:00:00–10:00:10: every symbol re-prices once, then the fast one asks as often as it can.
        foreach (var symbol in others)
        {
            Assert.True(guard.TryAcquire(1, 0, out var first, claimant: symbol), first);
        }

        while (guard.TryAcquire(1, 0, out _, claimant: "FASTUSDT"))
        {
        }

        // 10:00:10: the next window. The fast symbol ticks first and asks 1,000 times in its first moments.
        time.Advance(TimeSpan.FromSeconds(10));
        var fast = 0;
        for (var i = 0; i < 1_000; i++)
        {
            fast += guard.TryAcquire(1, 0, out _, claimant: "FASTUSDT") ? 1 : 0;
        }

        Assert.False(guard.TryAcquire(1, 0, out var refusal, claimant: "FASTUSDT"));
        Assert.Contains("FASTUSDT has had 135 of the 270 usable orders per 10 s, its share among 50 symbols", refusal, StringComparison.Ordinal);

        // Each slow symbol, stale a moment later, still gets its re-prices in this window (the 135 left: 2 each).
        foreach (var symbol in others)
        {
            for (var i = 0; i < 2; i++)
            {
                Assert.True(guard.TryAcquire(1, 0, out var slow, claimant: symbol), $"{symbol} #{i}: {slow}");
            }
        }

        Assert.Equal(135, fast);
    }

    [Fact]
    public void A_rehearsal_answers_as_a_request_would_and_takes_nothing_not_even_a_place_among_the_contenders()
    {
        var (guard, _) = Create();
        var granted = 0;
        while (true)
        {
            // The path warmer rehearses on another symbol between every real request: were it counted, or counted as a
            // contender, BTCUSDT would get less than the whole window or lose half of it to the fair share.
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(granted < Usable10s, guard.Rehearse(1, 0, "ETHUSDT"));
            }

            if (!guard.TryAcquire(1, 0, out _, claimant: "BTCUSDT"))
            {
                break;
            }

            granted++;
        }

        Assert.Equal(Usable10s, granted);
        Assert.False(guard.Rehearse(1, 0, "BTCUSDT"));
        Assert.True(guard.Rehearse(0, 1, "BTCUSDT"));
    }

    [Fact]
    public void A_refused_rehearsal_allocates_nothing_not_even_the_reason_it_would_give()
    {
        // The path warmer rehearses every millisecond; when the budget is short or paused every one is refused, and a
        // refusal's message (built for a real request's log) would be a string a rehearsal, every rehearsal.
        var (guard, time) = Create();
        AcquireFor(guard, "BTCUSDT", Usable10s);
        // Refused, but a contender in the next window's fair share.
        Assert.False(guard.TryAcquire(1, 0, out _, claimant: "ETHUSDT"));
        var cases = new (string Name, Func<bool> Rehearse)[]
        {
            ("window full", () => guard.Rehearse(1, 0, "BTCUSDT")),
            ("fair share", () => guard.Rehearse(1, 0, "BTCUSDT")),
            ("weight", () => guard.Rehearse(0, 2_400, "BTCUSDT")),
            ("paused", () => guard.Rehearse(1, 0, "BTCUSDT")),
        };

        foreach (var (name, rehearse) in cases)
        {
            if (name == "fair share")
            {
                // A new 10 s window, BTCUSDT past its half of it among two contenders (ETHUSDT asked in the last one).
                time.Advance(TimeSpan.FromSeconds(10));
                string? refusal;
                while (guard.TryAcquire(1, 0, out refusal, claimant: "BTCUSDT"))
                {
                }

                Assert.Contains("its share among 2 symbols", refusal, StringComparison.Ordinal);
            }
            else if (name == "paused")
            {
                Assert.NotNull(guard.ObserveRateLimited(400, -1015, "Too many new orders; current limit is 300 orders per TEN_SECONDS.", TimeSpan.FromSeconds(5)));
            }

            Assert.False(rehearse(), name);
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++)
            {
                rehearse();
            }

            Assert.True(GC.GetAllocatedBytesForCurrentThread() == before, $"{name}: {GC.GetAllocatedBytesForCurrentThread() - before} B in 100 rehearsals");
        }
    }

    [Fact]
    public void One_symbol_alone_may_use_the_whole_window()
    {
        var (guard, _) = Create();
        var granted = 0;
        while (guard.TryAcquire(1, 0, out _, claimant: "BTCUSDT"))
        {
            granted++;
        }

        Assert.Equal(Usable10s, granted);
    }

    [Fact]
    public void Taking_budget_for_an_order_allocates_nothing()
    {
        var (guard, time) = Create();
        guard.SetLimits(ordersPer10s: int.MaxValue / 2, ordersPerMinute: int.MaxValue / 2, weightPerMinute: int.MaxValue / 2);

        var allocated = Allocations.Minimum(() =>
        {
            for (var i = 0; i < 1_000; i++)
            {
                guard.TryAcquire(1, 1, out _);
                // As the connector asks: for a symbol, whose share is counted per window.
                guard.TryAcquire(1, 1, out _, claimant: i % 2 == 0 ? "BTCUSDT" : "ETHUSDT");
                time.Advance(TimeSpan.FromMilliseconds(7));
            }
        });

        Assert.Equal(0, allocated);
    }

    private static (OrderRateGuard Guard, FakeTimeProvider Time) Create(long serverAheadMs = 0)
    {
        var time = new FakeTimeProvider(Start);
        var clock = new ServerClock(time);
        clock.Observe(Start, Start, Start.ToUnixTimeMilliseconds() + serverAheadMs);
        return (new OrderRateGuard(time, clock: clock), time);
    }

    private static void AcquireFor(OrderRateGuard guard, string claimant, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(guard.TryAcquire(1, 0, out var refusal, claimant: claimant), refusal);
        }
    }

    private static void Acquire(OrderRateGuard guard, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(guard.TryAcquire(1, 0, out var refusal), refusal);
        }
    }
}
