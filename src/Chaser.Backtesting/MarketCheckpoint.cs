using System.Globalization;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Sources;

namespace Chaser.Backtesting;

/// <summary>
/// The exchange as it stands at one start of a recording with no order of ours yet: the matching engine after every
/// event up to the start. A backtest given it (<see cref="BacktestOptions.Checkpoint"/>) forks that engine instead of
/// replaying the data before its start again, and goes on exactly as it would have: before the start nothing of ours
/// exists, so the engine's state there is the market's alone. Many runs may fork one checkpoint at once.
/// </summary>
public sealed class MarketCheckpoint
{
    private readonly ExchangeEngine _engine;

    private MarketCheckpoint(RecordedMarket market, DateTimeOffset start, SymbolSpec symbol, QueueModel queueModel, ExchangeEngine engine, int eventsApplied, DateTimeOffset time)
    {
        Market = market;
        Start = start;
        Symbol = symbol;
        QueueModel = queueModel;
        _engine = engine;
        EventsApplied = eventsApplied;
        Time = time;
    }

    public RecordedMarket Market { get; }

    public DateTimeOffset Start { get; }

    public SymbolSpec Symbol { get; }

    public QueueModel QueueModel { get; }

    /// <summary>Market events applied: every one at or before <see cref="Start"/>.</summary>
    public int EventsApplied { get; }

    /// <summary>The exchange's clock then: the last applied event's time (the data's first when none was).</summary>
    public DateTimeOffset Time { get; }

    /// <summary>
    /// A checkpoint at each of <paramref name="starts"/> (in time order), in one pass over the data, each made as it is
    /// asked for: a long series holds in memory only the checkpoints its caller keeps.
    /// </summary>
    public static IEnumerable<MarketCheckpoint> Series(RecordedMarket market, IReadOnlyList<DateTimeOffset> starts, SymbolSpec symbol, QueueModel queueModel, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(market);
        ArgumentNullException.ThrowIfNull(starts);
        ArgumentNullException.ThrowIfNull(symbol);
        if (market.Events.IsEmpty)
        {
            throw new ArgumentException("data: the replay files hold no market events", nameof(market));
        }

        var (bookStart, end) = (DateTimeOffset.FromUnixTimeMilliseconds(market.BookStart), DateTimeOffset.FromUnixTimeMilliseconds(market.End));
        for (var i = 0; i < starts.Count; i++)
        {
            if (i > 0 && starts[i] < starts[i - 1])
            {
                throw new ArgumentException("starts: must be in time order", nameof(starts));
            }

            if (starts[i] < bookStart || starts[i] > end)
            {
                throw new ReplayStartException(string.Create(CultureInfo.InvariantCulture,
                    $"{starts[i]:yyyy-MM-dd HH:mm:ss.fff'Z'} is outside the data, which holds the book from {bookStart:yyyy-MM-dd HH:mm:ss.fff'Z'} to {end:yyyy-MM-dd HH:mm:ss.fff'Z'}"));
            }
        }

        return OnePass(market, starts, symbol, queueModel, cancellationToken);
    }

    private static IEnumerable<MarketCheckpoint> OnePass(RecordedMarket market, IReadOnlyList<DateTimeOffset> starts, SymbolSpec symbol, QueueModel queueModel, CancellationToken cancellationToken)
    {
        // The engine a backtest makes (Backtester.Replay.Execute), on a clock at the data's first event.
        var clock = new VirtualClock(DateTimeOffset.FromUnixTimeMilliseconds(market.Events[0].Time));
        var engine = new ExchangeEngine(new EngineOptions { Symbols = [symbol], QueueModel = queueModel }, clock);
        var next = 0;
        foreach (var start in starts)
        {
            // As the backtest's own loop does before its start: every event at or before it, each at its time.
            while (next < market.Events.Length && DateTimeOffset.FromUnixTimeMilliseconds(market.Events[next].Time) <= start)
            {
                if ((next & 0xFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                var e = market.Events[next++];
                clock.AdvanceTo(DateTimeOffset.FromUnixTimeMilliseconds(e.Time));
                e.ApplyTo(engine);
            }

            yield return new MarketCheckpoint(market, start, symbol, queueModel, engine.ForkMarkets(new VirtualClock(clock.GetUtcNow())), next, clock.GetUtcNow());
        }
    }

    /// <summary>A new engine on <paramref name="clock"/> holding the market as it stood at the start.</summary>
    internal ExchangeEngine Fork(TimeProvider clock) => _engine.ForkMarkets(clock);
}
