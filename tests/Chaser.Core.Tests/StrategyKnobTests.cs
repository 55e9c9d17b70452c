using Chaser.Core.Chasing;
using Chaser.Core.Domain;

namespace Chaser.Core.Tests;

/// <summary>
/// The knobs that make the one chaser the backtester's baselines: never re-price (queue), re-price at once with no
/// step-back (naive), take at arrival (taker). Each script is also run on the default chaser where that shows the knob
/// is what makes the difference.
/// </summary>
public class StrategyKnobTests
{
    private static readonly ChaserOptions Queue = new() { Reprice = RepricePolicy.Never, StepBack = false };

    private static readonly ChaserOptions Naive = new() { StepBack = false, MinRepriceInterval = TimeSpan.Zero };

    private static readonly ChaserOptions Taker = new() { TakeAtArrival = true };

    [Fact]
    public void A_queue_order_never_modifies_or_cancels_when_the_best_moves_away_or_leaves_it_alone()
    {
        var h = ChaserHarness.BuyNotional(15_000m, Queue);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);

        // The bid moves up past us: the chaser would follow; the queue order keeps its place.
        Assert.Empty(h.Book(65_000.5m, 65_000.6m));
        Assert.False(h.Machine.RestingIsStale);
        Assert.Null(h.Machine.NextWakeUp);
        h.Advance(10_000);
        Assert.Empty(h.Timer());

        // Back at our level and alone there, with a level behind us: no step-back either.
        h.Depth([65_000.0m, 64_998.0m], [65_000.1m]);
        Assert.Empty(h.Book(65_000.0m, 65_000.1m, bidQty: place.Quantity));

        // A partial fill leaves it where it is.
        Assert.Empty(h.Fill(place.ClientOrderId, 65_000.0m, 0.1m, 0.1m, full: false));
        Assert.Empty(h.Book(65_001.0m, 65_001.1m));
        Assert.Equal(65_000.0m, h.Machine.OpenChild!.Price);
        Assert.Equal(0, h.Machine.Modifies + h.Machine.Cancels);
        Assert.DoesNotContain(h.All, c => c.Kind is ChaserCommandKind.Modify or ChaserCommandKind.Cancel);
    }

    [Fact]
    public void A_queue_order_in_flight_is_not_stale_when_the_book_moves()
    {
        var h = ChaserHarness.BuyNotional(15_000m, Queue);
        var place = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        Assert.Empty(h.Book(65_000.5m, 65_000.6m));

        // The host measures tick-to-order from when the order went stale: an order that never moves never is.
        Assert.False(h.Machine.RestingIsStale);
        Assert.Empty(h.Ack(place));
        Assert.False(h.Machine.RestingIsStale);
    }

    [Fact]
    public void A_queue_order_rejected_post_only_posts_again_at_the_then_touch_and_expires_at_the_deadline()
    {
        var h = ChaserHarness.BuyNotional(15_000m, Queue, deadline: ChaserHarness.T0.AddSeconds(180));
        var first = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        // The book moved while the order travelled: it would have crossed.
        Assert.Empty(h.Reject(first, RejectKind.PostOnlyWouldCross));
        h.Advance(5);
        var second = Assert.Single(h.Book(64_999.0m, 64_999.1m));
        Assert.Equal((ChaserCommandKind.Place, 64_999.0m, DecisionRule.RepostAfterPostOnlyReject), (second.Kind, second.Price, second.Cause.Rule));
        Assert.Empty(h.Ack(second));
        h.Advance(1_000);
        Assert.Empty(h.Book(65_010.0m, 65_010.1m));

        h.Advance(179_000);
        var cancel = Assert.Single(h.Timer());
        Assert.Equal((ChaserCommandKind.Cancel, DecisionRule.DeadlineExpire), (cancel.Kind, cancel.Cause.Rule));
        var finish = Assert.Single(h.Finished(second.ClientOrderId, ExchangeOrderStatus.Canceled, 0m));
        Assert.Equal(FinishReason.Expired, finish.FinishReason);
        Assert.Equal(2, h.Machine.Children.Count);
    }

    [Fact]
    public void A_queue_order_takes_its_remainder_at_the_deadline_when_asked()
    {
        var h = ChaserHarness.BuyNotional(15_000m, Queue, deadline: ChaserHarness.T0.AddSeconds(180), onDeadline: DeadlineAction.TakeRemainder);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Fill(place.ClientOrderId, 65_000.0m, 0.1m, 0.1m, full: false);
        h.Advance(180_000);
        Assert.Equal(ChaserCommandKind.Cancel, Assert.Single(h.Timer()).Kind);
        var take = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0.1m));
        Assert.Equal((ChildOrderType.Market, DecisionRule.DeadlineTakeRemainder, 0.130m), (take.OrderType, take.Cause.Rule, take.Quantity));
    }

    [Fact]
    public void A_naive_order_re_prices_at_once_with_no_interval_wake()
    {
        var naive = ChaserHarness.BuyNotional(15_000m, Naive);
        naive.Rest(65_000.0m, 65_000.1m);
        naive.Advance(1);
        var modify = Assert.Single(naive.Book(65_000.5m, 65_000.6m));
        Assert.Equal((ChaserCommandKind.Modify, 65_000.5m, EventKind.BookTop), (modify.Kind, modify.Price, modify.Cause.Trigger));
        Assert.Null(naive.Machine.NextWakeUp);
        naive.Advance(1);
        Assert.Empty(naive.Ack(modify));
        var again = Assert.Single(naive.Book(65_000.7m, 65_000.8m));
        Assert.Equal((ChaserCommandKind.Modify, 65_000.7m), (again.Kind, again.Price));

        // The default chaser waits out its interval on the same book and asks for a wake-up.
        var chaser = ChaserHarness.BuyNotional(15_000m);
        chaser.Rest(65_000.0m, 65_000.1m);
        chaser.Advance(1);
        Assert.Empty(chaser.Book(65_000.5m, 65_000.6m));
        Assert.Equal(ChaserHarness.T0 + new ChaserOptions().MinRepriceInterval, chaser.Machine.NextWakeUp);
    }

    [Fact]
    public void A_naive_order_alone_at_the_top_stays_there()
    {
        foreach (var (options, steps) in new[] { (Naive, false), (new ChaserOptions(), true) })
        {
            var h = ChaserHarness.BuyNotional(15_000m, options);
            var place = h.Rest(65_000.0m, 65_000.1m);
            h.Advance(1_000);
            h.Depth([65_000.0m, 64_998.0m, 64_997.0m], [65_000.1m]);
            var commands = h.Book(65_000.0m, 65_000.1m, bidQty: place.Quantity);
            if (steps)
            {
                Assert.Equal((ChaserCommandKind.Modify, 64_998.0m), (Assert.Single(commands).Kind, commands[0].Price));
            }
            else
            {
                Assert.Empty(commands);
                Assert.False(h.Machine.RestingIsStale);
            }
        }
    }

    [Fact]
    public void A_naive_order_keeps_the_invalid_cancellation_guard()
    {
        var h = ChaserHarness.BuyNotional(15_000m, Naive);
        h.CancelBudget(youngCancelsAllowed: false);
        h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        Assert.Empty(h.Book(65_000.5m, 65_000.6m));
        Assert.Equal(ChaserHarness.T0.AddSeconds(5), h.Machine.NextWakeUp);
    }

    [Fact]
    public void A_taker_first_sends_a_market_order_sized_from_the_book_never_more_than_it_shows()
    {
        var h = ChaserHarness.BuyNotional(15_000m, Taker);
        Assert.Empty(h.All);
        h.DepthWithSizes([new(65_000.0m, 5m)], [new(65_000.1m, 0.1m), new(65_001.0m, 0.05m)]);
        var first = Assert.Single(h.Book(65_000.0m, 65_000.1m, askQty: 0.1m));

        // 15,000 USDT would be 0.230 at the ask; the book shows 0.150 on the asks: that much, and no post.
        Assert.Equal((ChaserCommandKind.Place, ChildOrderType.Market, DecisionRule.TakeAtArrival), (first.Kind, first.OrderType, first.Cause.Rule));
        Assert.Equal(0.150m, first.Quantity);
        Assert.Empty(h.Ack(first));
        Assert.Empty(h.Fill(first.ClientOrderId, 65_000.1m, 0.1m, 0.1m, full: false, maker: false));
        Assert.Empty(h.Fill(first.ClientOrderId, 65_001.0m, 0.05m, 0.15m, full: true, maker: false));

        // The next one on a newer book: 15,000 − 9,750.06 = 5,249.94 USDT at 65,002.0 → 0.080.
        h.Advance(5);
        var second = Assert.Single(h.Book(65_001.9m, 65_002.0m));
        Assert.Equal((ChildOrderType.Market, DecisionRule.TakeAtArrival, 0.080m), (second.OrderType, second.Cause.Rule, second.Quantity));
        h.Ack(second);
        var finish = Assert.Single(h.Fill(second.ClientOrderId, 65_002.0m, 0.08m, 0.08m, full: true, maker: false));
        Assert.Equal((ChaserCommandKind.Finish, FinishReason.Filled), (finish.Kind, finish.FinishReason));
        Assert.Equal(0, h.Machine.MakerFillCount);
        Assert.DoesNotContain(h.All, c => c.OrderType == ChildOrderType.PostOnly && c.Kind == ChaserCommandKind.Place);
    }

    [Fact]
    public void A_taker_whose_target_no_market_order_can_take_fails_naming_the_filter()
    {
        var h = ChaserHarness.BuyNotional(90m, Taker);
        var finish = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        Assert.Equal((ChaserCommandKind.Finish, FinishReason.Failed, DecisionRule.TargetNotPostable), (finish.Kind, finish.FinishReason, finish.Cause.Rule));
        // Checked as a market order (MARKET_LOT_SIZE, MIN_NOTIONAL at the ask), not as a post.
        Assert.StartsWith("the target can't be taken: MIN_NOTIONAL", finish.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_user_cancel_while_a_taker_takes_sends_no_further_taker()
    {
        var h = ChaserHarness.BuyNotional(15_000m, Taker);
        var first = Assert.Single(h.Book(65_000.0m, 65_000.1m, askQty: 0.1m));
        h.Ack(first);
        Assert.Empty(h.UserCancel());
        var finish = Assert.Single(h.Fill(first.ClientOrderId, 65_000.1m, 0.1m, 0.1m, full: true, maker: false));
        Assert.Equal(FinishReason.Canceled, finish.FinishReason);
        Assert.Empty(h.Book(65_000.0m, 65_000.2m));
    }

    [Fact]
    public void A_taker_whose_book_comes_after_its_deadline_takes_nothing_and_expires()
    {
        var h = ChaserHarness.BuyNotional(15_000m, Taker, deadline: ChaserHarness.T0.AddSeconds(10));
        Assert.Equal(ChaserHarness.T0.AddSeconds(10), h.Machine.NextWakeUp);
        h.Advance(10_000);
        var finish = Assert.Single(h.Timer());
        Assert.Equal((ChaserCommandKind.Finish, FinishReason.Expired, DecisionRule.DeadlineExpire), (finish.Kind, finish.FinishReason, finish.Cause.Rule));
        Assert.Empty(h.Book(65_000.0m, 65_000.1m));
    }

    [Fact]
    public void A_taker_at_its_deadline_lets_the_market_order_out_complete_and_sends_no_other()
    {
        var h = ChaserHarness.BuyNotional(15_000m, Taker, deadline: ChaserHarness.T0.AddSeconds(10));
        var first = Assert.Single(h.Book(65_000.0m, 65_000.1m, askQty: 0.1m));
        h.Ack(first);
        h.Advance(10_000);
        Assert.Empty(h.Timer());
        var finish = Assert.Single(h.Fill(first.ClientOrderId, 65_000.1m, 0.1m, 0.1m, full: true, maker: false));
        Assert.Equal((FinishReason.Expired, "deadline reached"), (finish.FinishReason, finish.Detail));
    }

    [Fact]
    public void A_user_cancel_before_a_takers_first_book_finishes_at_once()
    {
        var h = ChaserHarness.BuyNotional(15_000m, Taker);
        var finish = Assert.Single(h.UserCancel());
        Assert.Equal(FinishReason.Canceled, finish.FinishReason);
        Assert.Empty(h.Book(65_000.0m, 65_000.1m));
    }

    [Fact]
    public void A_taker_refused_by_the_exchange_fails_with_its_reason()
    {
        var arrival = ChaserHarness.BuyNotional(15_000m, Taker);
        var take = Assert.Single(arrival.Book(65_000.0m, 65_000.1m));
        var finish = Assert.Single(arrival.Reject(take, RejectKind.Fatal, -2019));
        Assert.Equal(FinishReason.Failed, finish.FinishReason);
        Assert.Contains("-2019", finish.Detail, StringComparison.Ordinal);

        // The deadline's taker alike: refused for margin, it is not "expired: deadline reached".
        var deadline = ChaserHarness.BuyNotional(15_000m, deadline: ChaserHarness.T0.AddSeconds(10), onDeadline: DeadlineAction.TakeRemainder);
        var place = deadline.Rest(65_000.0m, 65_000.1m);
        deadline.Advance(10_000);
        deadline.Timer();
        var taker = Assert.Single(deadline.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0m));
        var failed = Assert.Single(deadline.Reject(taker, RejectKind.Fatal, -2019));
        Assert.Equal((FinishReason.Failed, DecisionRule.FatalReject), (failed.FinishReason, failed.Cause.Rule));
        Assert.Contains("-2019", failed.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_undefined_reprice_policy_is_refused_naming_it()
    {
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => new ChaserOptions { Reprice = (RepricePolicy)7 }.Validate());
        Assert.Equal(nameof(ChaserOptions.Reprice), refused.ParamName);
    }

    [Fact]
    public void The_defaults_chase_with_step_back_and_post()
    {
        var options = new ChaserOptions();
        Assert.Equal((RepricePolicy.Chase, true, false), (options.Reprice, options.StepBack, options.TakeAtArrival));
    }
}
