using System.Globalization;
using System.IO.Compression;
using Chaser.Binance.Book;
using Chaser.Binance.Parsing;
using Chaser.Core.Market;
using Chaser.Tests.Shared;

namespace Chaser.Binance.Tests;

/// <summary>
/// Replays real recorded Binance data (data/binance/um in the repository): the REST snapshot and the @depth@0ms diffs through
/// <see cref="LocalOrderBook"/>. Checks that the pu chain stays whole, and compares the book's top with the
/// bookTicker stream. Alignment is by update id, not by clock: after applying the diff whose final id is u, the book
/// must equal the bookTicker row with the largest update_id ≤ u (prices and quantities of both sides). bookTicker
/// and depth share the order book's update-id sequence, so this is exact; exchange times are used only to order rows.
/// Diffs received before the snapshot (by the recorder's local_ts) are fed first, so buffering is exercised too.
/// </summary>
public sealed class RecordedDepthReplayTests
{
    [Theory]
    [InlineData("BTCUSDT-UM-20230404T2358Z")]
    [InlineData("BTCUSDT-UM-20240718T2357Z")]
    [InlineData("ETHUSDT-UM-20240718T2357Z")]
    public void Replay_keeps_the_chain_whole_and_matches_book_ticker(string window)
    {
        var directory = RecordedData.Directory;
        var snapshotRows = ReadCsv(Path.Combine(directory, $"{window}-depthSnapshot.csv.gz"));
        var snapshotLocalTs = long.Parse(snapshotRows[0][0], CultureInfo.InvariantCulture);
        var snapshot = new DepthSnapshot(
            long.Parse(snapshotRows[0][1], CultureInfo.InvariantCulture),
            long.Parse(snapshotRows[0][2], CultureInfo.InvariantCulture),
            long.Parse(snapshotRows[0][3], CultureInfo.InvariantCulture),
            [.. snapshotRows.Where(r => r[4] == "bid").Select(r => new PriceLevel(Dec(r[5]), Dec(r[6])))],
            [.. snapshotRows.Where(r => r[4] == "ask").Select(r => new PriceLevel(Dec(r[5]), Dec(r[6])))]);

        var tickers = ReadCsv(Path.Combine(directory, $"{window}-bookTicker.csv.gz"))
            .Select(r => (Id: long.Parse(r[0], CultureInfo.InvariantCulture), Bid: Dec(r[1]), BidQty: Dec(r[2]), Ask: Dec(r[3]), AskQty: Dec(r[4])))
            .ToArray();
        var tickerIds = tickers.Select(t => t.Id).ToArray();

        var book = new LocalOrderBook(window[..7]);
        var snapshotApplied = false;
        int applied = 0, dropped = 0, compared = 0;
        var diffs = GroupDiffs(ReadCsv(Path.Combine(directory, $"{window}-depthUpdates.csv.gz")));
        var mismatches = new List<string>();
        for (var index = 0; index < diffs.Count; index++)
        {
            var (localTs, diff) = diffs[index];
            if (!snapshotApplied && localTs >= snapshotLocalTs)
            {
                var state = book.ApplySnapshot(snapshot);
                Assert.NotEqual(DepthSyncState.ResyncNeeded, state);
                snapshotApplied = true;
            }

            var outcome = book.OnDiff(diff);
            Assert.True(outcome != DiffOutcome.Gap, book.GapReason);
            applied += outcome == DiffOutcome.Applied ? 1 : 0;
            dropped += outcome == DiffOutcome.DroppedStale ? 1 : 0;

            // Compare after every diff once synced (every diff of the window, not a sample).
            if (book.TryGetTop(out var top))
            {
                var at = Array.BinarySearch(tickerIds, book.LastUpdateId);
                at = at >= 0 ? at : ~at - 1;
                if (at >= 0)
                {
                    var t = tickers[at];
                    compared++;
                    if ((top.Bid, top.BidQty, top.Ask, top.AskQty) != (t.Bid, t.BidQty, t.Ask, t.AskQty))
                    {
                        mismatches.Add($"u={book.LastUpdateId} book {top.Bid}x{top.BidQty} / {top.Ask}x{top.AskQty} vs bookTicker #{t.Id} {t.Bid}x{t.BidQty} / {t.Ask}x{t.AskQty}");
                    }
                }
            }
        }

        Assert.True(book.IsSynced);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches, first: {string.Join("; ", mismatches.Take(5))}");
        Assert.True(applied > 8000, $"only {applied} diffs applied");
        Assert.True(compared >= applied - 5, $"compared {compared} of {applied}");
        Assert.True(dropped <= 5);
    }

    private static List<(long LocalTs, DepthDiff Diff)> GroupDiffs(List<string[]> rows)
    {
        var diffs = new List<(long, DepthDiff)>();
        DepthDiff? current = null;
        foreach (var r in rows)
        {
            var final = long.Parse(r[4], CultureInfo.InvariantCulture);
            if (current is null || current.FinalUpdateId != final)
            {
                current = new DepthDiff
                {
                    EventTimeMs = long.Parse(r[1], CultureInfo.InvariantCulture),
                    TransactionTimeMs = long.Parse(r[2], CultureInfo.InvariantCulture),
                    FirstUpdateId = long.Parse(r[3], CultureInfo.InvariantCulture),
                    FinalUpdateId = final,
                    PreviousFinalUpdateId = long.Parse(r[5], CultureInfo.InvariantCulture),
                };
                diffs.Add((long.Parse(r[0], CultureInfo.InvariantCulture), current));
            }

            (r[6] == "bid" ? current.Bids : current.Asks).Add(new PriceLevel(Dec(r[7]), Dec(r[8])));
        }

        return diffs;
    }

    private static decimal Dec(string text) => decimal.Parse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    private static List<string[]> ReadCsv(string path)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(stream);
        var rows = new List<string[]>();
        reader.ReadLine();
        while (reader.ReadLine() is { } line)
        {
            rows.Add(line.Split(','));
        }

        return rows;
    }
}
