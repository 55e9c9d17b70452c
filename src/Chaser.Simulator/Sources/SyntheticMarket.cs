using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Sources;

/// <summary>
/// A seeded random market for one symbol: a latent fair price random-walks (noise in double, prices always exact
/// ticks), other participants add, cancel and take liquidity, takers arrive in bursts and lean towards the fair
/// price, so the touch is consumed and the price moves. Deterministic for a given seed.
/// </summary>
public sealed class SyntheticMarket
{
    private const int MinLevels = 25;
    private readonly SymbolSpec spec;
    private readonly Random random;
    private readonly SortedDictionary<long, decimal> bids = new(Comparer<long>.Create((a, b) => b.CompareTo(a)));
    private readonly SortedDictionary<long, decimal> asks = [];
    private readonly SyntheticOptions options;
    private double fairTicks;
    private bool burst;
    private long now;

    public SyntheticMarket(SymbolSpec spec, int seed, long startTime, SyntheticOptions? options = null)
    {
        this.spec = spec;
        this.options = options ?? new SyntheticOptions();
        // Not HashCode.Combine: it is salted per process, so the same seed gave a different market in every run.
        random = new Random(unchecked((seed * 486_187_739) + StableHash(spec.Symbol)));

        // Events arrive at the sum of the rates: with none, the next one would never come and a replay of this market
        // would spin forever looking for it.
        if (this.options.CalmTradesPerSecond + this.options.AddsPerSecond + this.options.CancelsPerSecond <= 0
            || this.options.BurstTradesPerSecond + this.options.AddsPerSecond + this.options.CancelsPerSecond <= 0)
        {
            throw new ArgumentException("synthetic market: trades, adds and cancels per second can't all be zero (nothing would ever happen)", nameof(options));
        }
        now = startTime;
        var mid = (long)(spec.InitialPrice / spec.TickSize);
        fairTicks = mid;
        for (var i = 0; i < MinLevels + 5; i++)
        {
            bids[mid - 1 - i] = LevelQty();
            asks[mid + i] = LevelQty();
        }
    }

    public string Symbol => spec.Symbol;

    public long Time => now;

    /// <summary>The initial book as one snapshot event.</summary>
    public BookEvent Snapshot() => new(spec.Symbol, now, [.. bids.Select(kv => new BookLevel(Price(kv.Key), kv.Value))], [.. asks.Select(kv => new BookLevel(Price(kv.Key), kv.Value))]);

    /// <summary>Advances to the next arrival and returns what happened (a trade sweep gives trades then levels).</summary>
    public IReadOnlyList<MarketEvent> Next()
    {
        // Regime switch: calm most of the time, short bursts of intense trading.
        if (random.NextDouble() < (burst ? options.BurstEndProbability : options.BurstStartProbability))
        {
            burst = !burst;
        }

        var tradeRate = burst ? options.BurstTradesPerSecond : options.CalmTradesPerSecond;
        var totalRate = tradeRate + options.AddsPerSecond + options.CancelsPerSecond;
        var dt = -Math.Log(1.0 - random.NextDouble()) / totalRate;
        now += Math.Max(1, (long)Math.Round(dt * 1000));
        fairTicks += Gaussian() * options.VolatilityTicksPerSqrtSecond * Math.Sqrt(dt);

        var roll = random.NextDouble() * totalRate;
        var events = new List<MarketEvent>(4);
        var changes = new List<LevelChange>();
        if (roll < tradeRate)
        {
            Trade(events, changes);
        }
        else if (roll < tradeRate + options.AddsPerSecond)
        {
            Add(changes);
        }
        else
        {
            Cancel(changes);
        }

        Replenish(changes);
        if (changes.Count > 0)
        {
            events.Add(new LevelsEvent(spec.Symbol, now, changes));
        }

        return events;
    }

    private long BestBid => bids.Keys.First();
    private long BestAsk => asks.Keys.First();
    private double Mid => (BestBid + BestAsk) / 2.0;

    private void Trade(List<MarketEvent> events, List<LevelChange> changes)
    {
        // Takers lean towards the fair price: far above the mid, almost everyone buys.
        var pBuy = 1.0 / (1.0 + Math.Exp(-(fairTicks - Mid) * 1.5));
        var buy = random.NextDouble() < pBuy;
        var size = Lots(options.TradeSizeFraction);
        var book = buy ? asks : bids;
        while (size > 0m && book.Count > 0)
        {
            var (tick, qty) = book.First();
            var take = Math.Min(size, qty);
            size -= take;
            events.Add(new TradeEvent(spec.Symbol, now, Price(tick), take, BuyerIsMaker: !buy));
            if (take >= qty)
            {
                book.Remove(tick);
                changes.Add(new LevelChange(buy ? BookSide.Ask : BookSide.Bid, Price(tick), 0m));
            }
            else
            {
                book[tick] = qty - take;
                changes.Add(new LevelChange(buy ? BookSide.Ask : BookSide.Bid, Price(tick), qty - take));
            }
        }
    }

    private void Add(List<LevelChange> changes)
    {
        var bidSide = random.NextDouble() < 1.0 / (1.0 + Math.Exp(-(fairTicks - Mid) * 1.0));
        var spread = BestAsk - BestBid;
        long tick;
        if (spread > 1 && random.NextDouble() < 0.8)
        {
            // A wide spread is closed quickly: improve by one tick.
            tick = bidSide ? BestBid + 1 : BestAsk - 1;
        }
        else
        {
            var distance = Geometric(0.35);
            tick = bidSide ? BestBid - distance : BestAsk + distance;
        }

        var book = bidSide ? bids : asks;
        var qty = (book.TryGetValue(tick, out var q) ? q : 0m) + Lots(0.35);
        book[tick] = qty;
        changes.Add(new LevelChange(bidSide ? BookSide.Bid : BookSide.Ask, Price(tick), qty));
    }

    private void Cancel(List<LevelChange> changes)
    {
        // Liquidity on the side the fair price runs away from is pulled more often.
        var bidSide = random.NextDouble() < 1.0 / (1.0 + Math.Exp((fairTicks - Mid) * 1.0));
        var book = bidSide ? bids : asks;
        var index = Math.Min(Geometric(0.3), book.Count - 1);
        var (tick, qty) = book.ElementAt(index);
        var fraction = (decimal)(0.2 + (0.8 * random.NextDouble()));
        var left = RoundLots(qty * (1m - fraction));
        if (left <= 0m)
        {
            book.Remove(tick);
        }
        else
        {
            book[tick] = left;
        }

        changes.Add(new LevelChange(bidSide ? BookSide.Bid : BookSide.Ask, Price(tick), left));
    }

    /// <summary>Keeps both sides at least MinLevels deep and never empty.</summary>
    private void Replenish(List<LevelChange> changes)
    {
        if (bids.Count == 0)
        {
            var tick = asks.Count > 0 ? BestAsk - 1 : (long)Math.Round(fairTicks) - 1;
            bids[tick] = LevelQty();
            changes.Add(new LevelChange(BookSide.Bid, Price(tick), bids[tick]));
        }

        if (asks.Count == 0)
        {
            var tick = BestBid + 1;
            asks[tick] = LevelQty();
            changes.Add(new LevelChange(BookSide.Ask, Price(tick), asks[tick]));
        }

        while (bids.Count < MinLevels)
        {
            var tick = bids.Keys.Last() - 1 - Geometric(0.7);
            bids[tick] = LevelQty();
            changes.Add(new LevelChange(BookSide.Bid, Price(tick), bids[tick]));
        }

        while (asks.Count < MinLevels)
        {
            var tick = asks.Keys.Last() + 1 + Geometric(0.7);
            asks[tick] = LevelQty();
            changes.Add(new LevelChange(BookSide.Ask, Price(tick), asks[tick]));
        }

        // Far levels beyond twice the minimum are dropped so the book does not grow without bound.
        while (bids.Count > 3 * MinLevels)
        {
            var tick = bids.Keys.Last();
            bids.Remove(tick);
            changes.Add(new LevelChange(BookSide.Bid, Price(tick), 0m));
        }

        while (asks.Count > 3 * MinLevels)
        {
            var tick = asks.Keys.Last();
            asks.Remove(tick);
            changes.Add(new LevelChange(BookSide.Ask, Price(tick), 0m));
        }
    }

    private decimal Price(long tick) => tick * spec.TickSize;

    private decimal LevelQty() => Lots(1.0);

    /// <summary>A log-normal size around a fraction of a typical level, in whole steps, at least the minimum qty.</summary>
    private decimal Lots(double fractionOfLevel)
    {
        var x = Math.Exp(Gaussian() * 0.8 - 0.32) * fractionOfLevel * (double)spec.TypicalLevelQty;
        return Math.Max(spec.MinQty, RoundLots((decimal)x));
    }

    private decimal RoundLots(decimal qty) => Math.Floor(qty / spec.StepSize) * spec.StepSize;

    private int Geometric(double p)
    {
        var n = 0;
        while (random.NextDouble() > p && n < 50)
        {
            n++;
        }

        return n;
    }

    private double Gaussian()
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = (hash * 31) + c;
        }

        return hash;
    }
}

public sealed record SyntheticOptions
{
    public double CalmTradesPerSecond { get; init; } = 4;
    public double BurstTradesPerSecond { get; init; } = 25;
    public double BurstStartProbability { get; init; } = 0.01;
    public double BurstEndProbability { get; init; } = 0.05;
    public double AddsPerSecond { get; init; } = 12;
    public double CancelsPerSecond { get; init; } = 8;

    /// <summary>Mean taker size as a fraction of a typical level.</summary>
    public double TradeSizeFraction { get; init; } = 0.12;

    /// <summary>Standard deviation of the latent fair price over one second, in ticks.</summary>
    public double VolatilityTicksPerSqrtSecond { get; init; } = 1.2;
}

/// <summary>The default source: one synthetic market per symbol, merged in time order.</summary>
public sealed class SyntheticSource(IReadOnlyList<SymbolSpec> symbols, int seed, long startTime, SyntheticOptions? options = null) : IMarketSource
{
    public string Description => $"synthetic (seed {seed})";

    public IEnumerable<MarketEvent> Events()
    {
        var markets = symbols.Select(s => new SyntheticMarket(s, seed, startTime, options)).ToList();
        foreach (var m in markets)
        {
            yield return m.Snapshot();
        }

        var queue = new PriorityQueue<(SyntheticMarket Market, IReadOnlyList<MarketEvent> Events), (long Time, int Index)>();
        for (var i = 0; i < markets.Count; i++)
        {
            var next = markets[i].Next();
            queue.Enqueue((markets[i], next), (markets[i].Time, i));
        }

        while (queue.TryDequeue(out var item, out var key))
        {
            foreach (var e in item.Events)
            {
                yield return e;
            }

            var next = item.Market.Next();
            queue.Enqueue((item.Market, next), (item.Market.Time, key.Index));
        }
    }
}
