using System.Text;
using System.Text.Json;
using Chaser.Binance.Parsing;

namespace Chaser.Binance.Tests;

/// <summary>
/// <see cref="MarketDataParser.Parse"/> reads a combined-stream bookTicker in one pass over its bytes and leaves every
/// other frame to the general <see cref="Utf8JsonReader"/> path. The fast path must take the frames Binance and our
/// simulator send, read them exactly as the general path reads them, and never accept what the general path rejects:
/// these compare the two over the real frames and over hundreds of thousands of corrupted ones.
/// </summary>
public sealed class BookTickerFastPathTests
{
    private const string Binance = """{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":3682854202063,"s":"BTCUSDT","b":"65000.10","B":"2.431","a":"65000.20","A":"0.105","T":1720367822938,"E":1720367822944}}""";

    [Fact]
    public void Binance_and_simulator_frames_take_the_fast_path_and_read_as_the_general_path_reads_them()
    {
        var simulator = SimulatorFrame();
        foreach (var frame in new[] { Encoding.ASCII.GetBytes(Binance), Payload.Bytes("bookTicker-combined.json"), simulator })
        {
            Assert.True(BookTickerFrame.TryRead(frame, new SymbolMemo(new Utf8StringCache()), out var fast), Encoding.ASCII.GetString(frame));
            var general = new MarketDataParser();
            Assert.Equal(MarketEventType.BookTicker, general.ParseGeneral(frame));
            Assert.Equal(general.BookTicker, fast);
        }
    }

    [Theory]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1e3","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"abc","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1" """)]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1.5,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":01,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":99999999999999999999,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":-,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1","T":}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":7,"b":"1.0","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1",}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"79228162514264337593543950336","B":"1","a":"2.0","A":"1"}}""")]
    public void Malformed_or_out_of_range_frames_are_rejected_as_before(string json)
    {
        var frame = Encoding.UTF8.GetBytes(json);

        Assert.False(BookTickerFrame.TryRead(frame, new SymbolMemo(new Utf8StringCache()), out _));
        Assert.True(Outcome(() => new MarketDataParser().ParseGeneral(frame)) is null, $"the general path reads {json}");
        Assert.ThrowsAny<JsonException>(() => new MarketDataParser().Parse(frame));
    }

    [Theory]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}} x""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"},"x":}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker", "u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTC\u0055SDT","b":"1.0","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":"1","s":"BTCUSDT","b":1.0,"B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1","x":[1,{"y":2}]}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1,"u":2,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"e":"bookTicker","u":1234567890123456789,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"stream":"s","data":{"u":1,"e":"bookTicker","s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}}""")]
    [InlineData("""{"data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"},"stream":"s"}""")]
    [InlineData("""{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}""")]
    public void Other_well_formed_shapes_are_left_to_the_general_path_which_reads_them_as_before(string json)
    {
        var frame = Encoding.UTF8.GetBytes(json);

        Assert.False(BookTickerFrame.TryRead(frame, new SymbolMemo(new Utf8StringCache()), out _));
        var parser = new MarketDataParser();
        var general = new MarketDataParser();
        Assert.Equal(general.ParseGeneral(frame), parser.Parse(frame));
        Assert.Equal(general.BookTicker, parser.BookTicker);
    }

    [Fact]
    public void Corrupted_frames_are_read_or_rejected_exactly_as_the_general_path_reads_or_rejects_them()
    {
        var random = new Random(17);
        var template = Encoding.ASCII.GetBytes(Binance);
        ReadOnlySpan<byte> alphabet = "\"\\{}[],:.-+0123456789eEbBaAsuTE \t\u0001\u007fx"u8;
        int fast = 0, rejected = 0, agreedOnValue = 0;
        for (var i = 0; i < 300_000; i++)
        {
            var frame = Mutate(random, i % 7 == 0 ? SimulatorFrame(random) : template, alphabet);
            var parser = new MarketDataParser();
            var general = new MarketDataParser();
            var took = BookTickerFrame.TryRead(frame, new SymbolMemo(new Utf8StringCache()), out _);
            var parsed = Outcome(() => parser.Parse(frame));
            var expected = Outcome(() => general.ParseGeneral(frame));
            Assert.True(
                parsed == expected && parser.BookTicker == general.BookTicker,
                $"{Encoding.UTF8.GetString(frame)}: the general path says {expected} {general.BookTicker}, Parse says {parsed} {parser.BookTicker}");
            fast += took ? 1 : 0;
            rejected += expected is null ? 1 : 0;
            agreedOnValue += took && expected == MarketEventType.BookTicker ? 1 : 0;
        }

        // The corruptions reach both ways: many frames still read (some changed values), many rejected.
        Assert.True(fast > 30_000 && agreedOnValue == fast, $"{fast} frames took the fast path, {agreedOnValue} of them read as BookTicker by the general path");
        Assert.True(rejected > 30_000, $"only {rejected} corrupted frames were rejected");
    }

    private static MarketEventType? Outcome(Func<MarketEventType> parse)
    {
        try
        {
            return parse();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>One to three corruptions: a byte replaced, inserted or deleted, a truncation, or two fields swapped.</summary>
    private static byte[] Mutate(Random random, byte[] template, ReadOnlySpan<byte> alphabet)
    {
        var bytes = new List<byte>(template);
        var count = random.Next(4);
        for (var m = 0; m < count && bytes.Count > 2; m++)
        {
            var at = random.Next(bytes.Count);
            var b = random.Next(4) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] = b;
                    break;
                case 1:
                    bytes.Insert(at, b);
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 4:
                    // A digit changed: the frame stays well formed, its values move.
                    var digit = bytes.FindIndex(random.Next(bytes.Count), c => c is >= (byte)'0' and <= (byte)'9');
                    if (digit >= 0)
                    {
                        bytes[digit] = (byte)('0' + random.Next(10));
                    }

                    break;
                default:
                    var text = Encoding.ASCII.GetString([.. bytes]);
                    var fields = text.Split(',');
                    if (fields.Length > 4)
                    {
                        var x = 2 + random.Next(fields.Length - 3);
                        var y = 2 + random.Next(fields.Length - 3);
                        (fields[x], fields[y]) = (fields[y], fields[x]);
                        bytes = [.. Encoding.ASCII.GetBytes(string.Join(',', fields))];
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>A frame as the simulator writes one (Utf8JsonWriter), with values of every shape.</summary>
    private static byte[] SimulatorFrame(Random? random = null)
    {
        random ??= new Random(1);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("stream", "dogeusdt@bookTicker");
            w.WritePropertyName("data");
            w.WriteStartObject();
            w.WriteString("e", "bookTicker");
            w.WriteNumber("u", random.NextInt64(-10, long.MaxValue / 100_000));
            w.WriteString("s", "DOGEUSDT");
            w.WriteString("b", DecimalWire.ToText(new decimal(random.NextDouble() * 100_000)));
            w.WriteString("B", random.Next(1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("a", "0." + random.Next(1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("A", "-0");
            w.WriteNumber("T", random.Next(2) == 0 ? 0 : random.NextInt64(long.MaxValue));
            w.WriteNumber("E", 1_720_367_822_944);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
