using Chaser.Binance.Requests;

namespace Chaser.Binance.Tests;

/// <summary>The request builder's grid check says exactly what decimal's remainder says, over every kind of value.</summary>
public sealed class GridCheckTests
{
    [Fact]
    public void Is_multiple_agrees_with_the_decimal_remainder_on_random_values_of_every_scale_and_size()
    {
        var random = new Random(17);
        decimal[] increments = [0.1m, 0.10m, 0.01m, 0.001m, 0.0001m, 1m, 5m, 0.5m, 0.25m, 0.00001000m, 10m, 0.0000001m, 0.000000000000000000001m, 7.3m, 1000m];
        var multiples = 0;
        for (var i = 0; i < 200_000; i++)
        {
            var increment = i % 5 == 0 ? RandomDecimal(random) : increments[random.Next(increments.Length)];
            if (increment <= 0)
            {
                continue;
            }

            // Half exact multiples (some with trailing zeros, some huge), half anything.
            var value = i % 2 == 0
                ? Math.Round(increment * random.Next(-1_000_000, 1_000_000), 28) * (random.Next(3) == 0 ? 1.000m : 1m)
                : RandomDecimal(random);
            bool expected;
            try
            {
                expected = value % increment == 0;
            }
            catch (OverflowException)
            {
                continue;
            }

            multiples += expected ? 1 : 0;
            Assert.True(expected == OrderParameters.IsMultiple(value, increment), $"{value} on a grid of {increment}: % says {expected}");
        }

        Assert.True(multiples > 50_000, $"only {multiples} multiples: the test would not see a wrong 'false'");
    }

    [Theory]
    [InlineData("65000.1", "0.1", true)]
    [InlineData("65000.15", "0.1", false)]
    [InlineData("65000.10000000", "0.10", true)]
    [InlineData("0.0105", "0.001", false)]
    [InlineData("79228162514264337593543950335", "5", true)]
    [InlineData("79228162514264337593543950334", "5", false)]
    [InlineData("0.0000000000000000000000000001", "0.0000000000000000000000000001", true)]
    [InlineData("-0.3", "0.1", true)]
    [InlineData("0", "0.1", true)]
    public void Is_multiple_on_the_edges(string value, string increment, bool multiple)
    {
        var v = decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        var step = decimal.Parse(increment, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(v % step == 0, multiple);
        Assert.Equal(multiple, OrderParameters.IsMultiple(v, step));
    }

    [Fact]
    public void Is_on_grid_agrees_with_the_decimal_difference_and_remainder_on_random_prices_origins_and_ticks()
    {
        var random = new Random(19);
        decimal[] ticks = [0.1m, 0.10m, 0.01m, 0.00001m, 0.5m, 1m, 0.0000001m, 10m, 0.25m];
        decimal[] origins = [0m, 261.10m, 556.80m, 0.00244m, 0.01m, 0.3m, 39.86m, 1m];
        var onGrid = 0;
        for (var i = 0; i < 300_000; i++)
        {
            var tick = i % 7 == 0 ? Math.Abs(RandomDecimal(random)) : ticks[random.Next(ticks.Length)];
            var origin = i % 5 == 0 ? RandomDecimal(random) : origins[random.Next(origins.Length)];
            if (tick <= 0)
            {
                continue;
            }

            // Half on the grid (some with trailing zeros), half anywhere.
            decimal value;
            bool expected;
            try
            {
                value = i % 2 == 0
                    ? (origin + (tick * random.Next(0, 10_000_000))) * (random.Next(3) == 0 ? 1.000m : 1m)
                    : RandomDecimal(random);
                expected = (value - origin) % tick == 0;
            }
            catch (OverflowException)
            {
                continue;
            }

            onGrid += expected ? 1 : 0;
            Assert.True(expected == OrderParameters.IsOnGrid(value, origin, tick), $"{value} on a grid of {tick} from {origin}: decimal says {expected}");
        }

        Assert.True(onGrid > 100_000, $"only {onGrid} values on the grid: the test would not see a wrong 'false'");
    }

    [Fact]
    public void Positive_on_grid_agrees_with_the_decimal_comparisons_and_remainder_whatever_the_signs()
    {
        var random = new Random(20);
        decimal[] specials = [0m, -0m, new decimal(0, 0, 0, true, 3), 0.000m, -0.1m, 0.1m, 1m, -1m, 261.10m];
        for (var i = 0; i < 300_000; i++)
        {
            var value = random.Next(4) == 0 ? specials[random.Next(specials.Length)] : RandomDecimal(random);
            var origin = random.Next(3) == 0 ? specials[random.Next(specials.Length)] : RandomDecimal(random);
            var increment = random.Next(3) == 0 ? specials[random.Next(specials.Length)] : RandomDecimal(random);
            if (i % 2 == 0 && increment > 0)
            {
                try
                {
                    value = origin + (increment * random.Next(-1000, 1_000_000));
                }
                catch (OverflowException)
                {
                    continue;
                }
            }

            bool expected;
            try
            {
                expected = value > 0 && (increment <= 0 || (value - origin) % increment == 0);
            }
            catch (OverflowException)
            {
                continue;
            }

            Assert.True(expected == OrderParameters.IsPositiveOnGrid(value, origin, increment), $"{value} on a grid of {increment} from {origin}: decimal says {expected}");
        }
    }

    private static decimal RandomDecimal(Random random)
    {
        var lo = random.Next();
        var mid = random.Next(4) == 0 ? random.Next() : random.Next(1000);
        var hi = random.Next(8) == 0 ? random.Next(1000) : 0;
        return new decimal(lo, mid, hi, random.Next(5) == 0, (byte)random.Next(29));
    }
}
