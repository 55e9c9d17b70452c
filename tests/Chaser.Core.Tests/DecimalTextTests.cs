using System.Globalization;
using Chaser.Core.Domain;
using CsCheck;

namespace Chaser.Core.Tests;

public class DecimalTextTests
{
    [Theory]
    [InlineData("0.5", "0.5")]
    [InlineData("15000", "15000")]
    [InlineData(".5", "0.5")]
    [InlineData("5.", "5")]
    [InlineData("0.50", "0.50")]
    [InlineData(" 0.5 ", "0.5")]
    [InlineData("007.25", "7.25")]
    [InlineData("0", "0")]
    [InlineData("0.000000000000000001", "0.000000000000000001")]
    [InlineData("99999999999999999999", "99999999999999999999")]
    [InlineData("12345678901234567890.12345678", "12345678901234567890.12345678")]
    [InlineData("1.500000000000000000000000", "1.500000000000000000")]
    public void Plain_decimals_parse_exactly(string text, string expected)
    {
        Assert.True(DecimalText.TryParse(text, out var value, out var reason), reason);
        Assert.Equal(expected, value.ToString(CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("0,5", "use '.' as the decimal point, no thousands separators")]
    [InlineData("1,000", "use '.' as the decimal point, no thousands separators")]
    [InlineData("1,000.50", "use '.' as the decimal point, no thousands separators")]
    [InlineData("1.000,50", "use '.' as the decimal point, no thousands separators")]
    [InlineData("15_000", "no thousands separators")]
    [InlineData("1'000", "no thousands separators")]
    [InlineData("1 000", "has a space inside")]
    [InlineData("1\u00A0000", "no thousands separators")]
    [InlineData("1.2.3", "more than one '.'")]
    [InlineData("1e3", "has an exponent")]
    [InlineData("1E-5", "has an exponent")]
    [InlineData("-1", "must not be negative")]
    [InlineData("+1", "without a sign")]
    [InlineData("", "is empty")]
    [InlineData("   ", "is empty")]
    [InlineData(".", "is not a number")]
    [InlineData("abc", "is not a number")]
    [InlineData("NaN", "is not a number")]
    [InlineData("Infinity", "is not a number")]
    [InlineData("0x10", "is not a number")]
    [InlineData("\u0661\u0662", "is not a number")]
    [InlineData("１２", "is not a number")]
    [InlineData("5\0", "is not a number")]
    [InlineData("123456789012345678901", "too large (at most 20 digits before the decimal point)")]
    [InlineData("79228162514264337593543950336", "too large")]
    [InlineData("0.0000000000000000001", "more than 18 digits after the decimal point")]
    [InlineData("12345678901234567890.123456789", "more than 28 significant digits")]
    public void Anything_else_is_refused_with_the_reason(string text, string reason)
    {
        Assert.False(DecimalText.TryParse(text, out var value, out var why));
        Assert.Equal(0m, value);
        Assert.Contains(reason, why, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_text_is_refused_without_scanning_it()
    {
        Assert.False(DecimalText.TryParse(new string('0', 10_000) + "1", out _, out var reason));
        Assert.Contains("too long", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1.5", "-1.5")]
    [InlineData("+2", "2")]
    [InlineData("-0", "0")]
    public void A_sign_is_read_only_where_the_caller_allows_it(string text, string expected)
    {
        Assert.True(DecimalText.TryParse(text, out var value, out var reason, DecimalTextOptions.AllowSign), reason);
        Assert.Equal(expected, value.ToString(CultureInfo.InvariantCulture));
        Assert.False(DecimalText.TryParse("--1", out _, out reason, DecimalTextOptions.AllowSign));
        Assert.Contains("sign in the wrong place", reason, StringComparison.Ordinal);
        Assert.False(DecimalText.TryParse("1-", out _, out _, DecimalTextOptions.AllowSign));
    }

    [Theory]
    [InlineData("1e-05", "0.00001")]
    [InlineData("1.5E3", "1500")]
    [InlineData("2.5e+2", "250")]
    [InlineData("-1.25e-1", "-0.125")]
    [InlineData("0e400", "0")]
    [InlineData("1e19", "10000000000000000000")]
    [InlineData("123.456e-15", "0.000000000000123456")]
    public void Json_numbers_may_carry_an_exponent_within_the_same_bounds(string text, string expected)
    {
        var ok = DecimalText.TryParse(text, out var value, out var reason, DecimalTextOptions.AllowSign | DecimalTextOptions.AllowExponent);
        Assert.True(ok, reason);
        Assert.Equal(decimal.Parse(expected, CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("1e400", "too large")]
    [InlineData("1e20", "too large")]
    [InlineData("1e-30", "more than 18 digits after the decimal point")]
    [InlineData("123.456e-18", "more than 18 digits after the decimal point")]
    [InlineData("1e-99999999999999", "more than 18 digits after the decimal point")]
    [InlineData("1e99999999999999", "too large")]
    [InlineData("1e", "exponent without digits")]
    [InlineData("1e+", "exponent without digits")]
    [InlineData("1e5.5", "more than one '.'")]
    public void Exponents_out_of_range_are_refused_not_rounded(string text, string reason)
    {
        Assert.False(DecimalText.TryParse(text, out _, out var why, DecimalTextOptions.AllowSign | DecimalTextOptions.AllowExponent));
        Assert.Contains(reason, why, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_decimal_within_the_bounds_round_trips_through_its_invariant_text()
    {
        var digit = Gen.Char['0', '9'];
        var bounded = Gen.Int[0, DecimalText.MaxFractionDigits].SelectMany(fraction =>
            Gen.Select(
                Gen.Int[1, Math.Min(DecimalText.MaxIntegerDigits, DecimalText.MaxSignificantDigits - fraction)].SelectMany(n => Gen.String[digit, n, n]),
                Gen.String[digit, fraction, fraction],
                Gen.Bool,
                (integer, fractionDigits, negative) => (negative ? "-" : "") + integer + (fractionDigits.Length > 0 ? "." + fractionDigits : "")));
        bounded.Sample(text =>
        {
            Assert.True(DecimalText.TryParse(text, out var parsed, out var reason, DecimalTextOptions.AllowSign), $"{text}: {reason}");
            Assert.Equal(decimal.Parse(text, CultureInfo.InvariantCulture), parsed);

            var exponent = parsed.ToString("E20", CultureInfo.InvariantCulture);
            Assert.True(DecimalText.TryParse(exponent, out var fromExponent, out reason, DecimalTextOptions.AllowSign | DecimalTextOptions.AllowExponent), $"{exponent}: {reason}");
            Assert.Equal(decimal.Parse(exponent, NumberStyles.Float, CultureInfo.InvariantCulture), fromExponent);
        }, iter: 20_000);
    }

    [Fact]
    public void Arbitrary_text_never_throws_and_agrees_with_the_framework_when_accepted()
    {
        var alphabet = Gen.Char["0123456789.,-+eE _'\u00A0x"];
        Gen.String[alphabet, 0, 30].Sample(text =>
        {
            if (DecimalText.TryParse(text, out var value, out var reason, DecimalTextOptions.AllowSign | DecimalTextOptions.AllowExponent))
            {
                Assert.Null(reason);
                Assert.DoesNotContain(',', text);
                Assert.Equal(decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture), value);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(reason));
            }
        }, iter: 50_000);
    }
}
