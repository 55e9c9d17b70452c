using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Sources;

/// <summary>Something other participants did, stamped with the source's own clock (ms).</summary>
public abstract record MarketEvent(string Symbol, long Time)
{
    /// <summary>The order-book update id of a recorded book event (0 when unknown): orders book events of one millisecond.</summary>
    public long UpdateId { get; init; }

    public abstract void ApplyTo(ExchangeEngine engine);
}

public sealed record LevelsEvent(string Symbol, long Time, IReadOnlyList<LevelChange> Changes) : MarketEvent(Symbol, Time)
{
    public override void ApplyTo(ExchangeEngine engine) => engine.ApplyLevels(Symbol, Changes is LevelChange[] a ? a : [.. Changes]);
}

public sealed record TradeEvent(string Symbol, long Time, decimal Price, decimal Qty, bool BuyerIsMaker) : MarketEvent(Symbol, Time)
{
    public override void ApplyTo(ExchangeEngine engine) => engine.ApplyTrade(Symbol, Price, Qty, BuyerIsMaker);
}

/// <summary>A whole book: a depth snapshot, or a bookTicker row (one level per side).</summary>
public sealed record BookEvent(string Symbol, long Time, IReadOnlyList<BookLevel> Bids, IReadOnlyList<BookLevel> Asks) : MarketEvent(Symbol, Time)
{
    public override void ApplyTo(ExchangeEngine engine) => engine.ReplaceBook(Symbol, Bids, Asks);
}

/// <summary>A bookTicker row replayed over a depth book: the best level each side, with its size.</summary>
public sealed record TopOfBookEvent(string Symbol, long Time, BookLevel Bid, BookLevel Ask) : MarketEvent(Symbol, Time)
{
    public override void ApplyTo(ExchangeEngine engine) => engine.ApplyTopOfBook(Symbol, Bid, Ask);
}

/// <summary>A time-ordered stream of market events (all symbols merged).</summary>
public interface IMarketSource
{
    /// <summary>Human-readable description for logs and the CLI banner.</summary>
    string Description { get; }

    IEnumerable<MarketEvent> Events();
}
