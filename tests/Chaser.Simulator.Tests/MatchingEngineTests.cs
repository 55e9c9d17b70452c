using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Tests;

public sealed class MatchingEngineTests
{
    private const string Btc = "BTCUSDT";
    private readonly ManualTimeProvider clock = new();
    private readonly ExchangeEngine engine;
    private readonly RecordingObserver observer = new();

    public MatchingEngineTests()
    {
        engine = new ExchangeEngine(new EngineOptions(), clock);
        // Bids 64999.9 (5), 64999.8 (7); asks 65000.0 (4), 65000.1 (6): a one-tick spread.
        engine.ReplaceBook(Btc, [new(64999.9m, 5m), new(64999.8m, 7m)], [new(65000.0m, 4m), new(65000.1m, 6m)]);
        engine.Subscribe(observer);
    }

    private PlaceResult PostOnlyBuy(decimal price, decimal qty = 0.010m, string? clientId = null) => engine.PlaceOrder(new NewOrderRequest
    {
        Symbol = Btc,
        Side = OrderSide.Buy,
        Type = OrderType.Limit,
        TimeInForce = TimeInForce.Gtx,
        Price = price,
        Quantity = qty,
        NewClientOrderId = clientId,
    });

    private static BinanceException Rejects(Action action) => Assert.Throws<BinanceException>(action);

    [Fact]
    public void Post_only_at_the_best_bid_joins_behind_the_displayed_quantity()
    {
        var order = PostOnlyBuy(64999.9m).Final;

        Assert.Equal(OrderStatus.New, order.Status);
        Assert.Equal(5m, order.QueueAhead);
        var top = engine.GetBookTicker(Btc);
        Assert.Equal(64999.9m, top.BidPrice);
        Assert.Equal(5.010m, top.BidQty); // our order is displayed like anyone else's
    }

    [Fact]
    public void Trades_at_our_price_consume_the_queue_ahead_then_fill_us_as_maker()
    {
        var id = PostOnlyBuy(64999.9m, 0.010m).Final.OrderId;

        engine.ApplyTrade(Btc, 64999.9m, 3m, buyerIsMaker: true);
        Assert.Equal(2m, engine.QueryOrder(Btc, id, null).QueueAhead);
        Assert.Equal(0m, engine.QueryOrder(Btc, id, null).ExecutedQty);

        engine.ApplyTrade(Btc, 64999.9m, 2.004m, buyerIsMaker: true);
        var partial = engine.QueryOrder(Btc, id, null);
        Assert.Equal(OrderStatus.PartiallyFilled, partial.Status);
        Assert.Equal(0.004m, partial.ExecutedQty);

        engine.ApplyTrade(Btc, 64999.9m, 1m, buyerIsMaker: true);
        var filled = engine.QueryOrder(Btc, id, null);
        Assert.Equal(OrderStatus.Filled, filled.Status);
        Assert.Equal(0.010m, filled.ExecutedQty);

        var trades = engine.GetUserTrades(Btc);
        Assert.Equal(2, trades.Count);
        Assert.All(trades, t => Assert.True(t.Maker));
        Assert.Equal(Math.Round(0.006m * 64999.9m * 0.0002m, 8), trades[1].Commission);
        Assert.Equal(0.010m, engine.GetPosition(Btc).Amount);
    }

    [Fact]
    public void Trades_on_the_other_side_do_not_touch_our_bid()
    {
        var id = PostOnlyBuy(64999.9m).Final.OrderId;
        engine.ApplyTrade(Btc, 65000.0m, 10m, buyerIsMaker: false);
        Assert.Equal(5m, engine.QueryOrder(Btc, id, null).QueueAhead);
        Assert.Equal(0m, engine.QueryOrder(Btc, id, null).ExecutedQty);
    }

    [Fact]
    public void A_trade_through_our_price_fills_us_at_most_its_quantity_after_the_queue_ahead()
    {
        var id = PostOnlyBuy(64999.9m, 0.5m).Final.OrderId;

        // 0.001 printed below our bid: the 5 ahead of us at 64999.9 would have taken it first (it filled all 0.5).
        engine.ApplyTrade(Btc, 64999.8m, 0.001m, buyerIsMaker: true);
        var untouched = engine.QueryOrder(Btc, id, null);
        Assert.Equal(0m, untouched.ExecutedQty);
        Assert.Equal(4.999m, untouched.QueueAhead);

        // 5.2 more through us: 4.999 to the queue ahead, the 0.201 left to us.
        engine.ApplyTrade(Btc, 64999.8m, 5.2m, buyerIsMaker: true);
        var partial = engine.QueryOrder(Btc, id, null);
        Assert.Equal(OrderStatus.PartiallyFilled, partial.Status);
        Assert.Equal(0.201m, partial.ExecutedQty);
        Assert.Equal(0m, partial.QueueAhead);
        Assert.Equal(64999.9m, partial.AvgPrice);
        Assert.Equal(0.201m, Assert.Single(engine.GetUserTrades(Btc)).Qty);

        engine.ApplyTrade(Btc, 64999.7m, 1m, buyerIsMaker: true);
        Assert.Equal(OrderStatus.Filled, engine.QueryOrder(Btc, id, null).Status);
    }

    [Fact]
    public void A_print_through_two_of_our_levels_serves_the_better_one_first_and_is_not_given_twice()
    {
        var high = PostOnlyBuy(64999.9m, 0.010m).Final.OrderId; // 5 ahead
        var low = PostOnlyBuy(64999.8m, 0.010m).Final.OrderId; // 7 ahead

        // 5.3 sold down to 64999.7: 5 to the queue at 64999.9, 0.010 to our bid there, the 0.29 left to the queue at 64999.8.
        engine.ApplyTrade(Btc, 64999.7m, 5.3m, buyerIsMaker: true);

        Assert.Equal(OrderStatus.Filled, engine.QueryOrder(Btc, high, null).Status);
        var second = engine.QueryOrder(Btc, low, null);
        Assert.Equal(0m, second.ExecutedQty);
        Assert.Equal(6.71m, second.QueueAhead);
        Assert.Equal(0.010m, engine.GetUserTrades(Btc).Sum(t => t.Qty));
    }

    [Fact]
    public void The_queue_a_print_through_us_consumed_is_not_taken_again_when_the_depth_shows_it_gone()
    {
        var id = PostOnlyBuy(64999.9m).Final.OrderId;
        engine.ApplyTrade(Btc, 64999.8m, 3m, buyerIsMaker: true);
        Assert.Equal(2m, engine.QueryOrder(Btc, id, null).QueueAhead);

        // The level now shows the 2 left ahead of us: the 3 that went are the print's, not cancels shrinking the 2.
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 64999.9m, 2m)]);
        Assert.Equal(2m, engine.QueryOrder(Btc, id, null).QueueAhead);
    }

    [Fact]
    public void A_book_reaching_our_bid_fills_us_with_at_most_what_it_shows_arriving_there()
    {
        var id = PostOnlyBuy(64999.9m, 0.5m).Final.OrderId;

        // The bids ahead of us leave and 0.2 is offered at our price: that seller trades with us, for 0.2 (it filled all 0.5).
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 64999.9m, 0m), new LevelChange(BookSide.Ask, 64999.9m, 0.2m)]);
        var order = engine.QueryOrder(Btc, id, null);
        Assert.Equal(OrderStatus.PartiallyFilled, order.Status);
        Assert.Equal(0.2m, order.ExecutedQty);
        Assert.Equal(64999.9m, order.AvgPrice);
        Assert.True(Assert.Single(engine.GetUserTrades(Btc)).Maker);
        var top = engine.GetBookTicker(Btc);
        Assert.Equal((64999.9m, 0.3m, 65000.0m), (top.BidPrice, top.BidQty, top.AskPrice)); // what traded no longer rests

        // The recording repeats the level it never saw us take: nothing new arrived, nothing more fills.
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Ask, 64999.9m, 0.2m)]);
        Assert.Equal(0.2m, engine.QueryOrder(Btc, id, null).ExecutedQty);
        Assert.Equal(65000.0m, engine.GetBookTicker(Btc).AskPrice);

        // 0.3 more offered there: the rest of us.
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Ask, 64999.9m, 0.5m)]);
        Assert.Equal(OrderStatus.Filled, engine.QueryOrder(Btc, id, null).Status);
        Assert.Equal(0.5m, engine.GetUserTrades(Btc).Sum(t => t.Qty));
    }

    [Fact]
    public void What_our_taker_took_from_a_level_is_not_restored_when_the_source_repeats_the_level()
    {
        engine.PlaceOrder(new NewOrderRequest { Symbol = Btc, Side = OrderSide.Buy, Type = OrderType.Market, Quantity = 3m });
        Assert.Equal(1m, engine.GetBookTicker(Btc).AskQty);

        // A recorded depth update repeats the level at its recorded 4: only the 1 we did not take is there.
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Ask, 65000.0m, 4m)]);
        Assert.Equal(1m, engine.GetBookTicker(Btc).AskQty);

        // The source shows 2 there, less than we took: nothing of it is left to others. Then 0.5 joins: that is new.
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Ask, 65000.0m, 2m)]);
        Assert.Equal(65000.1m, engine.GetBookTicker(Btc).AskPrice);
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Ask, 65000.0m, 2.5m)]);
        Assert.Equal((65000.0m, 0.5m), (engine.GetBookTicker(Btc).AskPrice, engine.GetBookTicker(Btc).AskQty));
    }

    [Fact]
    public void Cancels_at_our_level_shrink_the_queue_ahead_proportionally()
    {
        var id = PostOnlyBuy(64999.9m).Final.OrderId;
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 64999.9m, 15m)]); // 10 join behind us
        Assert.Equal(5m, engine.QueryOrder(Btc, id, null).QueueAhead);

        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 64999.9m, 7.5m)]); // half the level cancels
        Assert.Equal(2.5m, engine.QueryOrder(Btc, id, null).QueueAhead);
    }

    [Fact]
    public void A_decrease_explained_by_printed_trades_is_not_counted_again_as_cancels()
    {
        var id = PostOnlyBuy(64999.9m).Final.OrderId;
        engine.ApplyTrade(Btc, 64999.9m, 2m, buyerIsMaker: true);
        Assert.Equal(3m, engine.QueryOrder(Btc, id, null).QueueAhead);

        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 64999.9m, 3m)]);
        Assert.Equal(3m, engine.QueryOrder(Btc, id, null).QueueAhead);

        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 64999.9m, 0m)]); // everyone ahead left
        Assert.Equal(0m, engine.QueryOrder(Btc, id, null).QueueAhead);
    }

    [Fact]
    public void An_improving_order_is_first_in_its_new_level()
    {
        // Spread is one tick, so improve is impossible without crossing; widen it first.
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Ask, 65000.0m, 0m)]);
        var order = PostOnlyBuy(65000.0m).Final;
        Assert.Equal(0m, order.QueueAhead);
        engine.ApplyTrade(Btc, 65000.0m, 0.004m, buyerIsMaker: true);
        Assert.Equal(0.004m, engine.QueryOrder(Btc, order.OrderId, null).ExecutedQty);
    }

    [Fact]
    public void A_crossing_post_only_order_is_rejected_and_never_recorded()
    {
        var before = observer.Orders.Count;
        var error = Rejects(() => PostOnlyBuy(65000.0m, clientId: "cross-1"));

        Assert.Equal(-5022, error.Code);
        Assert.Equal("Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history", error.Message);
        Assert.Equal(before, observer.Orders.Count);
        Assert.Equal(-2013, Rejects(() => engine.QueryOrder(Btc, null, "cross-1")).Code);
        Assert.Empty(engine.GetAllOrders(Btc, null, 100));
        Assert.Empty(engine.GetOpenOrders(Btc));
    }

    [Fact]
    public void Modify_requeues_the_order_at_the_back()
    {
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Ask, 65000.0m, 0m)]);
        var id = PostOnlyBuy(65000.0m, 0.010m).Final.OrderId; // alone at a new level
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 65000.0m, 2m)]); // others join behind
        Assert.Equal(0m, engine.QueryOrder(Btc, id, null).QueueAhead);

        var modified = engine.ModifyOrder(new ModifyOrderRequest { Symbol = Btc, OrderId = id, Side = OrderSide.Buy, Quantity = 0.020m, Price = 65000.0m });

        Assert.Equal(id, modified.OrderId);
        Assert.Equal(2m, modified.QueueAhead);
        Assert.Equal(0.020m, modified.OrigQty);
        var amendment = observer.Orders.Last();
        Assert.Equal(ExecutionType.Amendment, amendment.ExecutionType);
        Assert.Equal(OrderStatus.New, amendment.Order.Status);
    }

    [Fact]
    public void A_post_only_modify_that_would_cross_cancels_the_order()
    {
        var id = PostOnlyBuy(64999.9m).Final.OrderId;

        var result = engine.ModifyOrder(new ModifyOrderRequest { Symbol = Btc, OrderId = id, Side = OrderSide.Buy, Quantity = 0.010m, Price = 65000.1m });

        Assert.Equal(OrderStatus.Canceled, result.Status);
        Assert.Empty(engine.GetOpenOrders(Btc));
        Assert.Equal(ExecutionType.Canceled, observer.Orders.Last().ExecutionType);
    }

    [Fact]
    public void Modify_with_nothing_changed_is_rejected_and_a_failing_filter_leaves_the_order_as_it_was()
    {
        var id = PostOnlyBuy(64999.9m).Final.OrderId;
        Assert.Equal(-5027, Rejects(() => engine.ModifyOrder(new ModifyOrderRequest { Symbol = Btc, OrderId = id, Side = OrderSide.Buy, Quantity = 0.010m, Price = 64999.9m })).Code);
        Assert.Equal(-4014, Rejects(() => engine.ModifyOrder(new ModifyOrderRequest { Symbol = Btc, OrderId = id, Side = OrderSide.Buy, Quantity = 0.010m, Price = 64999.95m })).Code);
        var order = engine.QueryOrder(Btc, id, null);
        Assert.Equal(64999.9m, order.Price);
        Assert.Equal(5m, order.QueueAhead);
    }

    [Fact]
    public void Cancel_of_a_filled_or_unknown_order_is_unknown_order()
    {
        var id = PostOnlyBuy(64999.9m).Final.OrderId;
        engine.ApplyTrade(Btc, 64999.8m, 6m, buyerIsMaker: true); // trade through the 5 ahead and us: filled

        var filled = Rejects(() => engine.CancelOrder(Btc, id, null));
        Assert.Equal(-2011, filled.Code);
        Assert.Equal("Unknown order sent.", filled.Message);
        Assert.Equal(-2011, Rejects(() => engine.CancelOrder(Btc, 42, null)).Code);
        Assert.Equal(-2011, Rejects(() => engine.CancelOrder(Btc, null, "never-sent")).Code);
    }

    [Fact]
    public void Cancel_then_fill_race_the_fill_after_cancel_does_nothing()
    {
        var id = PostOnlyBuy(64999.9m).Final.OrderId;
        var canceled = engine.CancelOrder(Btc, id, null);
        engine.ApplyTrade(Btc, 64999.0m, 10m, buyerIsMaker: true);

        Assert.Equal(OrderStatus.Canceled, canceled.Status);
        Assert.Equal(0m, engine.QueryOrder(Btc, id, null).ExecutedQty);
        Assert.Empty(engine.GetUserTrades(Btc));
    }

    [Theory]
    [InlineData("64999.95", "0.010", -4014)]
    [InlineData("64999.9", "0.0105", -1111)]
    [InlineData("64999.9", "0.0000", -4003)]
    [InlineData("64999.9", "1001", -4005)]
    [InlineData("64999.9", "0.001", -4164)] // 65 USDT < 100
    [InlineData("68300.0", "0.010", -4016)] // above mark × 1.05
    [InlineData("200", "0.010", -4013)]
    public void Filters_reject_bad_buys(string price, string qty, int code)
    {
        var error = Rejects(() => engine.PlaceOrder(new NewOrderRequest
        {
            Symbol = Btc,
            Side = OrderSide.Buy,
            Type = OrderType.Limit,
            TimeInForce = TimeInForce.Gtc,
            Price = decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture),
            Quantity = decimal.Parse(qty, System.Globalization.CultureInfo.InvariantCulture),
        }));
        Assert.Equal(code, error.Code);
    }

    [Fact]
    public void Step_min_qty_and_percent_price_on_sells()
    {
        var eth = new NewOrderRequest { Symbol = "SOLUSDT", Side = OrderSide.Sell, Type = OrderType.Limit, TimeInForce = TimeInForce.Gtc, Price = 150m, Quantity = 0.005m };
        engine.ReplaceBook("SOLUSDT", [new(149.99m, 100m)], [new(150.00m, 100m)]);
        Assert.Equal(-1111, Rejects(() => engine.PlaceOrder(eth)).Code);
        engine.ReplaceBook("XRPUSDT", [new(0.5000m, 1000m)], [new(0.5001m, 1000m)]);
        var xrp = eth with { Symbol = "XRPUSDT", Price = 0.6m, Quantity = 100.05m };
        Assert.Equal(-1111, Rejects(() => engine.PlaceOrder(xrp)).Code);
        var low = Rejects(() => engine.PlaceOrder(new NewOrderRequest { Symbol = Btc, Side = OrderSide.Sell, Type = OrderType.Limit, TimeInForce = TimeInForce.Gtc, Price = 61000.0m, Quantity = 0.01m }));
        Assert.Equal(-4024, low.Code);
        Assert.Equal("Limit price can't be lower than 61750.0.", low.Message);
    }

    [Fact]
    public void Step_and_min_qty_are_checked_against_the_symbol_filters()
    {
        var custom = new ExchangeEngine(new EngineOptions { Symbols = [SymbolSpec.Defaults[0] with { StepSize = 0.005m, MinQty = 0.010m }] }, clock);
        custom.ReplaceBook(Btc, [new(64999.9m, 5m)], [new(65000.0m, 5m)]);
        var request = new NewOrderRequest { Symbol = Btc, Side = OrderSide.Buy, Type = OrderType.Limit, TimeInForce = TimeInForce.Gtc, Price = 64999.9m, Quantity = 0.012m };

        Assert.Equal(-4023, Rejects(() => custom.PlaceOrder(request)).Code);
        Assert.Equal(-4004, Rejects(() => custom.PlaceOrder(request with { Quantity = 0.005m })).Code);
        Assert.Equal(OrderStatus.New, custom.PlaceOrder(request with { Quantity = 0.015m }).Final.Status);
    }

    [Fact]
    public void Client_order_ids_are_checked_and_unique_among_open_orders_only()
    {
        Assert.Equal(-4015, Rejects(() => PostOnlyBuy(64999.9m, clientId: "bad id!")).Code);
        Assert.Equal(-4015, Rejects(() => PostOnlyBuy(64999.9m, clientId: new string('a', 37))).Code);
        var first = PostOnlyBuy(64999.9m, clientId: "chase.1:a/b_c-d").Final;
        Assert.Equal(-4116, Rejects(() => PostOnlyBuy(64999.8m, clientId: "chase.1:a/b_c-d")).Code);
        engine.CancelOrder(Btc, null, "chase.1:a/b_c-d");
        var second = PostOnlyBuy(64999.8m, clientId: "chase.1:a/b_c-d").Final;
        Assert.NotEqual(first.OrderId, second.OrderId);
        Assert.Equal(second.OrderId, engine.QueryOrder(Btc, null, "chase.1:a/b_c-d").OrderId);
    }

    [Fact]
    public void Market_orders_take_liquidity_and_pay_the_taker_fee()
    {
        var start = engine.WalletBalance;
        var result = engine.PlaceOrder(new NewOrderRequest { Symbol = Btc, Side = OrderSide.Buy, Type = OrderType.Market, Quantity = 5m });

        Assert.Equal(OrderStatus.New, result.Accepted.Status);
        Assert.Equal(OrderStatus.Filled, result.Final.Status);
        Assert.Equal((4m * 65000.0m + 1m * 65000.1m) / 5m, result.Final.AvgPrice);
        var trades = engine.GetUserTrades(Btc);
        Assert.All(trades, t => Assert.False(t.Maker));
        var fees = trades.Sum(t => t.Commission);
        Assert.Equal(Math.Round(4m * 65000.0m * 0.0005m, 8) + Math.Round(65000.1m * 0.0005m, 8), fees);
        Assert.Equal(start - fees, engine.WalletBalance);
        Assert.Equal(65000.1m, engine.GetBookTicker(Btc).AskPrice);
        Assert.Equal(5m, engine.GetBookTicker(Btc).AskQty);
        Assert.Equal(2, observer.Trades.Count);
        Assert.False(observer.Trades.First().BuyerIsMaker);
    }

    [Fact]
    public void Ioc_expires_its_remainder_and_fok_that_cannot_fill_is_rejected()
    {
        var ioc = engine.PlaceOrder(new NewOrderRequest { Symbol = Btc, Side = OrderSide.Sell, Type = OrderType.Limit, TimeInForce = TimeInForce.Ioc, Price = 64999.9m, Quantity = 6m }).Final;
        Assert.Equal(OrderStatus.Expired, ioc.Status);
        Assert.Equal(5m, ioc.ExecutedQty);

        var fok = Rejects(() => engine.PlaceOrder(new NewOrderRequest { Symbol = Btc, Side = OrderSide.Buy, Type = OrderType.Limit, TimeInForce = TimeInForce.Fok, Price = 65000.0m, Quantity = 5m }));
        Assert.Equal(-5021, fok.Code);
    }

    [Fact]
    public void Reduce_only_needs_an_opposite_position_and_is_exempt_from_min_notional()
    {
        Assert.Equal(-2022, Rejects(() => engine.PlaceOrder(new NewOrderRequest { Symbol = Btc, Side = OrderSide.Sell, Type = OrderType.Limit, TimeInForce = TimeInForce.Gtx, Price = 65000.1m, Quantity = 0.001m, ReduceOnly = true })).Code);
        engine.PlaceOrder(new NewOrderRequest { Symbol = Btc, Side = OrderSide.Buy, Type = OrderType.Market, Quantity = 0.002m });
        Assert.Equal(0.002m, engine.GetPosition(Btc).Amount);

        var reduce = engine.PlaceOrder(new NewOrderRequest { Symbol = Btc, Side = OrderSide.Sell, Type = OrderType.Limit, TimeInForce = TimeInForce.Gtx, Price = 65000.1m, Quantity = 0.001m, ReduceOnly = true }).Final;
        Assert.Equal(OrderStatus.New, reduce.Status); // 65 USDT notional, below 100, accepted because reduce-only
        engine.ApplyTrade(Btc, 65000.2m, 7m, buyerIsMaker: false); // through the 6 ahead of it
        Assert.Equal(0.001m, engine.GetPosition(Btc).Amount);
        Assert.True(engine.GetUserTrades(Btc)[^1].RealizedPnl != 0m);
    }

    [Fact]
    public void A_resting_limit_that_crosses_rests_the_remainder_after_taking()
    {
        var result = engine.PlaceOrder(new NewOrderRequest { Symbol = Btc, Side = OrderSide.Buy, Type = OrderType.Limit, TimeInForce = TimeInForce.Gtc, Price = 65000.0m, Quantity = 6m }).Final;
        Assert.Equal(OrderStatus.PartiallyFilled, result.Status);
        Assert.Equal(4m, result.ExecutedQty);
        var top = engine.GetBookTicker(Btc);
        Assert.Equal(65000.0m, top.BidPrice);
        Assert.Equal(2m, top.BidQty);
        Assert.Equal(65000.1m, top.AskPrice);
    }

    [Fact]
    public void Displayed_asks_moving_onto_our_bid_fill_us()
    {
        var id = PostOnlyBuy(64999.9m).Final.OrderId;
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Ask, 65000.0m, 0m), new LevelChange(BookSide.Ask, 64999.9m, 1m)]);
        Assert.Equal(OrderStatus.Filled, engine.QueryOrder(Btc, id, null).Status);
    }

    [Fact]
    public void Depth_diffs_chain_and_match_the_rest_snapshot()
    {
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 64999.7m, 1m), new LevelChange(BookSide.Ask, 65000.2m, 1m)]);
        PostOnlyBuy(64999.9m);
        engine.ApplyTrade(Btc, 64999.9m, 6m, buyerIsMaker: true);

        var diffs = observer.Depth.ToArray();
        Assert.True(diffs.Length >= 3);
        for (var i = 1; i < diffs.Length; i++)
        {
            Assert.Equal(diffs[i - 1].FinalUpdateId, diffs[i].PreviousFinalUpdateId);
            Assert.Equal(diffs[i].PreviousFinalUpdateId + 1, diffs[i].FirstUpdateId);
        }

        Assert.Equal(diffs[^1].FinalUpdateId, engine.GetDepth(Btc, 1000).LastUpdateId);
        Assert.Equal(diffs[^1].FinalUpdateId, observer.Tickers.Last().UpdateId);
    }

    [Fact]
    public void Quick_cancels_are_counted_per_symbol_and_cycle()
    {
        var a = PostOnlyBuy(64999.9m).Final.OrderId;
        var b = PostOnlyBuy(64999.8m).Final.OrderId;
        engine.CancelOrder(Btc, a, null);
        clock.Advance(TimeSpan.FromSeconds(6));
        engine.CancelOrder(Btc, b, null);

        var stats = Assert.Single(engine.GetCancellationStats());
        Assert.Equal(2, stats.Placed);
        Assert.Equal(1, stats.QuickCancels);
        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Empty(engine.GetCancellationStats());
    }

    [Fact]
    public void Countdown_cancel_all_fires_after_its_deadline()
    {
        PostOnlyBuy(64999.9m);
        engine.SetCountdown(Btc, 1000);
        clock.Advance(TimeSpan.FromMilliseconds(999));
        engine.OnTimer();
        Assert.Single(engine.GetOpenOrders(Btc));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        engine.OnTimer();
        Assert.Empty(engine.GetOpenOrders(Btc));
    }

    [Fact]
    public void Order_trade_update_sequence_for_a_fill()
    {
        var id = PostOnlyBuy(64999.9m, 0.010m).Final.OrderId;
        engine.ApplyTrade(Btc, 64999.8m, 6m, buyerIsMaker: true); // through the 5 ahead of us and our 0.010

        var updates = observer.Orders.Where(u => u.Order.OrderId == id).ToArray();
        Assert.Equal([ExecutionType.New, ExecutionType.Trade], updates.Select(u => u.ExecutionType));
        var fill = updates[1];
        Assert.Equal(0.010m, fill.Trade!.Qty);
        Assert.True(fill.Trade.Maker);
        Assert.Equal(OrderStatus.Filled, fill.Order.Status);
        var account = Assert.Single(observer.Accounts);
        Assert.Equal(0.010m, account.Positions[0].Amount);
        Assert.Equal(64999.9m, account.Positions[0].EntryPrice);
    }
}
