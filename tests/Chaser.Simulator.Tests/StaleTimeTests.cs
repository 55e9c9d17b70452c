using Chaser.Simulator.Engine;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Simulator.Tests;

/// <summary>The exchange-side stale time: from the book change that left our order off the best price to what ended it.</summary>
public sealed class StaleTimeTests
{
    private const string Btc = "BTCUSDT";
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
    private readonly ExchangeEngine engine;
    private readonly StaleTimeRecorder stale;

    public StaleTimeTests()
    {
        engine = new ExchangeEngine(new EngineOptions(), clock);
        // Bids 64999.9 (5), 64999.8 (7); asks 65000.5 (4): room to bid better.
        engine.ReplaceBook(Btc, [new(64999.9m, 5m), new(64999.8m, 7m)], [new(65000.5m, 4m)]);
        stale = engine.TrackStaleTime();
    }

    private long PostOnlyBuy(decimal price, decimal qty = 0.010m) => engine.PlaceOrder(new NewOrderRequest
    {
        Symbol = Btc,
        Side = OrderSide.Buy,
        Type = OrderType.Limit,
        TimeInForce = TimeInForce.Gtx,
        Price = price,
        Quantity = qty,
    }).Final.OrderId;

    [Fact]
    public void Someone_bidding_better_makes_our_bid_stale_until_our_modify_arrives()
    {
        var id = PostOnlyBuy(64999.9m);
        clock.Advance(TimeSpan.FromMilliseconds(5));
        Assert.Equal(0, stale.OpenCount);

        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 65000.0m, 1m)]);
        Assert.Equal(1, stale.OpenCount);
        clock.Advance(TimeSpan.FromMilliseconds(3.25));
        engine.ModifyOrder(new ModifyOrderRequest { Symbol = Btc, OrderId = id, Side = OrderSide.Buy, Quantity = 0.010m, Price = 65000.0m });

        var interval = Assert.Single(stale.Intervals());
        Assert.Equal((id, true, StaleEnd.Modified, TimeSpan.FromMilliseconds(3.25)), (interval.OrderId, interval.Behind, interval.End, interval.Duration));
        Assert.Equal(0, stale.OpenCount); // at the best bid again, behind the 1 that got there first
    }

    [Fact]
    public void A_level_that_empties_leaves_our_bid_alone_ahead_of_the_book_and_stale_until_our_cancel_arrives()
    {
        var id = PostOnlyBuy(64999.9m);
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 64999.9m, 0m)]); // everyone else at our price left
        clock.Advance(TimeSpan.FromMilliseconds(2));
        engine.CancelOrder(Btc, id, null);

        var interval = Assert.Single(stale.Intervals());
        Assert.Equal((id, false, StaleEnd.Canceled, TimeSpan.FromMilliseconds(2)), (interval.OrderId, interval.Behind, interval.End, interval.Duration));
    }

    [Fact]
    public void A_stale_stretch_the_market_ends_itself_is_told_apart_from_one_our_request_ended()
    {
        var id = PostOnlyBuy(64999.9m, 0.5m);
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 65000.0m, 1m)]);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 65000.0m, 0m)]); // the better bid is gone again
        engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 65000.0m, 1m)]);
        clock.Advance(TimeSpan.FromMilliseconds(4));
        engine.ApplyTrade(Btc, 64999.9m, 5.5m, buyerIsMaker: true); // through the 5 ahead: fills us while stale

        Assert.Equal(
            [(StaleEnd.BestAgain, TimeSpan.FromMilliseconds(1)), (StaleEnd.Closed, TimeSpan.FromMilliseconds(4))],
            stale.Intervals().Select(i => (i.End, i.Duration)));
        Assert.Equal(OrderStatus.Filled, engine.QueryOrder(Btc, id, null).Status);
    }
}
