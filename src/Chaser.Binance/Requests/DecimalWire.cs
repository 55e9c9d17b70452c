using System.Globalization;

namespace Chaser.Binance;

/// <summary>
/// Decimal ↔ wire text. Binance takes plain decimal notation: no exponent, no thousands separator, and we send no
/// trailing zeros (<c>65000.1</c>, not <c>65000.10000000</c>) so the text is the same whatever scale arithmetic left on
/// the value.
/// </summary>
public static class DecimalWire
{
    /// <summary>The longest text a decimal can take: 29 digits, sign, point and a leading zero.</summary>
    public const int MaxLength = 32;

    /// <summary>Writes <paramref name="value"/> in minimal plain notation; returns the bytes written.</summary>
    /// <remarks>
    /// Every price and quantity of every request comes through here, so a value whose mantissa fits 64 bits (all of
    /// them) is written from its integer and scale, trailing zeros dropped from the integer; the rest goes through
    /// decimal's own formatting. Both write the same text (<c>DecimalFormatTests</c>).
    /// </remarks>
    public static int Format(decimal value, Span<byte> destination)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        if (bits[2] != 0)
        {
            return FormatAny(value, destination);
        }

        var mantissa = ((ulong)(uint)bits[1] << 32) | (uint)bits[0];
        var scale = (bits[3] >> 16) & 0xFF;
        while (scale > 0 && mantissa % 10 == 0)
        {
            mantissa /= 10;
            scale--;
        }

        // A zero has no sign on the wire (as "-0.000" trims to "0" below).
        var negative = bits[3] < 0 && mantissa != 0;

        // Written backwards: the fraction's digits (zeros once the mantissa runs out), the point, the integer's (at
        // least one), the sign.
        Span<byte> text = stackalloc byte[MaxLength];
        var at = MaxLength;
        for (var i = 0; i < scale; i++)
        {
            var next = mantissa / 10;
            text[--at] = (byte)('0' + (mantissa - (next * 10)));
            mantissa = next;
        }

        if (scale > 0)
        {
            text[--at] = (byte)'.';
        }

        do
        {
            var next = mantissa / 10;
            text[--at] = (byte)('0' + (mantissa - (next * 10)));
            mantissa = next;
        }
        while (mantissa != 0);

        if (negative)
        {
            text[--at] = (byte)'-';
        }

        var length = MaxLength - at;
        if (destination.Length < length)
        {
            throw new ArgumentException("destination too small for a decimal", nameof(destination));
        }

        text[at..].CopyTo(destination);
        return length;
    }

    /// <summary>Decimal's own formatting, trimmed: for mantissas past 64 bits, and the reference the fast path is tested against.</summary>
    internal static int FormatAny(decimal value, Span<byte> destination)
    {
        // decimal's default format never uses an exponent; it keeps the value's scale, which is trimmed below.
        if (!value.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture))
        {
            throw new ArgumentException("destination too small for a decimal", nameof(destination));
        }

        if (destination[..written].IndexOf((byte)'.') < 0)
        {
            return written;
        }

        while (destination[written - 1] == (byte)'0')
        {
            written--;
        }

        if (destination[written - 1] == (byte)'.')
        {
            written--;
        }

        // "-0.000" trims to "-0": a zero has no sign on the wire.
        if (written == 2 && destination[0] == (byte)'-' && destination[1] == (byte)'0')
        {
            destination[0] = (byte)'0';
            written = 1;
        }

        return written;
    }

    /// <summary>
    /// An integer in decimal digits (a JSON number: timestamps, ids), as <see cref="System.Buffers.Text.Utf8Formatter"/>
    /// writes it, without its general formatting's set-up: each request carries three or four.
    /// </summary>
    public static bool TryFormatInteger(long value, Span<byte> destination, out int written)
    {
        if (value < 0)
        {
            return System.Buffers.Text.Utf8Formatter.TryFormat(value, destination, out written);
        }

        var remaining = (ulong)value;
        written = 1;
        for (var power = 10UL; written < 19 && remaining >= power; power *= 10)
        {
            written++;
        }

        if (destination.Length < written)
        {
            written = 0;
            return false;
        }

        for (var i = written - 1; i > 0; i--)
        {
            var next = remaining / 10;
            destination[i] = (byte)('0' + (remaining - (next * 10)));
            remaining = next;
        }

        destination[0] = (byte)('0' + remaining);
        return true;
    }

    /// <summary>The minimal text as a string (diagnostics and tests; the hot path writes bytes).</summary>
    public static string ToText(decimal value)
    {
        Span<byte> buffer = stackalloc byte[MaxLength];
        var length = Format(value, buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..length]);
    }

    /// <summary>
    /// Parses a decimal from UTF-8 text as Binance sends it (<c>"27981.30000000"</c>, <c>"0"</c>, <c>"-1.5"</c>). Plain
    /// notation only: an exponent or any trailing byte fails.
    /// </summary>
    /// <remarks>
    /// Every price and quantity of every frame comes through here, so the common shape, <c>-?digits[.digits]</c> with
    /// at most 19 digits in all, is read in one pass into a 64-bit mantissa and its scale
    /// (exact: the decimal is that integer over 10^scale, trailing zeros kept as the scale, as
    /// <see cref="decimal.Parse(string, IFormatProvider)"/> keeps them). Anything else (more digits, a sign of +, no
    /// digit before or after the point, a stray byte) goes to <see cref="System.Buffers.Text.Utf8Parser"/>, which
    /// decides as it always did.
    /// </remarks>
    public static bool TryParse(ReadOnlySpan<byte> text, out decimal value)
    {
        var i = 0;
        var negative = false;
        if (text.Length > 0 && text[0] == (byte)'-')
        {
            negative = true;
            i = 1;
        }

        // The integer digits, then (after a point) the fraction's, each in a tight loop; past 19 digits in all (where
        // 64 bits could overflow) the general parser decides, leading zeros included, which are rare on the wire.
        ulong mantissa = 0;
        var start = i;
        while (i < text.Length && (uint)(text[i] - '0') <= 9)
        {
            mantissa = (mantissa * 10) + (uint)(text[i] - '0');
            i++;
        }

        var integerDigits = i - start;
        var fractionDigits = 0;
        if (i < text.Length)
        {
            if (text[i] != (byte)'.')
            {
                return TryParseAny(text, out value);
            }

            start = ++i;
            while (i < text.Length && (uint)(text[i] - '0') <= 9)
            {
                mantissa = (mantissa * 10) + (uint)(text[i] - '0');
                i++;
            }

            fractionDigits = i - start;
            if (i < text.Length || fractionDigits == 0)
            {
                return TryParseAny(text, out value);
            }
        }

        if (integerDigits == 0 || integerDigits + fractionDigits > 19)
        {
            return TryParseAny(text, out value);
        }

        // "-0" keeps its sign bit, as the general parser keeps it (equal to 0; DecimalWire.Format writes it "0").
        value = new decimal((int)mantissa, (int)(mantissa >> 32), 0, negative, (byte)fractionDigits);
        return true;
    }

    /// <summary>The general parser: every input the one-pass path above leaves to it.</summary>
    internal static bool TryParseAny(ReadOnlySpan<byte> text, out decimal value) =>
        System.Buffers.Text.Utf8Parser.TryParse(text, out value, out var consumed, 'F') && consumed == text.Length;

    /// <summary>Parses or throws <see cref="FormatException"/> naming the field (never the whole message).</summary>
    public static decimal Parse(ReadOnlySpan<byte> text, string field) =>
        TryParse(text, out var value) ? value : throw new FormatException($"'{field}' is not a decimal");
}
