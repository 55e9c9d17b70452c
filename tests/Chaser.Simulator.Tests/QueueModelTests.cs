using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Tests;

/// <summary>
/// The two queue models of the one matching engine. Under <see cref="QueueModel.RiskAverse"/> (hftbacktest's) only
/// printed trades advance our place; other participants' cancels at our price are taken to be behind us as far as they
/// can be, so the queue ahead only shrinks to what the level still shows. A modify goes to the back under both.
/// </summary>
public sealed class QueueModelTests
{
    private const string Btc = "BTCUSDT";
    private const decimal Bid = 64999.9m;
    private readonly ManualTimeProvider clock = new();

    /// <summary>Bids 64999.9 (5), 64999.8 (7); asks 65000.0 (4), 65000.1 (6): a one-tick spread.</summary>
    private ExchangeEngine Engine(QueueModel model)
    {
        var engine = new ExchangeEngine(new EngineOptions { QueueModel = model }, clock);
        engine.ReplaceBook(Btc, [new(Bid, 5m), new(64999.8m, 7m)], [new(65000.0m, 4m), new(65000.1m, 6m)]);
        return engine;
    }

    private static long PostOnly(ExchangeEngine engine, OrderSide side, decimal price, decimal qty = 0.010m) => engine.PlaceOrder(new NewOrderRequest
    {
        Symbol = Btc,
        Side = side,
        Type = OrderType.Limit,
        TimeInForce = TimeInForce.Gtx,
        Price = price,
        Quantity = qty,
    }).Final.OrderId;

    private static void BidLevel(ExchangeEngine engine, decimal qty) => engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, Bid, qty)]);

    [Fact]
    public void A_queue_model_that_is_neither_of_the_two_is_refused_naming_the_option()
    {
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => new ExchangeEngine(new EngineOptions { QueueModel = (QueueModel)7 }, clock));

        Assert.StartsWith("QueueModel: 7 is not a queue model (Proportional or RiskAverse)", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(QueueModel.Proportional, "2.5")]
    [InlineData(QueueModel.RiskAverse, "5")]
    public void Cancels_at_our_level_advance_us_only_under_the_proportional_model(QueueModel model, string expected)
    {
        var engine = Engine(model);
        var id = PostOnly(engine, OrderSide.Buy, Bid); // 5 ahead
        BidLevel(engine, 15m); // 10 join behind us
        BidLevel(engine, 7.5m); // half the level cancels: proportionally 2.5 of the 5 ahead; risk-averse, all of it behind us

        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), engine.QueryOrder(Btc, id, null).QueueAhead);
    }

    [Fact]
    public void Under_risk_averse_a_trade_at_our_price_advances_us_and_the_cancels_after_it_do_not()
    {
        var engine = Engine(QueueModel.RiskAverse);
        var id = PostOnly(engine, OrderSide.Buy, Bid);
        BidLevel(engine, 15m); // 5 ahead of us, 10 behind

        engine.ApplyTrade(Btc, Bid, 3m, buyerIsMaker: true);
        Assert.Equal(2m, engine.QueryOrder(Btc, id, null).QueueAhead);

        // The level shows 9: the 3 printed and 3 cancelled. The proportional model would move us to 1.5.
        BidLevel(engine, 9m);
        Assert.Equal(2m, engine.QueryOrder(Btc, id, null).QueueAhead);

        // 2.004 more sold at our price: 2 to the queue ahead, 0.004 to us.
        engine.ApplyTrade(Btc, Bid, 2.004m, buyerIsMaker: true);
        var partial = engine.QueryOrder(Btc, id, null);
        Assert.Equal(OrderStatus.PartiallyFilled, partial.Status);
        Assert.Equal(0.004m, partial.ExecutedQty);
        Assert.Equal(0m, partial.QueueAhead);
        Assert.True(Assert.Single(engine.GetUserTrades(Btc)).Maker);
    }

    [Fact]
    public void Under_risk_averse_a_level_shrinking_below_the_queue_ahead_caps_it()
    {
        var engine = Engine(QueueModel.RiskAverse);
        var id = PostOnly(engine, OrderSide.Buy, Bid, 0.5m);
        BidLevel(engine, 15m); // 5 ahead, 10 behind

        // 12 cancel: at most the 10 behind us were behind, so at least 2 of the 5 ahead went (3 left; proportionally 1).
        BidLevel(engine, 3m);
        Assert.Equal(3m, engine.QueryOrder(Btc, id, null).QueueAhead);

        // A level that grows again puts nobody ahead of us.
        BidLevel(engine, 8m);
        Assert.Equal(3m, engine.QueryOrder(Btc, id, null).QueueAhead);

        engine.ApplyTrade(Btc, Bid, 3.2m, buyerIsMaker: true);
        Assert.Equal(0.2m, engine.QueryOrder(Btc, id, null).ExecutedQty);
    }

    [Fact]
    public void Under_risk_averse_a_book_ticker_shrinking_our_ask_level_does_not_advance_our_sell()
    {
        var engine = Engine(QueueModel.RiskAverse);
        var id = PostOnly(engine, OrderSide.Sell, 65000.0m); // 4 ahead
        engine.ApplyTopOfBook(Btc, new BookLevel(Bid, 5m), new BookLevel(65000.0m, 10m)); // 6 join behind
        engine.ApplyTopOfBook(Btc, new BookLevel(Bid, 5m), new BookLevel(65000.0m, 6m)); // 4 cancel (proportionally: 1.6 of ours)
        Assert.Equal(4m, engine.QueryOrder(Btc, id, null).QueueAhead);

        engine.ApplyTopOfBook(Btc, new BookLevel(Bid, 5m), new BookLevel(65000.0m, 1m)); // at most 1 can be ahead now
        Assert.Equal(1m, engine.QueryOrder(Btc, id, null).QueueAhead);

        engine.ApplyTrade(Btc, 65000.0m, 1.004m, buyerIsMaker: false); // a buyer lifts the asks
        Assert.Equal(0.004m, engine.QueryOrder(Btc, id, null).ExecutedQty);
    }

    [Theory]
    [InlineData(QueueModel.Proportional)]
    [InlineData(QueueModel.RiskAverse)]
    public void Under_both_models_a_trade_through_our_price_consumes_the_queue_ahead_first(QueueModel model)
    {
        var engine = Engine(model);
        var id = PostOnly(engine, OrderSide.Buy, Bid, 0.5m); // 5 ahead

        engine.ApplyTrade(Btc, 64999.8m, 5.2m, buyerIsMaker: true);

        var order = engine.QueryOrder(Btc, id, null);
        Assert.Equal((0.2m, 0m), (order.ExecutedQty, order.QueueAhead));
    }

    [Theory]
    [InlineData(QueueModel.Proportional, "0.020")]
    [InlineData(QueueModel.Proportional, "0.005")]
    [InlineData(QueueModel.RiskAverse, "0.020")]
    [InlineData(QueueModel.RiskAverse, "0.005")]
    public void Under_both_models_a_modify_goes_to_the_back_a_quantity_only_decrease_too(QueueModel model, string quantity)
    {
        // Binance USDⓈ-M re-queues every modified order (its modify doc: re-sorted in the matching queue); only Spot
        // has an amend that keeps priority (order/amend/keepPriority, quantity decreases only).
        var engine = Engine(model);
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Ask, 65000.0m, 0m)]);
        var id = PostOnly(engine, OrderSide.Buy, 65000.0m); // alone at a new level
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 65000.0m, 2m)]); // others join behind
        Assert.Equal(0m, engine.QueryOrder(Btc, id, null).QueueAhead);

        var qty = decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture);
        var modified = engine.ModifyOrder(new ModifyOrderRequest { Symbol = Btc, OrderId = id, Side = OrderSide.Buy, Quantity = qty, Price = 65000.0m });

        Assert.Equal((id, qty, 2m), (modified.OrderId, modified.OrigQty, modified.QueueAhead));
        engine.ApplyTrade(Btc, 65000.0m, 2m, buyerIsMaker: true);
        Assert.Equal(0m, engine.QueryOrder(Btc, id, null).ExecutedQty); // the 2 now ahead of us took it all
    }
}
