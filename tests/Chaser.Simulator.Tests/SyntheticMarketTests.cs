using Chaser.Simulator.Engine;
using Chaser.Simulator.Sources;

namespace Chaser.Simulator.Tests;

public sealed class SyntheticMarketTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    // The first event times of BTCUSDT's market for seed 1 from t = 0, as every process must produce them.
    private const string PinnedFirstEventTimes = "18;53;58;58;161;188;209;209;209;326;379;382;386;416;445;471;504;578;702;708;716;728;825";

    private static (ExchangeEngine Engine, MarketDriver Driver, ManualTimeProvider Clock) Start(int seed)
    {
        var clock = new ManualTimeProvider();
        var engine = new ExchangeEngine(new EngineOptions(), clock);
        var source = new SyntheticSource(SymbolSpec.Defaults, seed, clock.GetUtcNow().ToUnixTimeMilliseconds());
        var driver = new MarketDriver(engine, source);
        driver.ApplyFor(TimeSpan.Zero);
        return (engine, driver, clock);
    }

    private static void Advance(MarketDriver driver, ManualTimeProvider clock)
    {
        clock.Advance(Step);
        driver.ApplyFor(Step);
    }

    [Fact]
    public void A_seed_gives_the_same_market_in_every_process()
    {
        // Pinned values: a seed must reproduce a market across runs and machines, not only within one process.
        var market = new SyntheticMarket(SymbolSpec.Defaults[0], seed: 1, startTime: 0);
        var first = string.Join(";", Enumerable.Range(0, 20).SelectMany(_ => market.Next()).Select(e => e.Time));

        Assert.Equal(PinnedFirstEventTimes, first);
    }

    [Fact]
    public void A_market_with_no_activity_at_all_is_refused_with_the_reason()
    {
        var still = new SyntheticOptions { CalmTradesPerSecond = 0, BurstTradesPerSecond = 0, AddsPerSecond = 0, CancelsPerSecond = 0 };

        var refused = Assert.Throws<ArgumentException>(() => new SyntheticMarket(SymbolSpec.Defaults[0], seed: 1, startTime: 0, still));
        Assert.Contains("can't all be zero", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_seed_gives_the_same_market()
    {
        static string Run(int seed)
        {
            var (engine, driver, clock) = Start(seed);
            for (var i = 0; i < 300; i++)
            {
                Advance(driver, clock);
            }

            var depth = engine.GetDepth("ETHUSDT", 5);
            return string.Join(";", depth.Bids.Concat(depth.Asks).Select(l => $"{l.Price}:{l.Qty}")) + "|" + depth.LastUpdateId;
        }

        Assert.Equal(Run(7), Run(7));
        Assert.NotEqual(Run(7), Run(8));
    }

    [Fact]
    public void The_book_is_realistic_deep_mostly_one_tick_wide_on_tick_and_trades_several_times_a_second()
    {
        var (engine, driver, clock) = Start(1);
        var observer = new RecordingObserver();
        engine.Subscribe(observer);
        var oneTick = 0;
        var samples = 0;
        var bestBidChanges = 0;
        var lastBid = 0m;
        for (var i = 0; i < 3000; i++) // five minutes
        {
            Advance(driver, clock);
            foreach (var spec in SymbolSpec.Defaults)
            {
                var top = engine.GetBookTicker(spec.Symbol);
                Assert.True(top.BidPrice < top.AskPrice, $"{spec.Symbol} crossed {top.BidPrice}/{top.AskPrice}");
                Assert.True(spec.IsOnTick(top.BidPrice) && spec.IsOnTick(top.AskPrice));
                samples++;
                oneTick += top.AskPrice - top.BidPrice == spec.TickSize ? 1 : 0;
            }

            var btc = engine.GetBookTicker("BTCUSDT").BidPrice;
            bestBidChanges += btc != lastBid ? 1 : 0;
            lastBid = btc;
        }

        var depth = engine.GetDepth("BTCUSDT", 1000);
        var btcTrades = observer.Trades.Count(t => t.Symbol == "BTCUSDT");
        var first = engine.GetRecentTrades("BTCUSDT", 1000);
        output.WriteLine($"one-tick share {(double)oneTick / samples:P0}, BTC trades/s {btcTrades / 300.0:F1}, bid changes {bestBidChanges}, levels {depth.Bids.Count}/{depth.Asks.Count}, last {depth.Bids[0].Price}");
        Assert.True(oneTick > samples * 0.6, $"one tick only {oneTick}/{samples}");
        Assert.True(depth.Bids.Count >= 20 && depth.Asks.Count >= 20);
        Assert.True(btcTrades / 300.0 >= 3, $"{btcTrades} trades in 5 minutes");
        Assert.True(bestBidChanges >= 60, $"best bid changed only {bestBidChanges} times in 5 minutes");
        Assert.Contains(first, t => t.BuyerIsMaker);
        Assert.Contains(first, t => !t.BuyerIsMaker);
        Assert.All(first, t => Assert.Equal(0m, t.Price % 0.1m));
    }

    [Theory]
    [InlineData("BTCUSDT")]
    [InlineData("ETHUSDT")]
    [InlineData("SOLUSDT")]
    [InlineData("XRPUSDT")]
    public void A_post_only_bid_chasing_the_best_bid_is_maker_filled_well_within_a_minute(string symbol)
    {
        var worst = TimeSpan.Zero;
        for (var seed = 1; seed <= 10; seed++)
        {
            var (engine, driver, clock) = Start(seed);
            var spec = engine.GetSpec(symbol);
            var qty = Math.Max(spec.MinQty, Math.Ceiling(spec.MinNotional * 1.2m / spec.InitialPrice / spec.StepSize) * spec.StepSize);
            var bid = engine.GetBookTicker(symbol).BidPrice;
            var id = engine.PlaceOrder(new NewOrderRequest { Symbol = symbol, Side = OrderSide.Buy, Type = OrderType.Limit, TimeInForce = TimeInForce.Gtx, Price = bid, Quantity = qty }).Final.OrderId;
            var elapsed = TimeSpan.Zero;
            var reprices = 0;
            while (engine.QueryOrder(symbol, id, null).Status != OrderStatus.Filled)
            {
                Assert.True(elapsed < TimeSpan.FromSeconds(60), $"{symbol} seed {seed}: not filled after a minute ({reprices} re-prices)");
                Advance(driver, clock);
                elapsed += Step;
                var order = engine.QueryOrder(symbol, id, null);
                var best = engine.GetBookTicker(symbol).BidPrice;
                if (order.IsOpen && best > order.Price)
                {
                    engine.ModifyOrder(new ModifyOrderRequest { Symbol = symbol, OrderId = id, Side = OrderSide.Buy, Price = best, Quantity = qty });
                    reprices++;
                }
            }

            var trade = engine.GetUserTrades(symbol)[^1];
            Assert.True(trade.Maker);
            worst = elapsed > worst ? elapsed : worst;
            output.WriteLine($"{symbol} seed {seed}: filled after {elapsed.TotalSeconds:F1}s, {reprices} re-prices");
        }

        Assert.True(worst < TimeSpan.FromSeconds(45), $"worst fill time {worst}");
    }
}
