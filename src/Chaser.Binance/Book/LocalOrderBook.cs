using Chaser.Binance.Parsing;
using Chaser.Core.Market;

namespace Chaser.Binance.Book;

/// <summary>Where a local book stands in Binance's snapshot + diff synchronisation (API notes §6).</summary>
public enum DepthSyncState
{
    /// <summary>Diffs are buffered until a REST snapshot arrives.</summary>
    AwaitingSnapshot,

    /// <summary>Snapshot loaded; waiting for the diff whose range covers its lastUpdateId.</summary>
    AwaitingBridgingDiff,

    /// <summary>The chain is whole: the book is the exchange's.</summary>
    Synced,

    /// <summary>A diff was missed (pu ≠ previous u, or the snapshot is older than every diff): fetch a new snapshot.</summary>
    ResyncNeeded,
}

/// <summary>What happened to one diff.</summary>
public enum DiffOutcome
{
    /// <summary>Kept until the snapshot arrives.</summary>
    Buffered,

    /// <summary>Older than the snapshot (u &lt; lastUpdateId): dropped, as Binance documents.</summary>
    DroppedStale,

    Applied,

    /// <summary>The chain broke; the book is not trusted until <see cref="LocalOrderBook.ApplySnapshot"/> is called again.</summary>
    Gap,
}

/// <summary>
/// A local order book kept from <c>@depth</c> diffs, synchronised as Binance documents: buffer diffs, load a REST
/// snapshot, drop diffs with <c>u &lt; lastUpdateId</c>, the first applied diff must have
/// <c>U ≤ lastUpdateId ≤ u</c>, and every later diff's <c>pu</c> must equal the previous diff's <c>u</c>. Anything
/// else is a gap and the book asks for a new snapshot. Not thread-safe: one per symbol, fed by its stream's reader.
/// </summary>
public sealed class LocalOrderBook
{
    private readonly BookSide _bids = new(isBid: true);
    private readonly BookSide _asks = new(isBid: false);
    private readonly Queue<BufferedDiff> _buffer = new();
    private readonly int _maxBuffered;

    public LocalOrderBook(string symbol, int maxBufferedDiffs = 10_000)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBufferedDiffs);
        Symbol = symbol;
        _maxBuffered = maxBufferedDiffs;
    }

    public string Symbol { get; }

    public DepthSyncState State { get; private set; } = DepthSyncState.AwaitingSnapshot;

    /// <summary>The update id the book reflects: the snapshot's lastUpdateId, then each applied diff's <c>u</c>.</summary>
    public long LastUpdateId { get; private set; }

    /// <summary>Exchange (transaction) time of the last applied update, in Unix ms.</summary>
    public long LastTransactionTimeMs { get; private set; }

    public int BufferedCount => _buffer.Count;

    /// <summary>Why the last gap was reported (for logs); null while the chain is whole.</summary>
    public string? GapReason { get; private set; }

    public bool IsSynced => State == DepthSyncState.Synced;

    public DiffOutcome OnDiff(DepthDiff diff)
    {
        ArgumentNullException.ThrowIfNull(diff);
        switch (State)
        {
            case DepthSyncState.AwaitingSnapshot:
            case DepthSyncState.ResyncNeeded:
                Buffer(diff);
                return DiffOutcome.Buffered;
            case DepthSyncState.AwaitingBridgingDiff:
                return Bridge(diff.FirstUpdateId, diff.FinalUpdateId, diff.PreviousFinalUpdateId, diff.TransactionTimeMs, diff.Bids, diff.Asks);
            default:
                return Continue(diff.FirstUpdateId, diff.FinalUpdateId, diff.PreviousFinalUpdateId, diff.TransactionTimeMs, diff.Bids, diff.Asks);
        }
    }

    /// <summary>
    /// Loads a snapshot and replays the buffered diffs onto it. The result is <see cref="DepthSyncState.Synced"/>,
    /// <see cref="DepthSyncState.AwaitingBridgingDiff"/> (no buffered diff reaches the snapshot yet) or
    /// <see cref="DepthSyncState.ResyncNeeded"/> (the snapshot is older than the buffered diffs: fetch another).
    /// </summary>
    public DepthSyncState ApplySnapshot(DepthSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _bids.Clear();
        _asks.Clear();
        foreach (var level in snapshot.Bids)
        {
            _bids.Set(level.Price, level.Quantity);
        }

        foreach (var level in snapshot.Asks)
        {
            _asks.Set(level.Price, level.Quantity);
        }

        LastUpdateId = snapshot.LastUpdateId;
        LastTransactionTimeMs = snapshot.TransactionTimeMs;
        GapReason = null;
        State = DepthSyncState.AwaitingBridgingDiff;
        while (_buffer.Count > 0 && State is DepthSyncState.AwaitingBridgingDiff or DepthSyncState.Synced)
        {
            var d = _buffer.Dequeue();
            var outcome = State == DepthSyncState.Synced
                ? Continue(d.First, d.Final, d.PreviousFinal, d.TransactionTimeMs, d.Bids, d.Asks)
                : Bridge(d.First, d.Final, d.PreviousFinal, d.TransactionTimeMs, d.Bids, d.Asks);
            if (outcome == DiffOutcome.Gap)
            {
                // Keep what is left: a fresher snapshot may bridge onto it.
                break;
            }
        }

        return State;
    }

    public bool TryGetBestBid(out PriceLevel level) => _bids.TryGetBest(out level);

    public bool TryGetBestAsk(out PriceLevel level) => _asks.TryGetBest(out level);

    /// <summary>The top of the book in Core's form; false until synced or while a side is empty.</summary>
    public bool TryGetTop(out BookTop top)
    {
        if (State == DepthSyncState.Synced && _bids.TryGetBest(out var bid) && _asks.TryGetBest(out var ask))
        {
            top = new BookTop(bid.Price, bid.Quantity, ask.Price, ask.Quantity, LastUpdateId,
                DateTimeOffset.FromUnixTimeMilliseconds(LastTransactionTimeMs));
            return true;
        }

        top = default;
        return false;
    }

    /// <summary>The best <paramref name="levels"/> of each side (bids descending, asks ascending) for Core's depth view.</summary>
    public DepthLevels Levels(int levels) =>
        new(_bids.Top(levels), _asks.Top(levels), LastUpdateId, DateTimeOffset.FromUnixTimeMilliseconds(LastTransactionTimeMs));

    public int BidLevelCount => _bids.Count;

    public int AskLevelCount => _asks.Count;

    private DiffOutcome Bridge(long first, long final, long previousFinal, long time, IReadOnlyList<PriceLevel> bids, IReadOnlyList<PriceLevel> asks)
    {
        if (final < LastUpdateId)
        {
            return DiffOutcome.DroppedStale;
        }

        if (first > LastUpdateId)
        {
            return ReportGap($"first diff after the snapshot starts at U={first}, beyond lastUpdateId={LastUpdateId}");
        }

        Apply(final, time, bids, asks);
        State = DepthSyncState.Synced;
        return DiffOutcome.Applied;
    }

    private DiffOutcome Continue(long first, long final, long previousFinal, long time, IReadOnlyList<PriceLevel> bids, IReadOnlyList<PriceLevel> asks)
    {
        if (final <= LastUpdateId)
        {
            // Already applied: the same diff a second time (a connection and its replacement both carried it).
            return DiffOutcome.DroppedStale;
        }

        if (previousFinal != LastUpdateId)
        {
            return ReportGap($"diff U={first} u={final} has pu={previousFinal}, expected {LastUpdateId}");
        }

        Apply(final, time, bids, asks);
        return DiffOutcome.Applied;
    }

    private void Apply(long final, long time, IReadOnlyList<PriceLevel> bids, IReadOnlyList<PriceLevel> asks)
    {
        for (var i = 0; i < bids.Count; i++)
        {
            _bids.Set(bids[i].Price, bids[i].Quantity);
        }

        for (var i = 0; i < asks.Count; i++)
        {
            _asks.Set(asks[i].Price, asks[i].Quantity);
        }

        LastUpdateId = final;
        LastTransactionTimeMs = time;
    }

    private DiffOutcome ReportGap(string reason)
    {
        State = DepthSyncState.ResyncNeeded;
        GapReason = reason;
        return DiffOutcome.Gap;
    }

    private void Buffer(DepthDiff diff)
    {
        if (_buffer.Count == _maxBuffered)
        {
            // The oldest diffs are the least likely to be needed: a snapshot taken now is newer than them.
            _buffer.Dequeue();
        }

        _buffer.Enqueue(new BufferedDiff(
            diff.FirstUpdateId, diff.FinalUpdateId, diff.PreviousFinalUpdateId, diff.TransactionTimeMs, [.. diff.Bids], [.. diff.Asks]));
    }

    private sealed record BufferedDiff(long First, long Final, long PreviousFinal, long TransactionTimeMs, PriceLevel[] Bids, PriceLevel[] Asks);
}
