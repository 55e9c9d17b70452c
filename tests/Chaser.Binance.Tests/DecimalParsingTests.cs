using System.Globalization;
using System.Text;

namespace Chaser.Binance.Tests;

/// <summary>
/// <see cref="DecimalWire.TryParse"/> reads every price and quantity of every frame with a one-pass parser; these
/// check it is exact: the same value and scale as <see cref="decimal.Parse(string, NumberStyles, IFormatProvider)"/>
/// and the same answer, bit for bit, as the general parser it leaves the odd inputs to.
/// </summary>
public sealed class DecimalParsingTests
{
    private const NumberStyles Plain = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;

    [Theory]
    [InlineData("65000.10000000")]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("-0.000")]
    [InlineData("00012.50")]
    [InlineData("0.00000001")]
    [InlineData("-1.5")]
    [InlineData("9999999999999999999")]
    [InlineData("1844674407370955161.5")]
    [InlineData("18446744073709551616")]
    [InlineData("0.0000000000000000000000000001")]
    [InlineData("0.00000000000000000000000000001")]
    [InlineData("1234567890123456789012345678")]
    [InlineData("1234567890123456789012345678.9")]
    [InlineData("79228162514264337593543950335")]
    [InlineData("79228162514264337593543950336")]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("5.")]
    [InlineData(".5")]
    [InlineData("+5")]
    [InlineData("1e5")]
    [InlineData("1E-5")]
    [InlineData(" 5")]
    [InlineData("5 ")]
    [InlineData("1.2.3")]
    [InlineData("--1")]
    [InlineData("1,5")]
    [InlineData("١٢")]
    public void Odd_inputs_read_as_the_general_parser_reads_them(string text) => AssertSame(text);

    [Fact]
    public void Plain_decimals_of_every_shape_read_exactly()
    {
        var random = new Random(17);
        var text = new StringBuilder();
        for (var i = 0; i < 200_000; i++)
        {
            text.Clear();
            if (random.Next(4) == 0)
            {
                text.Append('-');
            }

            // Leading zeros, then up to 30 digits before the point and up to 30 after: across the 19-digit fast path,
            // the 28-digit scale limit and past both.
            text.Append('0', random.Next(4) == 0 ? random.Next(1, 4) : 0);
            Digits(random, text, random.Next(0, 31));
            if (random.Next(3) > 0)
            {
                text.Append('.');
                Digits(random, text, random.Next(0, 31));
            }

            // Now and then one byte replaced by something that is not a digit.
            if (random.Next(10) == 0 && text.Length > 0)
            {
                text[random.Next(text.Length)] = "e+-. x,"[random.Next(7)];
            }

            AssertSame(text.ToString());
        }
    }

    private static void Digits(Random random, StringBuilder text, int count)
    {
        for (var i = 0; i < count; i++)
        {
            // Zeros often, so runs of trailing and inner zeros (scale kept, no digit added) are common.
            text.Append(random.Next(3) == 0 ? '0' : (char)('0' + random.Next(10)));
        }
    }

    private static void AssertSame(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var parsed = DecimalWire.TryParse(bytes, out var value);
        var general = DecimalWire.TryParseAny(bytes, out var expected);
        Assert.True(general == parsed, $"'{text}': read {parsed}, the general parser {general}");
        if (!parsed)
        {
            return;
        }

        Assert.True(decimal.GetBits(expected).SequenceEqual(decimal.GetBits(value)), $"'{text}': {value} (scale {value.Scale}), the general parser {expected} (scale {expected.Scale})");

        // Against decimal.Parse wherever it reads the text without rounding (at most 28 significant digits).
        var significant = text.TrimStart('-').Replace(".", string.Empty, StringComparison.Ordinal).TrimStart('0').Length;
        if (significant <= 28 && decimal.TryParse(text, Plain, CultureInfo.InvariantCulture, out var reference))
        {
            Assert.Equal(reference, value);
            Assert.Equal(reference.Scale, value.Scale);
        }
    }
}
