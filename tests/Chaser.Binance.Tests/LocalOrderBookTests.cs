using Chaser.Binance.Book;
using Chaser.Binance.Parsing;
using Chaser.Core.Market;

namespace Chaser.Binance.Tests;

public sealed class LocalOrderBookTests
{
    private static DepthSnapshot Snapshot(long lastUpdateId) =>
        new(lastUpdateId, 1000, 999,
            [new PriceLevel(100.0m, 1m), new PriceLevel(99.9m, 2m), new PriceLevel(99.8m, 3m)],
            [new PriceLevel(100.1m, 1m), new PriceLevel(100.2m, 2m)]);

    private static DepthDiff Diff(long first, long final, long previousFinal, PriceLevel[]? bids = null, PriceLevel[]? asks = null)
    {
        var diff = new DepthDiff { Symbol = "BTCUSDT", FirstUpdateId = first, FinalUpdateId = final, PreviousFinalUpdateId = previousFinal, TransactionTimeMs = final };
        diff.Bids.AddRange(bids ?? []);
        diff.Asks.AddRange(asks ?? []);
        return diff;
    }

    [Fact]
    public void Buffers_until_snapshot_then_drops_stale_and_bridges()
    {
        var book = new LocalOrderBook("BTCUSDT");

        Assert.Equal(DiffOutcome.Buffered, book.OnDiff(Diff(90, 95, 89, bids: [new PriceLevel(100.0m, 50m)])));
        Assert.Equal(DiffOutcome.Buffered, book.OnDiff(Diff(96, 105, 95, bids: [new PriceLevel(100.0m, 7m)])));
        Assert.Equal(DiffOutcome.Buffered, book.OnDiff(Diff(106, 110, 105, asks: [new PriceLevel(100.1m, 0m)])));
        Assert.False(book.TryGetTop(out _));

        Assert.Equal(DepthSyncState.Synced, book.ApplySnapshot(Snapshot(100)));

        Assert.Equal(110, book.LastUpdateId);
        Assert.True(book.TryGetTop(out var top));
        // The stale diff (u=95 < 100) was dropped: its quantity 50 never shows; the bridging diff's 7 does.
        Assert.Equal((100.0m, 7m, 100.2m, 2m), (top.Bid, top.BidQty, top.Ask, top.AskQty));
        Assert.Equal(0, book.BufferedCount);
    }

    [Fact]
    public void Snapshot_before_any_covering_diff_waits_for_the_bridging_diff()
    {
        var book = new LocalOrderBook("BTCUSDT");

        Assert.Equal(DepthSyncState.AwaitingBridgingDiff, book.ApplySnapshot(Snapshot(100)));
        Assert.Equal(DiffOutcome.DroppedStale, book.OnDiff(Diff(95, 99, 94)));
        Assert.Equal(DiffOutcome.Applied, book.OnDiff(Diff(100, 103, 99, bids: [new PriceLevel(100.05m, 1m)])));

        Assert.True(book.TryGetBestBid(out var bid));
        Assert.Equal(100.05m, bid.Price);
        Assert.True(book.IsSynced);
    }

    [Fact]
    public void Snapshot_older_than_every_diff_needs_a_new_snapshot()
    {
        var book = new LocalOrderBook("BTCUSDT");
        book.OnDiff(Diff(120, 130, 119));

        Assert.Equal(DepthSyncState.ResyncNeeded, book.ApplySnapshot(Snapshot(100)));

        Assert.Contains("U=120", book.GapReason, StringComparison.Ordinal);
        Assert.False(book.TryGetTop(out _));
    }

    [Fact]
    public void A_diff_delivered_twice_is_dropped_not_taken_for_a_gap()
    {
        // A connection and its planned replacement overlap, so both may carry the same diff.
        var book = new LocalOrderBook("BTCUSDT");
        book.ApplySnapshot(Snapshot(100));
        Assert.Equal(DiffOutcome.Applied, book.OnDiff(Diff(98, 102, 97)));
        Assert.Equal(DiffOutcome.Applied, book.OnDiff(Diff(103, 104, 102, bids: [new PriceLevel(100.0m, 9m)])));

        Assert.Equal(DiffOutcome.DroppedStale, book.OnDiff(Diff(103, 104, 102, bids: [new PriceLevel(100.0m, 9m)])));
        Assert.Equal(DiffOutcome.DroppedStale, book.OnDiff(Diff(98, 102, 97, bids: [new PriceLevel(100.0m, 1m)])));

        Assert.True(book.IsSynced);
        Assert.Equal(DiffOutcome.Applied, book.OnDiff(Diff(105, 106, 104)));
        Assert.True(book.TryGetBestBid(out var bid));
        Assert.Equal((100.0m, 9m), (bid.Price, bid.Quantity));
    }

    [Fact]
    public void A_broken_pu_chain_is_a_gap_and_a_new_snapshot_recovers()
    {
        var book = new LocalOrderBook("BTCUSDT");
        book.ApplySnapshot(Snapshot(100));
        Assert.Equal(DiffOutcome.Applied, book.OnDiff(Diff(98, 102, 97)));
        Assert.Equal(DiffOutcome.Applied, book.OnDiff(Diff(103, 104, 102)));

        Assert.Equal(DiffOutcome.Gap, book.OnDiff(Diff(107, 108, 106)));
        Assert.Equal(DepthSyncState.ResyncNeeded, book.State);
        Assert.False(book.TryGetTop(out _));
        Assert.Equal(DiffOutcome.Buffered, book.OnDiff(Diff(109, 112, 108)));

        Assert.Equal(DepthSyncState.Synced, book.ApplySnapshot(Snapshot(110)));
        Assert.Equal(112, book.LastUpdateId);
    }

    [Fact]
    public void Levels_are_kept_sorted_and_zero_removes()
    {
        var book = new LocalOrderBook("BTCUSDT");
        book.ApplySnapshot(Snapshot(100));
        book.OnDiff(Diff(100, 101, 99,
            bids: [new PriceLevel(100.0m, 0m), new PriceLevel(99.85m, 4m), new PriceLevel(50m, 0m)],
            asks: [new PriceLevel(100.15m, 5m), new PriceLevel(100.1m, 0m)]));

        var levels = book.Levels(10);

        Assert.Equal([99.9m, 99.85m, 99.8m], levels.Bids.Select(l => l.Price));
        Assert.Equal([100.15m, 100.2m], levels.Asks.Select(l => l.Price));
        Assert.Equal(4m, levels.Bids[1].Quantity);
    }

    [Fact]
    public void Buffer_is_bounded()
    {
        var book = new LocalOrderBook("BTCUSDT", maxBufferedDiffs: 3);
        for (var i = 1; i <= 5; i++)
        {
            book.OnDiff(Diff(i * 10, (i * 10) + 9, (i * 10) - 1));
        }

        Assert.Equal(3, book.BufferedCount);
        // The kept diffs start at U=30; a snapshot at 35 bridges onto them.
        Assert.Equal(DepthSyncState.Synced, book.ApplySnapshot(Snapshot(35)));
        Assert.Equal(59, book.LastUpdateId);
    }
}
