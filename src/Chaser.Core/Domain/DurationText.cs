using System.Globalization;

namespace Chaser.Core.Domain;

/// <summary>
/// The one parser for durations a user gives (a deadline, a time limit, a look-back): <c>90s</c>, <c>10m</c>,
/// <c>1h30m</c>, <c>500ms</c>, <c>2d</c>, <c>00:10:00</c> or <c>0</c>; amounts through <see cref="DecimalText"/>, bounded, never
/// through floating point.
/// </summary>
public static class DurationText
{
    /// <summary>The longest duration accepted: far beyond any deadline, well inside <see cref="TimeSpan"/>.</summary>
    private const decimal MaxDurationMilliseconds = 100m * 365 * 86_400_000;

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
        }

        var span = text.AsSpan().Trim();
        if (span.IsEmpty)
        {
            return false;
        }

        // Zero needs no unit ("0" is as clear as "0s"), and every caller that allows zero must read it alike: a bound
        // of "0 to 10m" that refuses "0" is a contradiction. Another number without a unit stays ambiguous.
        if (span is "0")
        {
            return true;
        }

        var total = 0m;
        while (!span.IsEmpty)
        {
            var digits = 0;
            while (digits < span.Length && (char.IsAsciiDigit(span[digits]) || span[digits] == '.'))
            {
                digits++;
            }

            if (digits == 0 || !DecimalText.TryParse(span[..digits], out var amount, out _))
            {
                return false;
            }

            span = span[digits..];
            var unit = 0;
            while (unit < span.Length && char.IsAsciiLetter(span[unit]))
            {
                unit++;
            }

            var seconds = span[..unit] switch
            {
                "ms" => 0.001m,
                "s" => 1m,
                "m" => 60m,
                "h" => 3600m,
                "d" => 86400m,
                _ => -1m,
            };
            if (seconds < 0)
            {
                return false;
            }

            // Bounded before converting, so "99999999999d" is refused rather than overflowing TimeSpan.
            var milliseconds = amount * seconds * 1000m;
            total += milliseconds;
            if (total > MaxDurationMilliseconds)
            {
                return false;
            }

            span = span[unit..];
        }

        value = TimeSpan.FromTicks((long)(total * TimeSpan.TicksPerMillisecond));
        return true;
    }
}
