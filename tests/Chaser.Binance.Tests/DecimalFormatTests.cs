using System.Text;

namespace Chaser.Binance.Tests;

/// <summary>
/// <see cref="DecimalWire.Format"/> writes a 64-bit mantissa's digits itself: it must write, byte for byte, what
/// decimal's own formatting trimmed writes (<see cref="DecimalWire.FormatAny"/>), whatever the value's scale and size.
/// </summary>
public sealed class DecimalFormatTests
{
    [Theory]
    [InlineData(0, 0, 0, false, 0)]
    [InlineData(0, 0, 0, true, 0)]
    [InlineData(0, 0, 0, true, 3)]
    [InlineData(0, 0, 0, false, 28)]
    [InlineData(1, 0, 0, false, 28)]
    [InlineData(1, 0, 0, true, 28)]
    [InlineData(10, 0, 0, false, 1)]
    [InlineData(650001, 0, 0, false, 1)]
    [InlineData(650001000, 0, 0, false, 4)]
    [InlineData(-1, -1, 0, false, 0)]
    [InlineData(-1, -1, 0, false, 19)]
    [InlineData(-1, -1, 0, true, 20)]
    [InlineData(-1, -1, 0, false, 28)]
    [InlineData(0, 0, 1, false, 0)]
    [InlineData(-1, -1, -1, true, 28)]
    [InlineData(154, 0, 0, false, 3)]
    [InlineData(1540, 0, 0, false, 4)]
    public void Edge_values_are_written_as_decimal_writes_them(int lo, int mid, int hi, bool negative, byte scale) =>
        AssertSame(new decimal(lo, mid, hi, negative, scale));

    [Fact]
    public void Random_values_of_every_scale_and_size_are_written_as_decimal_writes_them()
    {
        var random = new Random(17);
        for (var i = 0; i < 300_000; i++)
        {
            // Mantissas of every width up to 96 bits (most within 64), trailing zeros often, every scale.
            var bitsWide = random.Next(97);
            var lo = bitsWide == 0 ? 0 : random.Next(int.MinValue, int.MaxValue);
            var mid = bitsWide > 32 ? random.Next(int.MinValue, int.MaxValue) : 0;
            var hi = bitsWide > 64 ? random.Next(int.MinValue, int.MaxValue) : 0;
            var value = new decimal(lo, mid, hi, random.Next(2) == 0, (byte)random.Next(29));
            if (random.Next(3) == 0)
            {
                value = Math.Round(value, random.Next(29)) * (random.Next(2) == 0 ? 1.000m : 1m);
            }

            AssertSame(value);
        }
    }

    [Fact]
    public void Integers_are_written_as_the_general_formatter_writes_them()
    {
        var random = new Random(17);
        long[] edges = [0, 1, 9, 10, 99, 100, 999_999_999_999_999_999, 1_000_000_000_000_000_000, long.MaxValue, -1, long.MinValue, 1_764_000_000_000];
        var values = edges.Concat(Enumerable.Range(0, 200_000).Select(i => random.NextInt64(long.MinValue, long.MaxValue) >> random.Next(64)));
        Span<byte> expected = stackalloc byte[20];
        Span<byte> actual = stackalloc byte[20];
        foreach (var value in values)
        {
            Assert.True(System.Buffers.Text.Utf8Formatter.TryFormat(value, expected, out var expectedLength));
            Assert.True(DecimalWire.TryFormatInteger(value, actual, out var actualLength));
            Assert.True(expected[..expectedLength].SequenceEqual(actual[..actualLength]), $"{value}: {Encoding.ASCII.GetString(actual[..actualLength])}");

            // Too small a destination is refused, as the general formatter refuses it.
            Assert.False(DecimalWire.TryFormatInteger(value, actual[..(expectedLength - 1)], out _));
        }
    }

    [Fact]
    public void Exactly_the_json_string_bytes_are_escaped()
    {
        for (var b = 0; b < 256; b++)
        {
            var escaped = b < 0x20 || b is '"' or '\\' or 0x7F;
            Assert.Equal(!escaped, Chaser.Binance.Requests.JsonEscaping.IsPlain([(byte)b]));
            Assert.Equal(escaped, Chaser.Binance.Requests.JsonEscaping.Needed.Contains((byte)b));
        }
    }

    private static void AssertSame(decimal value)
    {
        Span<byte> expected = stackalloc byte[DecimalWire.MaxLength];
        Span<byte> actual = stackalloc byte[DecimalWire.MaxLength];
        var expectedLength = DecimalWire.FormatAny(value, expected);
        var actualLength = DecimalWire.Format(value, actual);
        Assert.True(
            expected[..expectedLength].SequenceEqual(actual[..actualLength]),
            $"{value} (bits {string.Join(',', decimal.GetBits(value))}): decimal writes {Encoding.ASCII.GetString(expected[..expectedLength])}, the fast path {Encoding.ASCII.GetString(actual[..actualLength])}");
    }
}
