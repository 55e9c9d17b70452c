using Chaser.Core.Rules;

namespace Chaser.Core.Tests;

/// <summary>
/// <see cref="SymbolRules.QuantityForNotional"/> sizes a notional order's child on every re-price from the exact
/// quotient on integers: it must give what the decimal arithmetic it replaced gives,
/// <c>FloorQuantity(notional / price)</c>, to the last bit (value and scale), for every price, notional and step,
/// at the edges where decimal's rounding decides and where the integers run out.
/// </summary>
public sealed class QuantityForNotionalTests
{
    private static readonly decimal[] Steps =
    [
        0.001m, 1m, 0.1m, 0.01m, 0.0001m, 0.00001m, 0.000001m, 0.00000001m, 10m, 100m, 1000m, 0.5m, 0.25m, 5m, 0.010m,
        1.000m, 0.0000000000000000000001m, 0.0000000000000000000000000001m, 1_000_000_000m, 7.3m, 0.003m,
    ];

    [Fact]
    public void Random_notionals_prices_and_steps_size_as_the_decimal_division_does()
    {
        var random = new Random(17);
        for (var i = 0; i < 400_000; i++)
        {
            var step = i % 4 == 0 ? Positive(random) : Steps[random.Next(Steps.Length)];
            var price = i % 3 == 0 ? Positive(random) : Price(random);
            var notional = i % 5 == 0 ? Positive(random) : Math.Round((decimal)(random.NextDouble() * Math.Pow(10, random.Next(-2, 12))), random.Next(0, 9));
            AssertSame(notional, price, step);
        }
    }

    [Fact]
    public void Notionals_at_and_around_a_whole_number_of_steps_size_as_the_decimal_division_does()
    {
        // Exactly k steps, and within a hair of k steps either way: where each of decimal's two roundings could move
        // the floor, and where a wrong integer form would be off by one step.
        var random = new Random(18);
        decimal[] hairs = [0m, 1e-28m, -1e-28m, 1e-27m, -1e-27m, 1e-20m, -1e-20m, 1e-12m, -1e-12m, 1e-8m, -1e-8m];
        for (var i = 0; i < 200_000; i++)
        {
            var step = Steps[random.Next(Steps.Length)];
            var price = Price(random);
            var steps = (decimal)random.NextInt64(1, i % 2 == 0 ? 1_000 : 1_000_000_000_000);
            decimal notional;
            try
            {
                notional = (steps * step * price) + hairs[random.Next(hairs.Length)];
            }
            catch (OverflowException)
            {
                continue;
            }

            if (notional > 0)
            {
                AssertSame(notional, price, step);
            }
        }
    }

    [Theory]
    [InlineData("1000000000", "65000.10", "0.001")]
    [InlineData("1000", "0.16543", "1")]
    [InlineData("5.00001", "0.00001", "1")]
    [InlineData("0.00001", "0.00001", "1")]
    [InlineData("0.000009", "0.00001", "1")]
    [InlineData("100", "3", "0.001")]
    [InlineData("1", "3", "0.0000000000000000000000000001")]
    [InlineData("79228162514264337593543950335", "1", "1")]
    [InlineData("79228162514264337593543950335", "0.0000000000000000000000000001", "1")]
    [InlineData("0.0000000000000000000000000001", "79228162514264337593543950335", "0.001")]
    [InlineData("18446744073709551615", "1", "1")]
    [InlineData("18446744073709551616", "1", "1")]
    [InlineData("999999999999.999999", "0.000001", "0.001")]
    [InlineData("0.3", "0.1", "1")]
    [InlineData("2.9999999999999999999999999999", "1", "1")]
    [InlineData("2.999999999999999999999999999", "1", "1")]
    [InlineData("1", "0.3333333333333333333333333333", "1")]
    [InlineData("10", "3.3333333333333333333333333333", "1")]
    [InlineData("1", "0.33333333333333333333333333333", "0.001")]
    public void Edge_values_size_as_the_decimal_division_does(string notional, string price, string step) =>
        AssertSame(Parse(notional), Parse(price), Parse(step));

    [Fact]
    public void A_doge_like_symbol_sizes_whole_coins_as_before()
    {
        var doge = TestRules.Doge;
        for (var ticks = 1; ticks < 200_000; ticks += 7)
        {
            var price = doge.MinPrice + (ticks * doge.TickSize);
            AssertSame(123_456.789m, price, doge.StepSize);
            Assert.Equal(doge.FloorQuantity(123_456.789m / price), doge.QuantityForNotional(123_456.789m, price));
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("-0.000")]
    [InlineData("-100")]
    public void A_notional_of_zero_or_less_sizes_nothing_and_a_price_of_zero_or_less_is_refused(string value)
    {
        var rules = TestRules.Btc;
        var notOk = Parse(value);

        Assert.True(decimal.GetBits(0m).SequenceEqual(decimal.GetBits(rules.QuantityForNotional(notOk, 65_000m))));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => rules.QuantityForNotional(1_000m, notOk));
        Assert.Equal("price", e.ParamName);
    }

    private static void AssertSame(decimal notional, decimal price, decimal step)
    {
        var rules = TestRules.Btc with { StepSize = step };
        decimal expected;
        try
        {
            // What the chaser computed before: the division, then the floor to the step.
            expected = rules.FloorQuantity(notional / price);
        }
        catch (OverflowException)
        {
            Assert.Throws<OverflowException>(() => rules.QuantityForNotional(notional, price));
            return;
        }

        var actual = rules.QuantityForNotional(notional, price);
        Assert.True(
            decimal.GetBits(expected).SequenceEqual(decimal.GetBits(actual)),
            $"{notional} / {price} on a step of {step}: decimal gives {expected} (scale {expected.Scale}), the integer form {actual} (scale {actual.Scale})");
    }

    /// <summary>A price of a few to many digits, never zero.</summary>
    private static decimal Price(Random random) =>
        Math.Max(0.00000001m, Math.Round((decimal)(0.00001 + (random.NextDouble() * Math.Pow(10, random.Next(-4, 7)))), random.Next(1, 9)));

    /// <summary>Any positive decimal: every width of mantissa up to 96 bits, every scale.</summary>
    private static decimal Positive(Random random)
    {
        var width = random.Next(1, 97);
        var lo = random.Next(int.MinValue, int.MaxValue) | 1;
        var mid = width > 32 ? random.Next(int.MinValue, int.MaxValue) : 0;
        var hi = width > 64 ? random.Next(int.MinValue, int.MaxValue) : 0;
        return new decimal(lo, mid, hi, false, (byte)random.Next(29));
    }

    private static decimal Parse(string text) => decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
}
