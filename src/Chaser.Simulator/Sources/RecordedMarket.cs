using System.Collections.Immutable;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;

namespace Chaser.Simulator.Sources;

/// <summary>
/// One recording held in memory: every market event of one pass over its files, merged once, and the span of the data.
/// Immutable, so any number of backtests may replay it at once from any thread; parsing the gzip CSVs (half a second
/// for a recording of eight minutes) is then paid once per recording rather than once per backtest.
/// </summary>
public sealed class RecordedMarket : IMarketSource
{
    private RecordedMarket(ReplayFiles files, ImmutableArray<MarketEvent> events, long bookStart, long end)
    {
        Files = files;
        Events = events;
        BookStart = bookStart;
        End = end;
    }

    /// <summary>The files it was read from.</summary>
    public ReplayFiles Files { get; }

    public string Symbol => Files.Symbol;

    /// <summary>The events in replay order (exchange time; trades before book events of the same millisecond).</summary>
    public ImmutableArray<MarketEvent> Events { get; }

    /// <summary>Exchange time (ms) from which the book is known: the depth snapshot's, else the first bookTicker row's.</summary>
    public long BookStart { get; }

    /// <summary>Exchange time (ms) of the last event.</summary>
    public long End { get; }

    public string Description => $"{Events.Length:N0} recorded events of {Symbol} in memory";

    /// <summary>
    /// Reads and merges the files once. Every problem <see cref="ReplaySource"/> refuses is refused here, now, with the
    /// same message (a damaged cell anywhere in the files included, since every row is read).
    /// </summary>
    public static RecordedMarket Load(ReplayFiles files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        var source = ReplaySource.Create(files, loop: false);
        var events = ImmutableArray.CreateBuilder<MarketEvent>();
        foreach (var e in source.Events())
        {
            if ((events.Count & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            // A depth diff's changes as an array: the engine applies an array as it is, anything else it copies first.
            events.Add(e is LevelsEvent { Changes: not LevelChange[] } levels ? levels with { Changes = [.. levels.Changes] } : e);
        }

        return new RecordedMarket(files, events.ToImmutable(), source.BookStart, source.End);
    }

    IEnumerable<MarketEvent> IMarketSource.Events() => Events;
}
