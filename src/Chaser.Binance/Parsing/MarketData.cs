using System.Text.Json;
using Chaser.Core.Chasing;
using Chaser.Core.Market;

namespace Chaser.Binance.Parsing;

/// <summary>Which market stream event a frame carries (its <c>e</c> field).</summary>
public enum MarketEventType
{
    Unknown,
    BookTicker,
    DepthUpdate,
    AggTrade,
    Trade,
}

/// <summary><c>&lt;symbol&gt;@bookTicker</c>: the best bid and ask.</summary>
public readonly record struct BookTickerUpdate(
    string Symbol,
    long UpdateId,
    long EventTimeMs,
    long TransactionTimeMs,
    decimal Bid,
    decimal BidQty,
    decimal Ask,
    decimal AskQty)
{
    /// <summary>The Core view; exchange time is the matching engine's transaction time (event time when absent).</summary>
    public BookTop ToBookTop() =>
        new(Bid, BidQty, Ask, AskQty, UpdateId, JsonRead.Time(TransactionTimeMs != 0 ? TransactionTimeMs : EventTimeMs));
}

/// <summary><c>&lt;symbol&gt;@aggTrade</c>.</summary>
public readonly record struct AggTradeUpdate(
    string Symbol,
    long AggTradeId,
    decimal Price,
    decimal Quantity,
    long FirstTradeId,
    long LastTradeId,
    long EventTimeMs,
    long TradeTimeMs,
    bool BuyerIsMaker)
{
    public TradePrint ToTradePrint(DateTimeOffset receivedAt) =>
        new(Price, Quantity, BuyerIsMaker, JsonRead.Time(TradeTimeMs), receivedAt);
}

/// <summary>
/// One <c>depthUpdate</c> diff. A single instance is reused by its parser (levels lists are cleared, not reallocated),
/// so consume or copy it before parsing the next frame.
/// </summary>
public sealed class DepthDiff
{
    public string Symbol { get; set; } = string.Empty;

    public long EventTimeMs { get; set; }

    public long TransactionTimeMs { get; set; }

    /// <summary><c>U</c>: first update id in this event.</summary>
    public long FirstUpdateId { get; set; }

    /// <summary><c>u</c>: final update id in this event.</summary>
    public long FinalUpdateId { get; set; }

    /// <summary><c>pu</c>: the previous event's final update id; the chain is whole when it equals that.</summary>
    public long PreviousFinalUpdateId { get; set; }

    /// <summary>Absolute quantities; zero removes the level.</summary>
    public List<PriceLevel> Bids { get; } = new(64);

    public List<PriceLevel> Asks { get; } = new(64);

    public void Clear()
    {
        Symbol = string.Empty;
        EventTimeMs = TransactionTimeMs = FirstUpdateId = FinalUpdateId = PreviousFinalUpdateId = 0;
        Bids.Clear();
        Asks.Clear();
    }
}

/// <summary>
/// Parses market stream frames straight from the receive buffer with <see cref="Utf8JsonReader"/>: no JsonDocument,
/// decimals from UTF-8, symbols through a string cache. After warm-up a bookTicker, aggTrade or depth diff allocates
/// nothing. Not thread-safe (one per connection); the cache may be shared.
/// </summary>
public sealed class MarketDataParser
{
    private readonly Utf8StringCache _symbols;
    private readonly SymbolMemo _bookSymbols;

    public MarketDataParser(Utf8StringCache? symbols = null)
    {
        _symbols = symbols ?? new Utf8StringCache(4096);
        _bookSymbols = new SymbolMemo(_symbols);
    }

    /// <summary>The diff filled by the last <see cref="Parse"/> that returned <see cref="MarketEventType.DepthUpdate"/>.</summary>
    public DepthDiff Depth { get; } = new();

    public BookTickerUpdate BookTicker { get; private set; }

    public AggTradeUpdate AggTrade { get; private set; }

    /// <summary>
    /// Parses one frame (raw stream payload or combined-stream envelope). Returns what it was; the result is in
    /// <see cref="BookTicker"/>, <see cref="AggTrade"/> or <see cref="Depth"/>. Unknown events and control replies
    /// (<c>{"result":null,"id":1}</c>) return <see cref="MarketEventType.Unknown"/>.
    /// </summary>
    public MarketEventType Parse(ReadOnlySpan<byte> frame)
    {
        if (BookTickerFrame.TryRead(frame, _bookSymbols, out var ticker))
        {
            BookTicker = ticker;
            return MarketEventType.BookTicker;
        }

        return ParseGeneral(frame);
    }

    /// <summary>
    /// <see cref="Parse"/> through <see cref="Utf8JsonReader"/> alone: every frame the bookTicker fast path does not
    /// take, and the reference it is tested against.
    /// </summary>
    internal MarketEventType ParseGeneral(ReadOnlySpan<byte> frame)
    {
        var payload = CombinedStream.Payload(frame);
        var type = EventType(payload);
        switch (type)
        {
            case MarketEventType.BookTicker:
                BookTicker = ParseBookTicker(payload);
                break;
            case MarketEventType.AggTrade:
                AggTrade = ParseAggTrade(payload);
                break;
            case MarketEventType.DepthUpdate:
                ParseDepthUpdate(payload, Depth);
                break;
            default:
                break;
        }

        return type;
    }

    /// <summary>The <c>e</c> field of a top-level event object.</summary>
    public static MarketEventType EventType(ReadOnlySpan<byte> json)
    {
        var e = EventName.Find(json);
        if (e.SequenceEqual("bookTicker"u8))
        {
            return MarketEventType.BookTicker;
        }

        if (e.SequenceEqual("depthUpdate"u8))
        {
            return MarketEventType.DepthUpdate;
        }

        if (e.SequenceEqual("aggTrade"u8))
        {
            return MarketEventType.AggTrade;
        }

        return e.SequenceEqual("trade"u8) ? MarketEventType.Trade : MarketEventType.Unknown;
    }

    public BookTickerUpdate ParseBookTicker(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        JsonRead.StartObject(ref reader);
        string symbol = string.Empty;
        long updateId = 0, eventTime = 0, transactionTime = 0;
        decimal bid = 0, bidQty = 0, ask = 0, askQty = 0;
        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            JsonRead.Value(ref reader);
            switch (name)
            {
                case [(byte)'u']: updateId = JsonRead.Long(ref reader, "u"); break;
                case [(byte)'E']: eventTime = JsonRead.Long(ref reader, "E"); break;
                case [(byte)'T']: transactionTime = JsonRead.Long(ref reader, "T"); break;
                case [(byte)'s']: symbol = JsonRead.Cached(ref reader, _symbols, "s"); break;
                case [(byte)'b']: bid = JsonRead.Decimal(ref reader, "b"); seen |= 1; break;
                case [(byte)'B']: bidQty = JsonRead.Decimal(ref reader, "B"); seen |= 2; break;
                case [(byte)'a']: ask = JsonRead.Decimal(ref reader, "a"); seen |= 4; break;
                case [(byte)'A']: askQty = JsonRead.Decimal(ref reader, "A"); seen |= 8; break;
                default: reader.Skip(); break;
            }
        }

        if (seen != 15)
        {
            throw new JsonException("bookTicker lacks one of b, B, a, A");
        }

        return new BookTickerUpdate(symbol, updateId, eventTime, transactionTime, bid, bidQty, ask, askQty);
    }

    public AggTradeUpdate ParseAggTrade(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        JsonRead.StartObject(ref reader);
        string symbol = string.Empty;
        long aggId = 0, first = 0, last = 0, eventTime = 0, tradeTime = 0;
        decimal price = 0, quantity = 0;
        var buyerIsMaker = false;
        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            JsonRead.Value(ref reader);
            switch (name)
            {
                case [(byte)'s']: symbol = JsonRead.Cached(ref reader, _symbols, "s"); break;
                case [(byte)'a']: aggId = JsonRead.Long(ref reader, "a"); break;
                case [(byte)'p']: price = JsonRead.Decimal(ref reader, "p"); seen |= 1; break;
                case [(byte)'q']: quantity = JsonRead.Decimal(ref reader, "q"); seen |= 2; break;
                case [(byte)'f']: first = JsonRead.Long(ref reader, "f"); break;
                case [(byte)'l']: last = JsonRead.Long(ref reader, "l"); break;
                case [(byte)'E']: eventTime = JsonRead.Long(ref reader, "E"); break;
                case [(byte)'T']: tradeTime = JsonRead.Long(ref reader, "T"); seen |= 4; break;
                case [(byte)'m']: buyerIsMaker = JsonRead.Bool(ref reader, "m"); seen |= 8; break;
                default: reader.Skip(); break;
            }
        }

        if (seen != 15)
        {
            throw new JsonException("aggTrade lacks one of p, q, T, m");
        }

        return new AggTradeUpdate(symbol, aggId, price, quantity, first, last, eventTime, tradeTime, buyerIsMaker);
    }

    /// <summary>Fills <paramref name="diff"/> (cleared first) from a depthUpdate payload.</summary>
    public void ParseDepthUpdate(ReadOnlySpan<byte> json, DepthDiff diff)
    {
        ArgumentNullException.ThrowIfNull(diff);
        diff.Clear();
        var reader = new Utf8JsonReader(json);
        JsonRead.StartObject(ref reader);
        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            JsonRead.Value(ref reader);
            switch (name)
            {
                case [(byte)'s']: diff.Symbol = JsonRead.Cached(ref reader, _symbols, "s"); break;
                case [(byte)'E']: diff.EventTimeMs = JsonRead.Long(ref reader, "E"); break;
                case [(byte)'T']: diff.TransactionTimeMs = JsonRead.Long(ref reader, "T"); break;
                case [(byte)'U']: diff.FirstUpdateId = JsonRead.Long(ref reader, "U"); seen |= 1; break;
                case [(byte)'u']: diff.FinalUpdateId = JsonRead.Long(ref reader, "u"); seen |= 2; break;
                case [(byte)'p', (byte)'u']: diff.PreviousFinalUpdateId = JsonRead.Long(ref reader, "pu"); seen |= 4; break;
                case [(byte)'b']: ReadLevels(ref reader, diff.Bids, "b"); break;
                case [(byte)'a']: ReadLevels(ref reader, diff.Asks, "a"); break;
                default: reader.Skip(); break;
            }
        }

        if (seen != 7)
        {
            throw new JsonException("depthUpdate lacks one of U, u, pu");
        }
    }

    /// <summary>Reads <c>[["price","qty"], …]</c> into <paramref name="levels"/>.</summary>
    internal static void ReadLevels(ref Utf8JsonReader reader, List<PriceLevel> levels, string field)
    {
        JsonRead.Expect(ref reader, JsonTokenType.StartArray, field);
        while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
        {
            reader.Read();
            var price = JsonRead.Decimal(ref reader, field);
            reader.Read();
            var quantity = JsonRead.Decimal(ref reader, field);
            // Some sources add fields after [price, qty]; ignore them.
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                reader.Skip();
            }

            levels.Add(new PriceLevel(price, quantity));
        }

        JsonRead.Expect(ref reader, JsonTokenType.EndArray, field);
    }
}

/// <summary>The combined-stream envelope <c>{"stream":"btcusdt@bookTicker","data":{…}}</c>.</summary>
public static class CombinedStream
{
    /// <summary>The event payload: <c>data</c> of an envelope, or the frame itself on a raw stream.</summary>
    public static ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> frame) => TryUnwrap(frame, out _, out var data) ? data : frame;

    /// <summary>Finds the stream name and the raw bytes of <c>data</c>; false when the frame is not an envelope.</summary>
    public static bool TryUnwrap(ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> stream, out ReadOnlySpan<byte> data)
    {
        stream = default;
        data = default;
        var reader = new Utf8JsonReader(frame);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var found = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("stream"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    stream = reader.ValueSpan;
                    found |= 1;
                }
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                data = frame[start..(int)reader.BytesConsumed];
                found |= 2;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }

            if (found == 3)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Finds the top-level <c>e</c> (event type) value without parsing the rest.</summary>
internal static class EventName
{
    public static ReadOnlySpan<byte> Find(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return default;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isEvent = reader.ValueTextEquals("e"u8);
            reader.Read();
            if (isEvent)
            {
                return reader.TokenType == JsonTokenType.String ? reader.ValueSpan : default;
            }

            reader.Skip();
        }

        return default;
    }
}

/// <summary>
/// The frame every market connection carries most, a combined-stream bookTicker exactly as Binance (and our simulator)
/// writes it, read in one pass over its bytes: <c>{"stream":"…","data":{"e":"bookTicker",…}}</c>, the data's fields
/// in any order, no whitespace, strings of printable ASCII with nothing escaped, integers as plain JSON integers.
/// Anything else, well-formed or not (another event, a field of another shape, an escape, a second field of one name,
/// a byte past the envelope), is left to <see cref="MarketDataParser.ParseGeneral"/>, which decides it as it always
/// did: this path accepts only frames the general one reads the same way, and rejects nothing itself.
/// </summary>
internal static class BookTickerFrame
{
    private const int Symbol = 1, UpdateId = 2, EventTime = 4, TransactionTime = 8, Bid = 16, BidQty = 32, Ask = 64, AskQty = 128;
    private const int Prices = Bid | BidQty | Ask | AskQty;

    public static bool TryRead(ReadOnlySpan<byte> frame, SymbolMemo symbols, out BookTickerUpdate update)
    {
        update = default;
        var at = 0;
        if (!Take(frame, ref at, "{\"stream\":"u8) || !TryString(frame, ref at, out _) || !Take(frame, ref at, ",\"data\":{\"e\":\"bookTicker\""u8))
        {
            return false;
        }

        var symbol = default(Range);
        long updateId = 0, eventTime = 0, transactionTime = 0;
        decimal bid = 0, bidQty = 0, ask = 0, askQty = 0;
        var seen = 0;
        while (frame.Length - at > 5 && frame[at] == (byte)',' && frame[at + 1] == (byte)'"' && frame[at + 3] == (byte)'"' && frame[at + 4] == (byte)':')
        {
            var field = frame[at + 2] switch
            {
                (byte)'s' => Symbol,
                (byte)'u' => UpdateId,
                (byte)'E' => EventTime,
                (byte)'T' => TransactionTime,
                (byte)'b' => Bid,
                (byte)'B' => BidQty,
                (byte)'a' => Ask,
                (byte)'A' => AskQty,
                _ => 0,
            };
            if (field == 0 || (seen & field) != 0)
            {
                return false;
            }

            seen |= field;
            at += 5;
            var read = field switch
            {
                Symbol => TryString(frame, ref at, out symbol),
                UpdateId => TryLong(frame, ref at, out updateId),
                EventTime => TryLong(frame, ref at, out eventTime),
                TransactionTime => TryLong(frame, ref at, out transactionTime),
                Bid => TryDecimal(frame, ref at, out bid),
                BidQty => TryDecimal(frame, ref at, out bidQty),
                Ask => TryDecimal(frame, ref at, out ask),
                _ => TryDecimal(frame, ref at, out askQty),
            };
            if (!read)
            {
                return false;
            }
        }

        // The data object and the envelope close, and nothing but whitespace follows (a frame read back from a file).
        if ((seen & Prices) != Prices || !frame[at..].StartsWith("}}"u8) || frame[(at + 2)..].IndexOfAnyExcept(" \t\r\n"u8) >= 0)
        {
            return false;
        }

        update = new BookTickerUpdate((seen & Symbol) != 0 ? symbols.Get(frame[symbol]) : string.Empty, updateId, eventTime, transactionTime, bid, bidQty, ask, askQty);
        return true;
    }

    private static bool Take(ReadOnlySpan<byte> frame, ref int at, ReadOnlySpan<byte> expected)
    {
        if (!frame[at..].StartsWith(expected))
        {
            return false;
        }

        at += expected.Length;
        return true;
    }

    /// <summary>A string of printable ASCII other than quote and backslash: where its content lies, and <paramref name="at"/> past its closing quote.</summary>
    private static bool TryString(ReadOnlySpan<byte> frame, ref int at, out Range content)
    {
        content = default;
        if (at >= frame.Length || frame[at] != (byte)'"')
        {
            return false;
        }

        var length = frame[(at + 1)..].IndexOfAnyExcept(PlainText);
        if (length < 0 || frame[at + 1 + length] != (byte)'"')
        {
            return false;
        }

        content = new Range(at + 1, at + 1 + length);
        at += length + 2;
        return true;
    }

    /// <summary>A JSON integer of at most 18 digits (so it fits a long), no leading zero, followed by the next field or the end.</summary>
    private static bool TryLong(ReadOnlySpan<byte> frame, ref int at, out long value)
    {
        value = 0;
        var negative = at < frame.Length && frame[at] == (byte)'-';
        var start = negative ? at + 1 : at;

        // Digits read and counted in one pass; a 19th digit is read only to refuse it.
        var end = start;
        while (end < frame.Length && end - start < 19 && frame[end] - (uint)'0' <= 9)
        {
            value = (value * 10) + (frame[end] - '0');
            end++;
        }

        var length = end - start;
        if (length == 0 || length > 18 || (frame[start] == (byte)'0' && length > 1) || end >= frame.Length || frame[end] is not ((byte)',' or (byte)'}'))
        {
            value = 0;
            return false;
        }

        value = negative ? -value : value;
        at = end;
        return true;
    }

    private static bool TryDecimal(ReadOnlySpan<byte> frame, ref int at, out decimal value)
    {
        value = 0;
        return TryString(frame, ref at, out var text) && DecimalWire.TryParse(frame[text], out value);
    }

    /// <summary>Printable ASCII a JSON string carries as it is: everything from space to tilde but quote and backslash.</summary>
    private static readonly System.Buffers.SearchValues<byte> PlainText = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0x20, 0x7F - 0x20).Where(b => b is not ('"' or '\\')).Select(b => (byte)b)]);
}

/// <summary>
/// One parser's memo of the symbols its frames name: each symbol's bytes (up to 32) against the instance the shared
/// <see cref="Utf8StringCache"/> gave for them, in a small table of its own, so that a frame's symbol costs a compare
/// of a few bytes rather than a transcode to UTF-16 and a lookup in the shared dictionary. Not thread-safe (one per
/// parser, as the parser is); it allocates nothing: two symbols sharing a slot take turns, each miss asking the
/// shared cache as before.
/// </summary>
internal sealed class SymbolMemo(Utf8StringCache shared)
{
    private const int Slots = 64;
    private const int MaxLength = 32;
    private readonly byte[] _keys = new byte[Slots * MaxLength];
    private readonly int[] _lengths = new int[Slots];
    private readonly string?[] _values = new string?[Slots];

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty || utf8.Length > MaxLength)
        {
            return shared.Get(utf8);
        }

        var slot = Slot(utf8);
        if (_values[slot] is { } known && utf8.SequenceEqual(_keys.AsSpan(slot * MaxLength, _lengths[slot])))
        {
            return known;
        }

        var text = shared.Get(utf8);
        utf8.CopyTo(_keys.AsSpan(slot * MaxLength));
        _lengths[slot] = utf8.Length;
        _values[slot] = text;
        return text;
    }

    /// <summary>The slot of a symbol: its first and last eight bytes (or all of a shorter one) and its length, mixed.</summary>
    private static int Slot(ReadOnlySpan<byte> utf8)
    {
        ulong hash;
        if (utf8.Length >= 8)
        {
            hash = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(utf8)
                ^ (System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(utf8[^8..]) * 31);
        }
        else
        {
            hash = 0;
            foreach (var b in utf8)
            {
                hash = (hash << 8) | b;
            }
        }

        return (int)(((hash ^ (ulong)utf8.Length) * 0x9E3779B97F4A7C15) >> 58);
    }
}
