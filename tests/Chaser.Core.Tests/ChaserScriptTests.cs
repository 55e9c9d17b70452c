using Chaser.Core.Chasing;
using Chaser.Core.Domain;

namespace Chaser.Core.Tests;

/// <summary>Event scripts: given these events, expect these commands.</summary>
public class ChaserScriptTests
{
    [Fact]
    public void Nothing_is_placed_before_a_book_is_known()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        Assert.Empty(h.All);
        Assert.Empty(h.Timer());
        Assert.Equal(ParentStatus.Working, h.Machine.Status);
    }

    [Fact]
    public void A_buy_posts_the_notional_at_the_best_bid()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        Assert.Equal(ChaserCommandKind.Place, place.Kind);
        Assert.Equal(ChildOrderType.PostOnly, place.OrderType);
        Assert.Equal(Side.Buy, place.Side);
        Assert.Equal(65_000.0m, place.Price);
        Assert.Equal(0.230m, place.Quantity);
        Assert.Equal("chs-tst001-1-1", place.ClientOrderId);
        Assert.Equal(new DecisionCause(EventKind.BookTop, DecisionRule.PostAtBest), place.Cause);
    }

    [Fact]
    public void A_sell_posts_the_quantity_at_the_best_ask()
    {
        var h = ChaserHarness.SellQuantity(0.5m);
        var place = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        Assert.Equal(Side.Sell, place.Side);
        Assert.Equal(65_000.1m, place.Price);
        Assert.Equal(0.5m, place.Quantity);
    }

    [Fact]
    public void Only_one_request_is_in_flight_per_child()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        Assert.Single(h.Book(65_000.0m, 65_000.1m));
        h.Advance(1_000);
        Assert.Empty(h.Book(65_001.0m, 65_001.1m));
        Assert.Empty(h.Timer());
        Assert.Equal(ChildState.PendingNew, h.Machine.OpenChild!.State);
    }

    [Fact]
    public void A_resting_order_moves_up_with_one_modify_when_a_better_bid_appears()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        var modify = Assert.Single(h.Book(65_000.5m, 65_000.6m));
        Assert.Equal(ChaserCommandKind.Modify, modify.Kind);
        Assert.Equal(place.ClientOrderId, modify.ClientOrderId);
        Assert.Equal(65_000.5m, modify.Price);
        Assert.Equal(0.230m, modify.Quantity);
        Assert.Equal(DecisionRule.RepriceBehindBest, modify.Cause.Rule);
        Assert.Empty(h.Ack(modify));
        Assert.Equal(65_000.5m, h.Machine.OpenChild!.Price);
        Assert.Equal(1, h.Machine.OpenChild.Modifies);
    }

    [Fact]
    public void A_notional_target_shrinks_the_quantity_when_the_price_rises()
    {
        var h = ChaserHarness.BuyNotional(1_000m);
        var place = h.Rest(1_000.0m, 1_000.1m);
        Assert.Equal(1.000m, place.Quantity);
        h.Advance(1_000);
        var modify = Assert.Single(h.Book(1_250.0m, 1_250.1m));
        Assert.Equal(0.800m, modify.Quantity);
    }

    [Fact]
    public void Without_modify_a_stale_order_is_canceled_then_replaced_at_the_new_best()
    {
        var h = ChaserHarness.BuyNotional(15_000m, new ChaserOptions { PreferModify = false });
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        var cancel = Assert.Single(h.Book(65_000.5m, 65_000.6m));
        Assert.Equal(ChaserCommandKind.Cancel, cancel.Kind);
        var replace = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0m));
        Assert.Equal(ChaserCommandKind.Place, replace.Kind);
        Assert.Equal(65_000.5m, replace.Price);
        Assert.Equal("chs-tst001-1-2", replace.ClientOrderId);
    }

    [Fact]
    public void Alone_at_the_top_the_order_moves_back_to_the_next_level()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        h.Depth([65_000.0m, 64_998.0m, 64_997.0m], [65_000.1m]);
        // The whole best bid is our own 0.230: the rest of the book is at 64,998.
        var modify = Assert.Single(h.Book(65_000.0m, 65_000.1m, bidQty: place.Quantity));
        Assert.Equal(ChaserCommandKind.Modify, modify.Kind);
        Assert.Equal(64_998.0m, modify.Price);
        Assert.Equal(DecisionRule.RepriceAloneAtTop, modify.Cause.Rule);
    }

    [Fact]
    public void After_leaving_the_top_alone_the_book_showing_our_old_order_does_not_pull_us_back()
    {
        // Seen on the simulator: the order left the level it was alone at, then 200 ms later a timer re-read the book
        // from before that modify — whose best bid was our own old order — and moved straight back.
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        h.Depth([65_000.0m, 64_998.0m, 64_997.0m], [65_000.1m]);
        var modify = Assert.Single(h.Book(65_000.0m, 65_000.1m, bidQty: place.Quantity));
        Assert.Equal(64_998.0m, modify.Price);
        h.Advance(5);
        Assert.Empty(h.Ack(modify));

        // Timers with no newer book: the 65,000.0 bid on record is ours, not a better price to chase.
        h.Advance(200);
        Assert.Empty(h.Timer());
        h.Advance(2_000);
        Assert.Empty(h.Timer());
        Assert.Equal(64_998.0m, h.Machine.OpenChild!.Price);

        // A book newer than the modify that still bids 65,000.0 is someone else: then we are behind and follow.
        h.Advance(10);
        var back = Assert.Single(h.Book(65_000.0m, 65_000.1m, bidQty: 0.5m));
        Assert.Equal((ChaserCommandKind.Modify, 65_000.0m, DecisionRule.RepriceBehindBest), (back.Kind, back.Price, back.Cause.Rule));
    }

    [Fact]
    public void A_notional_buy_stepping_back_is_not_overfilled_by_fills_at_the_old_price_before_its_modify_lands()
    {
        // Found by the 30-minute soak (13 of 18,287 notional orders over target): the modify was sized at the new,
        // lower price alone; what executed at the old price while it was on its way cost more than that assumed.
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        Assert.Equal(0.230m, place.Quantity);
        h.Advance(1_000);
        h.Depth([65_000.0m, 60_000.0m], [65_000.1m]);
        var modify = Assert.Single(h.Book(65_000.0m, 65_000.1m, bidQty: place.Quantity));
        Assert.Equal((ChaserCommandKind.Modify, 60_000.0m), (modify.Kind, modify.Price));

        // 0.200 trades at 65,000.0 before the modify lands; the rest of the modified order then fills at 60,000.0.
        h.Advance(1);
        h.Fill(place.ClientOrderId, 65_000.0m, 0.200m, 0.200m, full: false, tradeId: 1);
        h.Ack(modify);
        h.Advance(1);
        h.Fill(place.ClientOrderId, 60_000.0m, modify.Quantity - 0.200m, modify.Quantity, full: true, tradeId: 2);

        var oneStep = 0.001m * 65_000.0m;
        Assert.True(h.Machine.FilledNotional <= 15_000m + oneStep, $"filled {h.Machine.FilledNotional} USDT of 15,000");
    }

    [Fact]
    public void A_notional_sell_following_the_bid_down_is_not_overfilled_by_fills_at_the_old_price_before_its_modify_lands()
    {
        var h = new ChaserHarness(new ParentOrderSpec(1, "BTCUSDT", Side.Sell, SizeType.Notional, 15_000m));
        var place = h.Rest(65_000.0m, 65_000.1m);
        Assert.Equal(65_000.1m, place.Price);
        h.Advance(1_000);
        var modify = Assert.Single(h.Book(59_999.9m, 60_000.0m, bidQty: 5m, askQty: 5m));
        Assert.Equal((ChaserCommandKind.Modify, 60_000.0m), (modify.Kind, modify.Price));

        h.Advance(1);
        h.Fill(place.ClientOrderId, 65_000.1m, 0.200m, 0.200m, full: false, tradeId: 1);
        h.Ack(modify);
        h.Advance(1);
        h.Fill(place.ClientOrderId, 60_000.0m, modify.Quantity - 0.200m, modify.Quantity, full: true, tradeId: 2);

        var oneStep = 0.001m * 65_000.1m;
        Assert.True(h.Machine.FilledNotional <= 15_000m + oneStep, $"raised {h.Machine.FilledNotional} USDT of 15,000");
    }

    [Fact]
    public void Less_at_the_top_than_we_have_left_is_not_alone_a_fill_of_ours_is_still_on_its_way()
    {
        // We rest 0.230 at 65,000.0; the book shows 0.150 there: 0.100 of ours filled (not yet reported) and 0.020 of
        // someone else's, or all ours — either way not a reason to leave the level.
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        h.Depth([65_000.0m, 64_998.0m], [65_000.1m]);
        Assert.Empty(h.Book(65_000.0m, 65_000.1m, bidQty: place.Quantity - 0.08m));

        // Once the fill is known, the level holds exactly the rest: it is ours alone, and the order moves on that fill.
        var modify = Assert.Single(h.Fill(place.ClientOrderId, 65_000.0m, 0.08m, 0.08m, full: false));
        Assert.Equal((ChaserCommandKind.Modify, 64_998.0m, DecisionRule.RepriceAloneAtTop), (modify.Kind, modify.Price, modify.Cause.Rule));
    }

    [Fact]
    public void Alone_at_the_top_without_depth_the_order_stays()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        Assert.Empty(h.Book(65_000.0m, 65_000.1m, bidQty: place.Quantity));
    }

    [Fact]
    public void A_book_older_than_the_order_is_not_used_to_move_down()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        h.Rest(65_000.0m, 65_000.1m);
        // A book that does not show our order (its best bid is below our price).
        Assert.Empty(h.Book(64_999.0m, 65_000.1m));
        Assert.Equal(65_000.0m, h.Machine.OpenChild!.Price);
    }

    [Fact]
    public void Re_pricing_obeys_the_minimum_interval()
    {
        var h = ChaserHarness.BuyNotional(15_000m, new ChaserOptions { MinRepriceInterval = TimeSpan.FromMilliseconds(500) });
        h.Rest(65_000.0m, 65_000.1m);
        h.Advance(100);
        Assert.Empty(h.Book(65_000.5m, 65_000.6m));
        Assert.Equal(ChaserHarness.T0.AddMilliseconds(500), h.Machine.NextWakeUp);
        h.Advance(400);
        var modify = Assert.Single(h.Timer());
        Assert.Equal(ChaserCommandKind.Modify, modify.Kind);
        Assert.Equal(DecisionRule.RepriceBehindBest, modify.Cause.Rule);
        Assert.Equal(EventKind.Timer, modify.Cause.Trigger);
    }

    [Fact]
    public void The_order_finishes_when_fills_reach_the_target()
    {
        var h = ChaserHarness.SellQuantity(0.5m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        Assert.Empty(h.Fill(place.ClientOrderId, 65_000.1m, 0.2m, 0.2m, full: false));
        Assert.Equal(0.2m, h.Machine.FilledQuantity);
        var finish = Assert.Single(h.Fill(place.ClientOrderId, 65_000.1m, 0.3m, 0.5m, full: true));
        Assert.Equal(ChaserCommandKind.Finish, finish.Kind);
        Assert.Equal(FinishReason.Filled, finish.FinishReason);
        Assert.Equal(DecisionRule.TargetReached, finish.Cause.Rule);
        Assert.Equal(0.5m, h.Machine.FilledQuantity);
        Assert.Equal(65_000.1m, h.Machine.AveragePrice);
        Assert.Equal(ParentStatus.Finished, h.Machine.Status);
    }

    [Fact]
    public void A_fill_delivered_twice_is_counted_once()
    {
        var h = ChaserHarness.SellQuantity(0.5m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Fill(place.ClientOrderId, 65_000.1m, 0.2m, 0.2m, full: false, tradeId: 77);
        h.Fill(place.ClientOrderId, 65_000.1m, 0.2m, 0.2m, full: false, tradeId: 77);
        Assert.Equal(0.2m, h.Machine.FilledQuantity);
        Assert.Equal(1, h.Machine.FillCount);
    }

    [Fact]
    public void A_fill_racing_a_cancel_is_counted_and_the_replacement_is_sized_for_what_is_left()
    {
        var h = ChaserHarness.SellQuantity(0.5m, new ChaserOptions { PreferModify = false });
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        var cancel = Assert.Single(h.Book(64_999.0m, 64_999.1m));
        Assert.Equal(ChaserCommandKind.Cancel, cancel.Kind);
        // The exchange filled 0.1 before our cancel arrived: the cancel answer reports it before the fill event.
        var replace = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0.1m));
        Assert.Equal(0.4m, replace.Quantity);
        Assert.Equal(64_999.1m, replace.Price);
        Assert.Empty(h.Fill(place.ClientOrderId, 65_000.1m, 0.1m, 0.1m, full: false));
        Assert.Equal(0.1m, h.Machine.FilledQuantity);
        Assert.Equal(0m, h.Machine.UnaccountedQuantity);
    }

    [Fact]
    public void A_cancel_refused_as_unknown_waits_for_the_fill()
    {
        var h = ChaserHarness.SellQuantity(0.5m, new ChaserOptions { PreferModify = false });
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        var cancel = Assert.Single(h.Book(64_999.0m, 64_999.1m));
        Assert.Empty(h.Reject(cancel, RejectKind.UnknownOrder, -2011));
        Assert.Equal(ChildState.AwaitingFinal, h.Machine.OpenChild!.State);
        Assert.Empty(h.Book(64_998.0m, 64_998.1m));
        var finish = Assert.Single(h.Fill(place.ClientOrderId, 65_000.1m, 0.5m, 0.5m, full: true));
        Assert.Equal(FinishReason.Filled, finish.FinishReason);
    }

    [Fact]
    public void A_child_whose_final_state_never_arrives_is_queried()
    {
        var h = ChaserHarness.SellQuantity(0.5m, new ChaserOptions { PreferModify = false, FinalStateTimeout = TimeSpan.FromSeconds(2) });
        h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        var cancel = Assert.Single(h.Book(64_999.0m, 64_999.1m));
        h.Reject(cancel, RejectKind.UnknownOrder, -2011);
        h.Advance(1_999);
        Assert.Empty(h.Timer());
        h.Advance(1);
        var query = Assert.Single(h.Timer());
        Assert.Equal(ChaserCommandKind.Query, query.Kind);
        Assert.Equal(DecisionRule.ConfirmFinalState, query.Cause.Rule);
        var replace = Assert.Single(h.Status(cancel.ClientOrderId, found: true, ExchangeOrderStatus.Canceled, 65_000.1m, 0.5m, executed: 0m));
        Assert.Equal(ChaserCommandKind.Place, replace.Kind);
        Assert.Equal(0.5m, replace.Quantity);
    }

    [Fact]
    public void A_post_only_rejection_re_posts_on_the_next_book_at_the_then_best_price()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        Assert.Empty(h.Reject(place, RejectKind.PostOnlyWouldCross, -5022));
        Assert.Null(h.Machine.OpenChild);
        Assert.Empty(h.Timer());
        var repost = Assert.Single(h.Book(64_999.0m, 64_999.1m));
        Assert.Equal(64_999.0m, repost.Price);
        Assert.Equal(DecisionRule.RepostAfterPostOnlyReject, repost.Cause.Rule);
        Assert.NotEqual(place.ClientOrderId, repost.ClientOrderId);
        Assert.Equal(1, h.Machine.PostOnlyRejects);
    }

    [Fact]
    public void Repeated_post_only_rejections_back_off()
    {
        var h = ChaserHarness.BuyNotional(15_000m, new ChaserOptions { PostOnlyRejectsBeforeBackoff = 2, PostOnlyRejectBackoff = TimeSpan.FromSeconds(1) });
        var first = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        h.Reject(first, RejectKind.PostOnlyWouldCross);
        var second = Assert.Single(h.Book(65_000.1m, 65_000.2m));
        h.Reject(second, RejectKind.PostOnlyWouldCross);
        h.Advance(500);
        Assert.Empty(h.Book(65_000.2m, 65_000.3m));
        Assert.Equal(ChaserHarness.T0.AddSeconds(1), h.Machine.NextWakeUp);
        h.Advance(500);
        var third = Assert.Single(h.Book(65_000.2m, 65_000.3m));
        h.Reject(third, RejectKind.PostOnlyWouldCross);
        // The backoff doubles: 2 s from the third reject.
        h.Advance(1_500);
        Assert.Empty(h.Book(65_000.3m, 65_000.4m));
        h.Advance(500);
        Assert.Single(h.Book(65_000.3m, 65_000.4m));
    }

    [Fact]
    public void A_post_only_modify_that_would_cross_waits_for_the_cancel_then_re_posts()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        var modify = Assert.Single(h.Book(65_000.5m, 65_000.6m));
        Assert.Empty(h.Reject(modify, RejectKind.PostOnlyWouldCross));
        Assert.Equal(ChildState.AwaitingFinal, h.Machine.OpenChild!.State);
        Assert.Empty(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0m));
        var repost = Assert.Single(h.Book(65_000.7m, 65_000.8m));
        Assert.Equal(65_000.7m, repost.Price);
    }

    [Theory]
    [InlineData("65000.1", "65000.0")]
    [InlineData("65000.0", "65000.0")]
    [InlineData("0", "65000.0")]
    [InlineData("65000.0", "0")]
    public void A_crossed_locked_or_empty_book_places_nothing(string bid, string ask)
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        Assert.Empty(h.Book(decimal.Parse(bid, System.Globalization.CultureInfo.InvariantCulture), decimal.Parse(ask, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Single(h.Book(65_000.0m, 65_000.1m));
    }

    [Fact]
    public void After_market_data_is_lost_nothing_is_placed_until_a_fresh_book_arrives()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        h.Book(0m, 0m);
        h.Lost(ConnectionScope.MarketData);
        Assert.Empty(h.Book(65_000.0m, 65_000.1m));
        Assert.Empty(h.Restored(ConnectionScope.MarketData));
        Assert.Empty(h.Timer());
        Assert.Single(h.Book(65_000.0m, 65_000.1m));
    }

    [Fact]
    public void After_order_entry_comes_back_the_live_child_is_reconciled_by_query()
    {
        var h = ChaserHarness.SellQuantity(0.5m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Lost(ConnectionScope.OrderEntry);
        Assert.Empty(h.Book(64_999.0m, 64_999.1m));
        var query = Assert.Single(h.Restored(ConnectionScope.OrderEntry));
        Assert.Equal(ChaserCommandKind.Query, query.Kind);
        Assert.Equal(DecisionRule.ReconcileAfterReconnect, query.Cause.Rule);
        // While blind, 0.2 was filled; the trades are fed as fills, then the status.
        h.Fill(place.ClientOrderId, 65_000.1m, 0.2m, 0.2m, full: false);
        h.Advance(1_000);
        var modify = Assert.Single(h.Status(place.ClientOrderId, found: true, ExchangeOrderStatus.PartiallyFilled, 65_000.1m, 0.5m, 0.2m));
        Assert.Equal(ChaserCommandKind.Modify, modify.Kind);
        Assert.Equal(64_999.1m, modify.Price);
        Assert.Equal(0.5m, modify.Quantity); // total: 0.2 executed + 0.3 left
    }

    [Fact]
    public void An_unknown_place_outcome_blocks_until_confirmed_by_query()
    {
        var h = ChaserHarness.SellQuantity(0.5m);
        var place = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        var query = Assert.Single(h.Unknown(place));
        Assert.Equal(ChaserCommandKind.Query, query.Kind);
        Assert.Equal(place.ClientOrderId, query.ClientOrderId);
        Assert.Empty(h.Book(64_999.0m, 64_999.1m));
        // "Not found" while the request may still arrive settles nothing: ask again once its recvWindow has passed.
        Assert.Empty(h.Status(place.ClientOrderId, found: false));
        Assert.Equal(ChaserHarness.T0.AddSeconds(5), h.Machine.NextWakeUp);
        h.Advance(4_999);
        Assert.Empty(h.Timer());
        h.Advance(1);
        Assert.Equal(ChaserCommandKind.Query, Assert.Single(h.Timer()).Kind);
        // Not on the exchange, and it can no longer arrive: a new child (new id) may go.
        var again = Assert.Single(h.Status(place.ClientOrderId, found: false));
        Assert.Equal(ChaserCommandKind.Place, again.Kind);
        Assert.Equal("chs-tst001-2-2", again.ClientOrderId);
        Assert.True(h.Machine.Children[0].WasRejected);
    }

    [Fact]
    public void An_unknown_place_outcome_found_live_resumes_with_that_order()
    {
        var h = ChaserHarness.SellQuantity(0.5m);
        var place = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        h.Unknown(place);
        h.Advance(5_000);
        Assert.Empty(h.Status(place.ClientOrderId, found: true, ExchangeOrderStatus.New, 65_000.1m, 0.5m, 0m));
        Assert.Equal(ChildState.Live, h.Machine.OpenChild!.State);
        Assert.Single(h.Machine.Children);
    }

    [Fact]
    public void An_unanswered_query_is_repeated()
    {
        var h = ChaserHarness.SellQuantity(0.5m, new ChaserOptions { QueryRetryInterval = TimeSpan.FromSeconds(2) });
        var place = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        Assert.Single(h.Unknown(place));
        h.Advance(1_000);
        Assert.Empty(h.Timer());
        h.Advance(1_000);
        Assert.Equal(ChaserCommandKind.Query, Assert.Single(h.Timer()).Kind);
    }

    [Fact]
    public void At_the_deadline_the_child_is_canceled_and_the_order_expires()
    {
        var h = ChaserHarness.BuyNotional(15_000m, deadline: ChaserHarness.T0.AddSeconds(10));
        var place = h.Rest(65_000.0m, 65_000.1m);
        Assert.Equal(ChaserHarness.T0.AddSeconds(10), h.Machine.NextWakeUp);
        h.Fill(place.ClientOrderId, 65_000.0m, 0.1m, 0.1m, full: false);
        h.Advance(10_000);
        var cancel = Assert.Single(h.Timer());
        Assert.Equal(ChaserCommandKind.Cancel, cancel.Kind);
        Assert.Equal(DecisionRule.DeadlineExpire, cancel.Cause.Rule);
        var finish = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0.1m));
        Assert.Equal(FinishReason.Expired, finish.FinishReason);
    }

    [Fact]
    public void At_the_deadline_the_remainder_is_taken_only_when_asked()
    {
        var h = ChaserHarness.BuyNotional(15_000m, deadline: ChaserHarness.T0.AddSeconds(10), onDeadline: DeadlineAction.TakeRemainder);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Fill(place.ClientOrderId, 65_000.0m, 0.1m, 0.1m, full: false);
        h.Advance(10_000);
        var cancel = Assert.Single(h.Timer());
        Assert.Equal(ChaserCommandKind.Cancel, cancel.Kind);
        var take = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0.1m));
        Assert.Equal(ChaserCommandKind.Place, take.Kind);
        Assert.Equal(ChildOrderType.Market, take.OrderType);
        Assert.Equal(DecisionRule.DeadlineTakeRemainder, take.Cause.Rule);
        // 15,000 − 6,500 = 8,500 USDT left at the ask 65,000.1 → 0.130
        Assert.Equal(0.130m, take.Quantity);
        Assert.Empty(h.Ack(take));
        var finish = Assert.Single(h.Fill(take.ClientOrderId, 65_000.1m, 0.130m, 0.130m, full: true, maker: false));
        Assert.Equal(FinishReason.Filled, finish.FinishReason);
        Assert.Equal(1, h.Machine.MakerFillCount);
    }

    [Fact]
    public void A_notional_sell_taking_its_remainder_is_sized_by_the_depth_it_walks_and_ends_filled()
    {
        var h = new ChaserHarness(new ParentOrderSpec(1, "BTCUSDT", Side.Sell, SizeType.Notional, 1_000_000m)
        {
            Deadline = ChaserHarness.T0.AddSeconds(10),
            OnDeadline = DeadlineAction.TakeRemainder,
        });
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.DepthWithSizes([new(65_000.0m, 5m), new(64_990.0m, 5m), new(64_980.0m, 10m)], [new(65_000.1m, 5m)]);
        h.Advance(10_000);
        Assert.Equal(ChaserCommandKind.Cancel, Assert.Single(h.Timer()).Kind);
        var take = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0m));

        // 5 @ 65,000 + 5 @ 64,990 raise 649,950; the 350,050 left at 64,980 is 5.387 more. Sized at the best bid
        // alone (1,000,000 / 65,000 = 15.384), the sell raised 999,802.32 and left 197.68 USDT: 0.003 BTC could still
        // be posted, so the order ended expired at 99.98 %.
        Assert.Equal(ChildOrderType.Market, take.OrderType);
        Assert.Equal(15.387m, take.Quantity);
        Assert.Empty(h.Ack(take));
        Assert.Empty(h.Fill(take.ClientOrderId, 65_000.0m, 5m, 5m, full: false, maker: false));
        Assert.Empty(h.Fill(take.ClientOrderId, 64_990.0m, 5m, 10m, full: false, maker: false));
        var finish = Assert.Single(h.Fill(take.ClientOrderId, 64_980.0m, 5.387m, 15.387m, full: true, maker: false));
        Assert.Equal(FinishReason.Filled, finish.FinishReason);
        Assert.Equal(999_997.26m, h.Machine.FilledNotional);
    }

    [Fact]
    public void A_notional_buy_taking_its_remainder_does_not_overspend_as_it_walks_the_asks()
    {
        var h = ChaserHarness.BuyNotional(1_000_000m, deadline: ChaserHarness.T0.AddSeconds(10), onDeadline: DeadlineAction.TakeRemainder);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.DepthWithSizes([new(65_000.0m, 5m)], [new(65_000.1m, 5m), new(65_010.0m, 5m), new(65_020.0m, 10m)]);
        h.Advance(10_000);
        Assert.Equal(ChaserCommandKind.Cancel, Assert.Single(h.Timer()).Kind);
        var take = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0m));

        // Sized at the ask alone (15.384), it cost 1,000,118.18: 118 USDT over the target, more than one step (65).
        Assert.Equal(15.382m, take.Quantity);
        h.Ack(take);
        h.Fill(take.ClientOrderId, 65_000.1m, 5m, 5m, full: false, maker: false);
        h.Fill(take.ClientOrderId, 65_010.0m, 5m, 10m, full: false, maker: false);
        var finish = Assert.Single(h.Fill(take.ClientOrderId, 65_020.0m, 5.382m, 15.382m, full: true, maker: false));
        Assert.Equal(FinishReason.Filled, finish.FinishReason);
        Assert.Equal(999_988.14m, h.Machine.FilledNotional);
    }

    [Fact]
    public void A_remainder_larger_than_the_book_shows_is_taken_by_a_second_taker_on_a_newer_book()
    {
        var h = ChaserHarness.BuyNotional(15_000m, deadline: ChaserHarness.T0.AddSeconds(10), onDeadline: DeadlineAction.TakeRemainder);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Fill(place.ClientOrderId, 65_000.0m, 0.1m, 0.1m, full: false);
        h.Book(65_000.0m, 65_000.1m, askQty: 0.05m);
        h.Advance(10_000);
        Assert.Single(h.Timer());
        var first = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0.1m));

        // 8,500 USDT left, the ask shows 0.05: sized for all of it (0.130), the market order took the 0.05 shown and
        // expired, and the order ended expired at 60 % with 5,250 USDT a taker could still take.
        Assert.Equal(0.050m, first.Quantity);
        h.Ack(first);
        Assert.Empty(h.Fill(first.ClientOrderId, 65_000.1m, 0.05m, 0.05m, full: true, maker: false));
        var second = Assert.Single(h.Book(64_999.9m, 65_000.2m));
        Assert.Equal(ChildOrderType.Market, second.OrderType);
        Assert.Equal(DecisionRule.DeadlineTakeRemainder, second.Cause.Rule);
        Assert.Equal(0.080m, second.Quantity);
        h.Ack(second);
        var finish = Assert.Single(h.Fill(second.ClientOrderId, 65_000.2m, 0.08m, 0.08m, full: true, maker: false));
        Assert.Equal(FinishReason.Filled, finish.FinishReason);
    }

    [Fact]
    public void A_user_cancel_while_the_remainder_is_taken_sends_no_further_taker()
    {
        var h = ChaserHarness.BuyNotional(15_000m, deadline: ChaserHarness.T0.AddSeconds(10), onDeadline: DeadlineAction.TakeRemainder);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Fill(place.ClientOrderId, 65_000.0m, 0.1m, 0.1m, full: false);
        h.Book(65_000.0m, 65_000.1m, askQty: 0.05m);
        h.Advance(10_000);
        h.Timer();
        var first = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0.1m));
        h.Ack(first);

        Assert.Empty(h.UserCancel()); // the market order out is left to complete
        var finish = Assert.Single(h.Fill(first.ClientOrderId, 65_000.1m, 0.05m, 0.05m, full: true, maker: false));
        Assert.Equal(ChaserCommandKind.Finish, finish.Kind);
        Assert.Equal(FinishReason.Canceled, finish.FinishReason);
        Assert.Empty(h.Book(64_999.9m, 65_000.2m));
    }

    [Fact]
    public void A_taker_that_finds_nothing_to_take_ends_the_order_expired_without_another()
    {
        var h = ChaserHarness.BuyNotional(15_000m, deadline: ChaserHarness.T0.AddSeconds(10), onDeadline: DeadlineAction.TakeRemainder);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Fill(place.ClientOrderId, 65_000.0m, 0.1m, 0.1m, full: false);
        h.Advance(10_000);
        Assert.Single(h.Timer());
        var take = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0.1m));
        h.Ack(take);

        var finish = Assert.Single(h.Finished(take.ClientOrderId, ExchangeOrderStatus.Expired, 0m));
        Assert.Equal(FinishReason.Expired, finish.FinishReason);
        Assert.Empty(h.Book(65_000.0m, 65_000.1m));
    }

    [Fact]
    public void A_user_cancel_cancels_the_child_and_finishes_canceled()
    {
        var h = ChaserHarness.SellQuantity(0.5m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        var cancel = Assert.Single(h.UserCancel());
        Assert.Equal(ChaserCommandKind.Cancel, cancel.Kind);
        Assert.Equal(new DecisionCause(EventKind.UserCancel, DecisionRule.UserCancel), cancel.Cause);
        Assert.Empty(h.Book(64_000m, 64_000.1m));
        var finish = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0m));
        Assert.Equal(FinishReason.Canceled, finish.FinishReason);
    }

    [Fact]
    public void A_user_cancel_before_any_order_finishes_at_once()
    {
        var h = ChaserHarness.SellQuantity(0.5m);
        var finish = Assert.Single(h.UserCancel());
        Assert.Equal(FinishReason.Canceled, finish.FinishReason);
        Assert.Empty(h.Book(65_000.0m, 65_000.1m));
    }

    [Fact]
    public void A_remainder_below_min_notional_finishes_as_filled()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        // 0.229 × 65,000 = 14,885: 115 USDT left → 0.001 BTC = 65 USDT < min notional 100.
        var finish = h.Fill(place.ClientOrderId, 65_000.0m, 0.229m, 0.229m, full: false);
        Assert.Empty(finish);
        var done = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0.229m));
        Assert.Equal(FinishReason.Filled, done.FinishReason);
    }

    [Fact]
    public void A_target_that_cannot_be_posted_fails_with_the_filter_named()
    {
        var h = ChaserHarness.BuyNotional(90m);
        var finish = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        Assert.Equal(ChaserCommandKind.Finish, finish.Kind);
        Assert.Equal(FinishReason.Failed, finish.FinishReason);
        Assert.Equal(DecisionRule.TargetNotPostable, finish.Cause.Rule);
        Assert.Contains("MIN_NOTIONAL", finish.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fatal_rejection_fails_the_order()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        var finish = Assert.Single(h.Reject(place, RejectKind.Fatal, -2019));
        Assert.Equal(FinishReason.Failed, finish.FinishReason);
        Assert.Contains("-2019", finish.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_retryable_rejection_retries_after_the_backoff()
    {
        var h = ChaserHarness.BuyNotional(15_000m, new ChaserOptions { RetryableRejectBackoff = TimeSpan.FromSeconds(1) });
        var place = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        Assert.Empty(h.Reject(place, RejectKind.Retryable, -1003));
        h.Advance(999);
        Assert.Empty(h.Book(65_000.0m, 65_000.1m));
        h.Advance(1);
        Assert.Equal(ChaserCommandKind.Place, Assert.Single(h.Timer()).Kind);
    }

    [Fact]
    public void A_young_order_is_left_to_age_when_the_invalid_cancel_budget_is_spent()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        Assert.Empty(h.CancelBudget(youngCancelsAllowed: false));
        h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        Assert.Empty(h.Book(65_000.5m, 65_000.6m));
        Assert.Equal(ChaserHarness.T0.AddSeconds(5), h.Machine.NextWakeUp);
        h.Advance(4_000);
        var modify = Assert.Single(h.Timer());
        Assert.Equal(ChaserCommandKind.Modify, modify.Kind);
        // Aged 5 s: not an invalid cancellation, so the host's tracker does not count it as one.
        Assert.False(modify.CountsAsYoungCancel);
    }

    [Fact]
    public void A_young_order_waiting_on_the_cancel_budget_is_re_priced_when_the_budget_comes_back()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        h.CancelBudget(youngCancelsAllowed: false);
        h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        Assert.Empty(h.Book(65_000.5m, 65_000.6m));
        h.Advance(500);
        // Another order's request aged out of the cycle (or placements grew): the host says so, and the chaser acts on it.
        var modify = Assert.Single(h.CancelBudget(youngCancelsAllowed: true));
        Assert.Equal(ChaserCommandKind.Modify, modify.Kind);
        Assert.Equal(65_000.5m, modify.Price);
        Assert.True(modify.CountsAsYoungCancel);
    }

    [Fact]
    public void What_the_cancel_budget_counts_leaves_with_the_commands()
    {
        var h = ChaserHarness.BuyNotional(15_000m, new ChaserOptions { MinRepriceInterval = TimeSpan.Zero });
        var place = h.Rest(65_000.0m, 65_000.1m);
        Assert.False(place.CountsAsYoungCancel);
        h.Advance(1_000);
        var young = Assert.Single(h.Book(65_000.5m, 65_000.6m));
        Assert.Equal(ChaserCommandKind.Modify, young.Kind);
        Assert.True(young.CountsAsYoungCancel);
        h.Ack(young);
        h.Advance(6_000);
        var aged = Assert.Single(h.Book(65_001.0m, 65_001.1m));
        Assert.False(aged.CountsAsYoungCancel);
        h.Ack(aged);
        h.Advance(1_000);
        var cancel = Assert.Single(h.UserCancel());
        Assert.Equal(ChaserCommandKind.Cancel, cancel.Kind);
        Assert.True(cancel.CountsAsYoungCancel);

        // Without CountModifyAsCancel a young modify is only a placement.
        var lenient = ChaserHarness.BuyNotional(15_000m, new ChaserOptions { MinRepriceInterval = TimeSpan.Zero, CountModifyAsCancel = false });
        lenient.Rest(65_000.0m, 65_000.1m);
        lenient.Advance(1_000);
        Assert.False(Assert.Single(lenient.Book(65_000.5m, 65_000.6m)).CountsAsYoungCancel);
    }

    [Fact]
    public void A_tight_rate_budget_slows_re_pricing_and_an_empty_one_stops_it()
    {
        var h = ChaserHarness.BuyNotional(15_000m, new ChaserOptions { MinRepriceInterval = TimeSpan.FromMilliseconds(100) });
        h.Budget(0.25m);
        h.Rest(65_000.0m, 65_000.1m);
        h.Advance(300);
        Assert.Empty(h.Book(65_000.5m, 65_000.6m));
        h.Advance(100);
        var modify = Assert.Single(h.Timer());
        Assert.Empty(h.Ack(modify));
        h.Budget(0m);
        h.Advance(10_000);
        Assert.Empty(h.Book(65_001.0m, 65_001.1m));
        Assert.Single(h.Budget(1m));
    }

    [Fact]
    public void Fills_after_the_finish_are_still_counted_and_decide_nothing()
    {
        var h = ChaserHarness.SellQuantity(0.5m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.UserCancel();
        Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0.2m));
        Assert.Equal(ParentStatus.Finished, h.Machine.Status);
        Assert.Empty(h.Fill(place.ClientOrderId, 65_000.1m, 0.2m, 0.2m, full: false));
        Assert.Equal(0.2m, h.Machine.FilledQuantity);
    }

    [Fact]
    public void A_modify_refused_by_a_filter_falls_back_to_cancel_and_new()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        var modify = Assert.Single(h.Book(65_000.5m, 65_000.6m));
        Assert.Empty(h.Reject(modify, RejectKind.Fatal, -5029));
        Assert.Equal(ChildState.Live, h.Machine.OpenChild!.State);
        h.Advance(1_000);
        var cancel = Assert.Single(h.Book(65_000.6m, 65_000.7m));
        Assert.Equal(ChaserCommandKind.Cancel, cancel.Kind);
        var replace = Assert.Single(h.Finished(place.ClientOrderId, ExchangeOrderStatus.Canceled, 0m));
        Assert.Equal(65_000.6m, replace.Price);
    }

    [Fact]
    public void Fills_that_arrive_before_the_ack_are_counted_once()
    {
        var h = ChaserHarness.SellQuantity(0.5m);
        var place = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        Assert.Empty(h.Fill(place.ClientOrderId, 65_000.1m, 0.1m, 0.1m, full: false));
        Assert.Empty(h.Ack(place));
        Assert.Equal(ChildState.Live, h.Machine.OpenChild!.State);
        Assert.Equal(0.4m, h.Machine.OpenChild.LeavesQuantity);
        Assert.Equal(0.1m, h.Machine.FilledQuantity);
    }

    [Fact]
    public void A_fill_of_another_instances_child_with_our_parent_id_is_not_counted_but_one_of_our_earlier_children_is()
    {
        // Another database on the same account works its own parent order 2: same parent id, same sequences.
        var h = ChaserHarness.SellQuantity(0.5m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        Assert.Empty(h.Fill(ClientOrderIds.For("other1", 2, 1), 65_000.1m, 0.3m, 0.3m, full: false));
        Assert.Empty(h.Fill(ClientOrderIds.For("other1", 2, 7), 65_000.1m, 0.3m, 0.3m, full: false));
        Assert.Equal(0m, h.Machine.FilledQuantity);
        Assert.Equal(0, h.Machine.FillCount);
        Assert.Single(h.Machine.Children);

        // A child of ours this run never tracked (a previous run's, same tag) is still counted: no fill of ours is lost.
        Assert.Empty(h.Fill(ClientOrderIds.For(ChaserHarness.Tag, 2, 7), 65_000.1m, 0.1m, 0.1m, full: true));
        Assert.Equal(0.1m, h.Machine.FilledQuantity);
        Assert.Equal(place.ClientOrderId, h.Machine.Children[0].ClientOrderId);
    }

    [Fact]
    public void A_late_duplicate_ack_does_not_release_a_pending_modify()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        var place = h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        Assert.Single(h.Book(65_000.5m, 65_000.6m));
        Assert.Empty(h.Ack(place)); // the stream's NEW, late
        Assert.Equal(ChildState.PendingModify, h.Machine.OpenChild!.State);
        h.Advance(1_000);
        Assert.Empty(h.Book(65_001.0m, 65_001.1m));
    }

    [Fact]
    public void A_child_never_exceeds_the_max_quantity()
    {
        var rules = TestRules.Btc with { MaxQty = 0.1m };
        var h = new ChaserHarness(new ParentOrderSpec(3, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.25m), rules);
        var first = Assert.Single(h.Book(65_000.0m, 65_000.1m));
        Assert.Equal(0.1m, first.Quantity);
        h.Ack(first);
        var second = Assert.Single(h.Fill(first.ClientOrderId, 65_000.0m, 0.1m, 0.1m, full: true));
        Assert.Equal(0.1m, second.Quantity);
        h.Ack(second);
        var third = Assert.Single(h.Fill(second.ClientOrderId, 65_000.0m, 0.1m, 0.1m, full: true));
        Assert.Equal(0.05m, third.Quantity);
    }

    [Fact]
    public void A_book_update_older_than_the_last_is_ignored()
    {
        var h = ChaserHarness.BuyNotional(15_000m);
        h.Rest(65_000.0m, 65_000.1m);
        h.Advance(1_000);
        var stale = h.LastBook with { UpdateId = h.LastBook.UpdateId - 1, Bid = 65_010m, Ask = 65_010.1m };
        Assert.True(h.Machine.OnBookTop(stale, h.Now).IsEmpty);
    }

    [Fact]
    public void The_machine_refuses_rules_for_another_symbol()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new ChaserStateMachine(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 100m), TestRules.Eth));
        Assert.Equal("rules", error.ParamName);
    }

    [Theory]
    [InlineData(0L, "BTCUSDT", 1, "id")]
    [InlineData(1L, "", 1, "symbol")]
    [InlineData(1L, "BTCUSDT", 0, "size")]
    [InlineData(1L, "BTCUSDT", -5, "size")]
    public void Bad_parent_orders_are_refused_naming_the_field(long id, string symbol, int size, string field)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new ParentOrderSpec(id, symbol, Side.Buy, SizeType.Notional, size));
        Assert.Equal(field, error.ParamName);
    }
}
