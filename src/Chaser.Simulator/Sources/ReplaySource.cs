using System.Globalization;
using System.IO.Compression;
using Chaser.Core.Domain;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;

namespace Chaser.Simulator.Sources;

/// <summary>
/// Replays Binance public-data CSV files (gzip or plain, with or without the header row): bookTicker, trades or
/// aggTrades, and optionally a depth snapshot plus depth updates. With depth, the book (and so the queue ahead
/// of our orders) is the real displayed book; with bookTicker alone the book is just the best level each side.
/// Events are merged by exchange time; on equal times trades go first so their volume is already taken out of
/// our queue when the matching depth decrease arrives.
/// </summary>
public sealed class ReplaySource : IMarketSource
{
    private readonly ReplayFiles files;
    private readonly bool loop;

    private ReplaySource(ReplayFiles files, bool loop)
    {
        this.files = files;
        this.loop = loop;
    }

    public string Description => $"replay of {files.Symbol} ({string.Join(", ", new[] { files.BookTicker, files.Trades, files.DepthSnapshot, files.DepthUpdates }.Where(f => f is not null).Select(Path.GetFileName))}){(loop ? ", looping" : string.Empty)}";

    public static ReplaySource Create(ReplayFiles files, bool loop)
    {
        if (files.BookTicker is null && files.DepthUpdates is null && files.DepthSnapshot is null)
        {
            throw new ArgumentException("Replay needs a bookTicker file or depth files", nameof(files));
        }

        if ((files.DepthSnapshot is null) != (files.DepthUpdates is null))
        {
            throw new ArgumentException("Depth replay needs both the depth snapshot and the depth updates", nameof(files));
        }

        foreach (var f in new[] { files.BookTicker, files.Trades, files.DepthSnapshot, files.DepthUpdates })
        {
            if (f is not null && !File.Exists(f))
            {
                throw new FileNotFoundException($"Replay file not found: {f}", f);
            }
        }

        return new ReplaySource(files, loop);
    }

    public IEnumerable<MarketEvent> Events()
    {
        long offset = 0;
        while (true)
        {
            long first = -1;
            long last = 0;
            foreach (var e in OnePass())
            {
                first = first < 0 ? e.Time : first;
                last = e.Time;
                yield return offset == 0 ? e : Shift(e, offset);
            }

            if (!loop || first < 0)
            {
                yield break;
            }

            offset += last - first + 1;
        }
    }

    private static MarketEvent Shift(MarketEvent e, long offset) => e switch
    {
        LevelsEvent l => l with { Time = l.Time + offset },
        TradeEvent t => t with { Time = t.Time + offset },
        BookEvent b => b with { Time = b.Time + offset },
        _ => e,
    };

    private IEnumerable<MarketEvent> OnePass()
    {
        var inputs = new List<IEnumerator<MarketEvent>>();
        try
        {
            if (files.DepthSnapshot is not null && files.DepthUpdates is not null)
            {
                inputs.Add(Depth(files.Symbol, files.DepthSnapshot, files.DepthUpdates).GetEnumerator());
            }
            else if (files.BookTicker is not null)
            {
                inputs.Add(BookTickers(files.Symbol, files.BookTicker).GetEnumerator());
            }

            if (files.Trades is not null)
            {
                inputs.Add(Trades(files.Symbol, files.Trades).GetEnumerator());
            }

            var queue = new PriorityQueue<IEnumerator<MarketEvent>, (long Time, int Rank)>();
            foreach (var input in inputs)
            {
                if (input.MoveNext())
                {
                    queue.Enqueue(input, Key(input.Current));
                }
            }

            while (queue.TryDequeue(out var input, out _))
            {
                yield return input.Current;
                if (input.MoveNext())
                {
                    queue.Enqueue(input, Key(input.Current));
                }
            }
        }
        finally
        {
            foreach (var input in inputs)
            {
                input.Dispose();
            }
        }
    }

    private static (long, int) Key(MarketEvent e) => (e.Time, e is TradeEvent ? 0 : 1);

    public static IEnumerable<MarketEvent> BookTickers(string symbol, string path)
    {
        foreach (var row in Csv.Read(path, ["update_id", "best_bid_price", "best_bid_qty", "best_ask_price", "best_ask_qty", "transaction_time", "event_time"]))
        {
            yield return new BookEvent(symbol, row.Long("transaction_time"),
                [new BookLevel(row.Decimal("best_bid_price"), row.Decimal("best_bid_qty"))],
                [new BookLevel(row.Decimal("best_ask_price"), row.Decimal("best_ask_qty"))]);
        }
    }

    /// <summary>Raw trades (id,price,qty,quote_qty,time,is_buyer_maker) or aggTrades (…,transact_time,…), by header.</summary>
    public static IEnumerable<MarketEvent> Trades(string symbol, string path)
    {
        var isAgg = Csv.Header(path) is { } header && header.Contains("agg_trade_id");
        var columns = isAgg
            ? new[] { "agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id", "transact_time", "is_buyer_maker" }
            : ["id", "price", "qty", "quote_qty", "time", "is_buyer_maker"];
        foreach (var row in Csv.Read(path, columns))
        {
            yield return new TradeEvent(symbol, row.Long(isAgg ? "transact_time" : "time"), row.Decimal("price"),
                row.Decimal(isAgg ? "quantity" : "qty"), row.Bool("is_buyer_maker"));
        }
    }

    /// <summary>The snapshot, then the diffs synced to it as Binance documents (drop u &lt; lastUpdateId).</summary>
    public static IEnumerable<MarketEvent> Depth(string symbol, string snapshotPath, string updatesPath)
    {
        var bids = new List<BookLevel>();
        var asks = new List<BookLevel>();
        long lastUpdateId = 0;
        long snapshotTime = 0;
        foreach (var row in Csv.Read(snapshotPath, ["local_ts", "last_update_id", "event_time", "transaction_time", "side", "price", "qty"]))
        {
            lastUpdateId = row.Long("last_update_id");
            snapshotTime = row.Long("transaction_time");
            (row.Text("side") == "bid" ? bids : asks).Add(new BookLevel(row.Decimal("price"), row.Decimal("qty")));
        }

        yield return new BookEvent(symbol, snapshotTime, bids, asks);

        List<LevelChange>? pending = null;
        long pendingId = -1;
        long pendingTime = 0;
        foreach (var row in Csv.Read(updatesPath, ["local_ts", "event_time", "transaction_time", "first_update_id", "final_update_id", "prev_final_update_id", "side", "price", "qty"]))
        {
            var final = row.Long("final_update_id");
            if (final < lastUpdateId)
            {
                continue;
            }

            if (final != pendingId)
            {
                if (pending is not null)
                {
                    yield return new LevelsEvent(symbol, Math.Max(pendingTime, snapshotTime), pending);
                }

                pending = [];
                pendingId = final;
                pendingTime = row.Long("transaction_time");
            }

            pending!.Add(new LevelChange(row.Text("side") == "bid" ? BookSide.Bid : BookSide.Ask, row.Decimal("price"), row.Decimal("qty")));
        }

        if (pending is not null)
        {
            yield return new LevelsEvent(symbol, Math.Max(pendingTime, snapshotTime), pending);
        }
    }

    /// <summary>Minimal CSV reader for Binance dumps: optional header (then columns are found by name).</summary>
    private static class Csv
    {
        public static StreamReader Open(string path)
        {
            var stream = File.OpenRead(path);
            var magic = new byte[2];
            var isGzip = stream.Read(magic, 0, 2) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            stream.Position = 0;
            return new StreamReader(isGzip ? new GZipStream(stream, CompressionMode.Decompress) : stream);
        }

        public static string[]? Header(string path)
        {
            using var reader = Open(path);
            var line = reader.ReadLine();
            return line is not null && line.Length > 0 && char.IsLetter(line[0]) ? line.Split(',') : null;
        }

        public static IEnumerable<Row> Read(string path, string[] defaultColumns)
        {
            using var reader = Open(path);
            var index = defaultColumns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
            var firstLine = true;
            long lineNumber = 0;
            while (reader.ReadLine() is { } line)
            {
                lineNumber++;
                if (line.Length == 0)
                {
                    continue;
                }

                var cells = line.Split(',');
                if (firstLine)
                {
                    firstLine = false;
                    if (char.IsLetter(line[0]))
                    {
                        index = cells.Select((c, i) => (c.Trim(), i)).ToDictionary(x => x.Item1, x => x.i, StringComparer.Ordinal);
                        continue;
                    }
                }

                yield return new Row(cells, index, path, lineNumber);
            }
        }
    }

    /// <summary>One CSV line; a bad or missing cell is an <see cref="InvalidDataException"/> naming the file, line and column.</summary>
    private readonly record struct Row(string[] Cells, Dictionary<string, int> Index, string Path, long Line)
    {
        public string Text(string column) =>
            Index.TryGetValue(column, out var i) && i < Cells.Length ? Cells[i] : throw Bad(column, "is missing");

        public long Long(string column)
        {
            var text = Text(column);
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw Bad(column, $"'{Shown(text)}' is not a whole number");
        }

        public decimal Decimal(string column)
        {
            var text = Text(column);
            return DecimalText.TryParse(text, out var value, out var reason) ? value : throw Bad(column, $"'{Shown(text)}' {reason}");
        }

        public bool Bool(string column)
        {
            var text = Text(column);
            return bool.TryParse(text, out var value) ? value : throw Bad(column, $"'{Shown(text)}' is not true or false");
        }

        private static string Shown(string text) => text.Length <= 40 ? text : text[..40] + "…";

        private InvalidDataException Bad(string column, string problem) => new($"{Path} line {Line}, column '{column}': {problem}");
    }
}
