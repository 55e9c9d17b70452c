using System.Globalization;
using System.IO.Compression;
using Chaser.Core.Domain;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;

namespace Chaser.Simulator.Sources;

/// <summary>
/// Replays Binance public-data CSV files (gzip or plain, with or without the header row): bookTicker, trades or
/// aggTrades, and optionally a depth snapshot plus depth updates. With depth, the book (and so the queue ahead
/// of our orders) is the real displayed book, and the bookTicker rows, when given, set its top (best price and size
/// each side); with bookTicker alone the book is just the best level each side. Events are merged by exchange time;
/// on equal times trades go first so their volume is already taken out of our queue when the matching depth
/// decrease arrives, and book events follow their order-book update ids.
/// </summary>
public sealed class ReplaySource : IMarketSource
{
    private readonly ReplayFiles files;
    private readonly bool loop;

    private ReplaySource(ReplayFiles files, bool loop, long bookStart, long end)
    {
        this.files = files;
        this.loop = loop;
        BookStart = bookStart;
        End = end;
    }

    /// <summary>Exchange time (ms) from which the replay knows the book: the depth snapshot's, else the first bookTicker row's.</summary>
    public long BookStart { get; }

    /// <summary>Exchange time (ms) of the last event of one pass over the files.</summary>
    public long End { get; }

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

        // Each file is read through once now, for its first and last exchange time, so a swapped, empty, foreign or
        // cut file, or a bookTicker of another time than the rest, is refused before anything starts; a damaged cell
        // further in surfaces as the replay reaches it.
        (long First, long Last)? depth = null;
        if (files.DepthSnapshot is not null && files.DepthUpdates is not null)
        {
            var snapshot = Csv.Span(files.DepthSnapshot, DepthSnapshotLayout, "transaction_time");
            var updates = Csv.Span(files.DepthUpdates, DepthUpdatesLayout, "transaction_time");
            depth = (snapshot.First, Math.Max(snapshot.First, updates.Last));
        }

        var book = files.BookTicker is null ? ((long First, long Last)?)null : Csv.Span(files.BookTicker, BookTickerLayout, "transaction_time");
        var tradesLayout = files.Trades is null ? null : TradesLayoutOf(files.Trades);
        var trades = files.Trades is null ? ((long First, long Last)?)null : Csv.Span(files.Trades, tradesLayout!, tradesLayout == AggTradesLayout ? "transact_time" : "time");
        if (book is { } quotes)
        {
            foreach (var (other, name) in new[] { (trades, tradesLayout?.Name), (depth, "depth updates") })
            {
                // A minute of slack: files recorded side by side start and end a few milliseconds apart.
                if (other is { } span && (quotes.Last + OverlapSlackMs < span.First || quotes.First > span.Last + OverlapSlackMs))
                {
                    throw new RecordedDataException(files.BookTicker!, RecordedFileKind.BookTicker, null, null,
                        $"its quotes ({Stamp(quotes.First)} to {Stamp(quotes.Last)}) do not overlap the {name} ({Stamp(span.First)} to {Stamp(span.Last)}), not even within a minute: a recording of another time");
                }
            }
        }

        var bookStart = depth?.First ?? book?.First ?? long.MaxValue;
        var end = new[] { depth?.Last, book?.Last, trades?.Last }.Max() ?? 0;
        return new ReplaySource(files, loop, bookStart, end);
    }

    private const long OverlapSlackMs = 60_000;

    private static string Stamp(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

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
                if (files.BookTicker is not null)
                {
                    inputs.Add(TopsOfBook(files.Symbol, files.BookTicker, SnapshotUpdateId(files.DepthSnapshot)).GetEnumerator());
                }
            }
            else if (files.BookTicker is not null)
            {
                inputs.Add(BookTickers(files.Symbol, files.BookTicker).GetEnumerator());
            }

            if (files.Trades is not null)
            {
                inputs.Add(Trades(files.Symbol, files.Trades).GetEnumerator());
            }

            var queue = new PriorityQueue<IEnumerator<MarketEvent>, (long Time, int Rank, long UpdateId)>();
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

    private static (long, int, long) Key(MarketEvent e) => (e.Time, e is TradeEvent ? 0 : 1, e.UpdateId);

    private static readonly CsvLayout BookTickerLayout = new(RecordedFileKind.BookTicker, "bookTicker", ["update_id", "best_bid_price", "best_bid_qty", "best_ask_price", "best_ask_qty", "transaction_time", "event_time"]);
    private static readonly CsvLayout TradesLayout = new(RecordedFileKind.Trades, "trades", ["id", "price", "qty", "quote_qty", "time", "is_buyer_maker"]);
    private static readonly CsvLayout AggTradesLayout = new(RecordedFileKind.AggTrades, "aggTrades", ["agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id", "transact_time", "is_buyer_maker"]);
    private static readonly CsvLayout DepthSnapshotLayout = new(RecordedFileKind.DepthSnapshot, "depth snapshot", ["local_ts", "last_update_id", "event_time", "transaction_time", "side", "price", "qty"]);
    private static readonly CsvLayout DepthUpdatesLayout = new(RecordedFileKind.DepthUpdates, "depth updates", ["local_ts", "event_time", "transaction_time", "first_update_id", "final_update_id", "prev_final_update_id", "side", "price", "qty"]);

    public static IEnumerable<MarketEvent> BookTickers(string symbol, string path)
    {
        foreach (var row in Csv.Read(path, BookTickerLayout))
        {
            yield return new BookEvent(symbol, row.Long("transaction_time"),
                [new BookLevel(row.Price("best_bid_price"), row.Quantity("best_bid_qty"))],
                [new BookLevel(row.Price("best_ask_price"), row.Quantity("best_ask_qty"))]);
        }
    }

    /// <summary>
    /// bookTicker rows as the top of a depth book; rows older than the snapshot (update id below its last one) are
    /// dropped as Binance's sync drops such diffs: the snapshot already holds what they said.
    /// </summary>
    public static IEnumerable<MarketEvent> TopsOfBook(string symbol, string path, long snapshotUpdateId)
    {
        foreach (var row in Csv.Read(path, BookTickerLayout))
        {
            var updateId = row.Long("update_id");
            if (updateId < snapshotUpdateId)
            {
                continue;
            }

            yield return new TopOfBookEvent(symbol, row.Long("transaction_time"),
                new BookLevel(row.Price("best_bid_price"), row.Quantity("best_bid_qty")),
                new BookLevel(row.Price("best_ask_price"), row.Quantity("best_ask_qty")))
            { UpdateId = updateId };
        }
    }

    private static long SnapshotUpdateId(string snapshotPath)
    {
        foreach (var row in Csv.Read(snapshotPath, DepthSnapshotLayout))
        {
            return row.Long("last_update_id");
        }

        return 0;
    }

    /// <summary>Raw trades (id,price,qty,quote_qty,time,is_buyer_maker) or aggTrades (…,transact_time,…), by header.</summary>
    public static IEnumerable<MarketEvent> Trades(string symbol, string path)
    {
        var layout = TradesLayoutOf(path);
        var isAgg = layout == AggTradesLayout;
        foreach (var row in Csv.Read(path, layout))
        {
            yield return new TradeEvent(symbol, row.Long(isAgg ? "transact_time" : "time"), row.Price("price"),
                row.Quantity(isAgg ? "quantity" : "qty"), row.Bool("is_buyer_maker"));
        }
    }

    /// <summary>aggTrades by its header, or, in a dump without one (Binance's older aggTrades files), by its seven columns.</summary>
    private static CsvLayout TradesLayoutOf(string path) => Csv.FirstLine(path, TradesLayout) is { Length: > 0 } line
        && (char.IsLetter(line[0]) ? line.Split(',').Contains("agg_trade_id") : line.Split(',').Length == AggTradesLayout.Columns.Length)
        ? AggTradesLayout
        : TradesLayout;

    /// <summary>The snapshot, then the diffs synced to it as Binance documents (drop u &lt; lastUpdateId).</summary>
    public static IEnumerable<MarketEvent> Depth(string symbol, string snapshotPath, string updatesPath)
    {
        var bids = new List<BookLevel>();
        var asks = new List<BookLevel>();
        long lastUpdateId = 0;
        long snapshotTime = 0;
        foreach (var row in Csv.Read(snapshotPath, DepthSnapshotLayout))
        {
            lastUpdateId = row.Long("last_update_id");
            snapshotTime = row.Long("transaction_time");
            (row.Side("side") == BookSide.Bid ? bids : asks).Add(new BookLevel(row.Price("price"), row.Quantity("qty")));
        }

        yield return new BookEvent(symbol, snapshotTime, bids, asks) { UpdateId = lastUpdateId };

        List<LevelChange>? pending = null;
        long pendingId = -1;
        long pendingTime = 0;
        foreach (var row in Csv.Read(updatesPath, DepthUpdatesLayout))
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
                    yield return new LevelsEvent(symbol, Math.Max(pendingTime, snapshotTime), pending) { UpdateId = pendingId };
                }

                pending = [];
                pendingId = final;
                pendingTime = row.Long("transaction_time");
            }

            pending!.Add(new LevelChange(row.Side("side"), row.Price("price"), row.Quantity("qty")));
        }

        if (pending is not null)
        {
            yield return new LevelsEvent(symbol, Math.Max(pendingTime, snapshotTime), pending) { UpdateId = pendingId };
        }
    }

    /// <summary>What a file of one kind holds: its name in messages, and its columns in the public dump's order.</summary>
    private sealed record CsvLayout(RecordedFileKind Kind, string Name, string[] Columns);

    /// <summary>
    /// Minimal CSV reader for Binance dumps: optional header (then columns are found by name), gzip or plain. Every
    /// problem is a <see cref="RecordedDataException"/> naming the file, line and column: a file that is empty, of
    /// another kind, cut short (mid-line, or a gzip stream that ends before its trailer's length) or damaged.
    /// </summary>
    private static class Csv
    {
        private static readonly byte[] GzipMagic = [0x1f, 0x8b];

        /// <summary>The first line (a header when it starts with a letter), or null for an empty file.</summary>
        public static string? FirstLine(string path, CsvLayout layout)
        {
            using var file = Open(path, layout);
            return file.ReadLine(1);
        }

        /// <summary>
        /// The first and last value of a time column. Every line is read (so a cut file is refused now) but only the
        /// first and last rows are split into cells: a depth updates file holds hundreds of thousands of rows.
        /// </summary>
        public static (long First, long Last) Span(string path, CsvLayout layout, string column)
        {
            Row head;
            using (var rows = Read(path, layout).GetEnumerator())
            {
                head = rows.MoveNext() ? rows.Current : throw new RecordedDataException(path, layout.Kind, 1, null, $"the file holds a header and no {layout.Name} rows");
            }

            using var file = Open(path, layout);
            string? last = null;
            long number = 0;
            long lastNumber = 0;
            while (file.ReadLine(number + 1) is { } line)
            {
                number++;
                if (line.Length > 0)
                {
                    (last, lastNumber) = (line, number);
                }
            }

            var cells = last!.Split(',');
            if (cells.Length != head.Cells.Length)
            {
                var cut = file.EndsMidLine() ? " (the file ends mid-line: it was cut short)" : "";
                throw new RecordedDataException(path, layout.Kind, lastNumber, null, $"{cells.Length} columns where a {layout.Name} row has {head.Cells.Length}{cut}");
            }

            file.CheckComplete(number);
            return (head.Long(column), new Row(cells, head.Index, path, layout.Kind, lastNumber).Long(column));
        }

        public static IEnumerable<Row> Read(string path, CsvLayout layout)
        {
            using var file = Open(path, layout);
            Dictionary<string, int>? index = null;
            var width = layout.Columns.Length;
            long number = 0;
            while (file.ReadLine(number + 1) is { } line)
            {
                number++;
                if (line.Length == 0)
                {
                    continue;
                }

                var cells = line.Split(',');
                if (index is null)
                {
                    index = IndexOf(path, layout, line, cells, number, out var isHeader);
                    width = isHeader ? cells.Length : layout.Columns.Length;
                    if (isHeader)
                    {
                        continue;
                    }
                }

                if (cells.Length != width)
                {
                    var cut = file.EndsMidLine() ? " (the file ends mid-line: it was cut short)" : "";
                    throw new RecordedDataException(path, layout.Kind, number, null, $"{cells.Length} columns where a {layout.Name} row has {width}{cut}");
                }

                yield return new Row(cells, index, path, layout.Kind, number);
            }

            if (number == 0)
            {
                throw new RecordedDataException(path, layout.Kind, null, null, $"the file is empty (expected {layout.Name} rows)");
            }

            file.CheckComplete(number);
        }

        private static Dictionary<string, int> IndexOf(string path, CsvLayout layout, string line, string[] cells, long number, out bool isHeader)
        {
            isHeader = char.IsLetter(line[0]);
            if (!isHeader)
            {
                return layout.Columns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
            }

            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < cells.Length; i++)
            {
                index.TryAdd(cells[i].Trim(), i);
            }

            if (layout.Columns.FirstOrDefault(c => !index.ContainsKey(c)) is { } missing)
            {
                var shown = line.Length > 120 ? line[..120] + "…" : line;
                throw new RecordedDataException(path, layout.Kind, number, null, $"no column '{missing}': this is not a {layout.Name} file (its header is '{shown}'; a {layout.Name} file has {string.Join(",", layout.Columns)})");
            }

            return index;
        }

        private static LineSource Open(string path, CsvLayout layout)
        {
            FileStream stream;
            try
            {
                stream = File.OpenRead(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new RecordedDataException(path, layout.Kind, null, null, "cannot be read: " + e.Message);
            }

            try
            {
                var magic = new byte[2];
                var isGzip = stream.Read(magic, 0, 2) == 2 && magic.AsSpan().SequenceEqual(GzipMagic);
                if (!isGzip && path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) && stream.Length > 0)
                {
                    throw new RecordedDataException(path, layout.Kind, null, null, "is not gzip data although its name ends in .gz");
                }

                // The gzip trailer's last four bytes are the uncompressed length (mod 2^32): what a complete stream yields.
                uint? expectedLength = null;
                if (isGzip)
                {
                    if (stream.Length < 18)
                    {
                        throw new RecordedDataException(path, layout.Kind, null, null, "the gzip data is cut short (shorter than a gzip header and trailer)");
                    }

                    var trailer = new byte[4];
                    stream.Position = stream.Length - 4;
                    stream.ReadExactly(trailer);
                    expectedLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer);
                }

                stream.Position = 0;
                var decoded = new CountingStream(isGzip ? new GZipStream(stream, CompressionMode.Decompress) : stream);
                return new LineSource(path, layout.Kind, decoded, expectedLength);
            }
            catch (Exception e) when (e is IOException)
            {
                stream.Dispose();
                throw new RecordedDataException(path, layout.Kind, null, null, "cannot be read: " + e.Message);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }
    }

    /// <summary>Lines of one file; read errors (damaged gzip, I/O) become <see cref="RecordedDataException"/> with the line.</summary>
    private sealed class LineSource(string path, RecordedFileKind kind, CountingStream decoded, uint? expectedLength) : IDisposable
    {
        private readonly StreamReader reader = new(decoded);

        public string? ReadLine(long number)
        {
            try
            {
                return reader.ReadLine();
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                throw new RecordedDataException(path, kind, number, null, "the data is damaged: " + e.Message);
            }
        }

        /// <summary>True when the last line read is not ended by a newline.</summary>
        public bool EndsMidLine()
        {
            try
            {
                return reader.EndOfStream && decoded.LastByte != (byte)'\n';
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                return false;
            }
        }

        /// <summary>At the end: a gzip stream that yielded fewer bytes than its trailer records was cut short.</summary>
        public void CheckComplete(long lines)
        {
            if (expectedLength is { } expected && (uint)decoded.Count != expected)
            {
                throw new RecordedDataException(path, kind, lines, null, string.Create(CultureInfo.InvariantCulture, $"the gzip data ends early: {decoded.Count:N0} bytes decompressed, its trailer records {expected:N0} (the file was cut short or damaged)"));
            }
        }

        public void Dispose() => reader.Dispose();
    }

    /// <summary>A read-only view that counts the bytes read and keeps the last one.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }

        public byte LastByte { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Count; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            if (read > 0)
            {
                Count += read;
                LastByte = buffer[read - 1];
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private readonly record struct Row(string[] Cells, Dictionary<string, int> Index, string Path, RecordedFileKind Kind, long Line)
    {
        public string Text(string column) => Cells[Index[column]];

        public long Long(string column) =>
            long.TryParse(Text(column), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw Bad(column, "is not a whole number");

        // Through the one parser for decimals: Binance's recordings hold plain unsigned decimals only.
        public decimal Decimal(string column) =>
            DecimalText.TryParse(Text(column), out var value, out var reason) ? value : throw Bad(column, reason!);

        public decimal Price(string column) => Decimal(column) is var price && price > 0m ? price : throw Bad(column, "is not a price (must be greater than zero)");

        public decimal Quantity(string column) => Decimal(column) is var quantity && quantity >= 0m ? quantity : throw Bad(column, "is not a quantity (must not be negative)");

        public bool Bool(string column) => Text(column).Trim().ToLowerInvariant() switch
        {
            "true" => true,
            "false" => false,
            _ => throw Bad(column, "must be true or false"),
        };

        public BookSide Side(string column) => Text(column).Trim().ToLowerInvariant() switch
        {
            "bid" or "b" => BookSide.Bid,
            "ask" or "a" => BookSide.Ask,
            _ => throw Bad(column, "must be bid or ask"),
        };

        private RecordedDataException Bad(string column, string reason)
        {
            var text = Text(column);
            return new RecordedDataException(Path, Kind, Line, column, $"'{(text.Length > 40 ? text[..40] + "…" : text)}' {reason}");
        }
    }
}

/// <summary>
/// A recorded market-data file that can't be replayed: empty, of another kind, cut short, damaged, or holding a cell
/// that is not what its column needs. The message names the file, the line and the column, and the reason.
/// </summary>
public sealed class RecordedDataException(string path, RecordedFileKind kind, long? line, string? column, string reason)
    : Exception(Describe(path, line, column, reason))
{
    public string FilePath { get; } = path;

    /// <summary>What the file was read as.</summary>
    public RecordedFileKind Kind { get; } = kind;

    /// <summary>The 1-based line (the header is line 1), when the problem is on one.</summary>
    public long? Line { get; } = line;

    public string? Column { get; } = column;

    public string Reason { get; } = reason;

    private static string Describe(string path, long? line, string? column, string reason) =>
        path + (line is { } l ? $": line {l.ToString(CultureInfo.InvariantCulture)}" : "") + (column is not null ? $", column '{column}'" : "") + ": " + reason;
}

/// <summary>The kinds of recorded file a replay reads (the layouts of Binance's public data dumps).</summary>
public enum RecordedFileKind
{
    BookTicker,
    Trades,
    AggTrades,
    DepthSnapshot,
    DepthUpdates,
}
