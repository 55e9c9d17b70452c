using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Chaser.Core.Domain;

/// <summary>What a caller of <see cref="DecimalText.TryParse"/> accepts beyond plain unsigned digits.</summary>
[Flags]
public enum DecimalTextOptions
{
    /// <summary>Digits with at most one '.': <c>0.5</c>, <c>15000</c>, <c>.5</c>.</summary>
    None = 0,

    /// <summary>A leading '-' or '+' (the caller checks the range itself, with its own message).</summary>
    AllowSign = 1,

    /// <summary>
    /// An exponent (<c>1e-05</c>): only for JSON numbers, which serializers (JavaScript, Python) write that way for
    /// small values. The result must still fit the same digit bounds, so 1e400 and 1e-30 are refused, not rounded.
    /// </summary>
    AllowExponent = 2,
}

/// <summary>
/// The one parser for decimals a user gives (command line, API strings and numbers, recorded CSV): invariant, exact,
/// never culture- or separator-dependent ("0,5" is refused, not read as 5), never silently rounded, never throwing.
/// The bounds are what every store keeps exactly: PostgreSQL's <c>numeric(38,18)</c> (at most 20 digits before the
/// point, 18 after) within <see cref="decimal"/>'s 28 significant digits.
/// </summary>
public static class DecimalText
{
    public const int MaxIntegerDigits = 20;

    public const int MaxFractionDigits = 18;

    public const int MaxSignificantDigits = 28;

    /// <summary>Longer text is refused before it is scanned (it cannot be a sensible amount).</summary>
    public const int MaxLength = 64;

    /// <summary>The largest exponent magnitude looked at; anything beyond is out of range whatever the digits.</summary>
    private const int MaxExponentDigits = 4;

    private const string NotANumber = "is not a number: digits with at most one '.', e.g. 0.5";

    /// <summary>
    /// Parses <paramref name="text"/>; on failure <paramref name="reason"/> says why, in words a user can act on
    /// (the caller names the field). Surrounding whitespace is ignored; whitespace inside is not.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out decimal value, [NotNullWhen(false)] out string? reason, DecimalTextOptions options = DecimalTextOptions.None)
    {
        value = 0m;
        text = text.Trim(" \t\r\n");
        if (text.IsEmpty)
        {
            reason = "is empty; give a number like 0.5";
            return false;
        }

        if (text.Length > MaxLength)
        {
            reason = $"is too long (at most {MaxLength} characters)";
            return false;
        }

        var negative = false;
        if (text[0] is '-' or '+')
        {
            if ((options & DecimalTextOptions.AllowSign) == 0)
            {
                reason = text[0] == '-' ? "must not be negative" : "must be written without a sign";
                return false;
            }

            negative = text[0] == '-';
            text = text[1..];
        }

        // digits [. digits] [e [sign] digits]
        var integerEnd = ScanDigits(text, 0);
        var fractionStart = integerEnd;
        var fractionEnd = integerEnd;
        if (fractionStart < text.Length && text[fractionStart] == '.')
        {
            fractionStart++;
            fractionEnd = ScanDigits(text, fractionStart);
        }

        var integerPart = text[..integerEnd];
        var fractionPart = text[fractionStart..fractionEnd];
        if (integerPart.IsEmpty && fractionPart.IsEmpty)
        {
            reason = fractionEnd < text.Length ? Unexpected(text, fractionEnd, options) : NotANumber;
            return false;
        }

        var exponent = 0;
        var position = fractionEnd;
        if (position < text.Length && text[position] is 'e' or 'E' && (options & DecimalTextOptions.AllowExponent) != 0)
        {
            position++;
            var exponentNegative = false;
            if (position < text.Length && text[position] is '-' or '+')
            {
                exponentNegative = text[position] == '-';
                position++;
            }

            var exponentEnd = ScanDigits(text, position);
            var exponentDigits = text[position..exponentEnd].TrimStart('0');
            if (exponentEnd == position)
            {
                reason = "has an exponent without digits";
                return false;
            }

            if (exponentDigits.Length > MaxExponentDigits)
            {
                // Out of range unless the mantissa is zero; the digit checks below say which way.
                exponentDigits = "9999";
            }

            exponent = int.Parse(exponentDigits.IsEmpty ? "0" : exponentDigits, NumberStyles.None, CultureInfo.InvariantCulture);
            exponent = exponentNegative ? -exponent : exponent;
            position = exponentEnd;
        }

        if (position < text.Length)
        {
            reason = Unexpected(text, position, options);
            return false;
        }

        // All digits as one run with the point after `point` of them (the exponent moves the point).
        Span<char> digits = stackalloc char[integerPart.Length + fractionPart.Length];
        integerPart.CopyTo(digits);
        fractionPart.CopyTo(digits[integerPart.Length..]);
        var point = integerPart.Length + exponent;
        var leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits[leadingZeros..];
        point -= leadingZeros;
        var significant = digits.TrimEnd('0').Length;
        if (significant == 0)
        {
            value = 0m;
            reason = null;
            return true;
        }

        var integerDigits = Math.Max(point, 0);
        var fractionDigits = Math.Max(significant - point, 0);
        if (integerDigits > MaxIntegerDigits)
        {
            reason = $"is too large (at most {MaxIntegerDigits} digits before the decimal point)";
            return false;
        }

        if (fractionDigits > MaxFractionDigits)
        {
            reason = $"has more than {MaxFractionDigits} digits after the decimal point";
            return false;
        }

        if (point > 0 && Math.Max(point, significant) > MaxSignificantDigits)
        {
            reason = $"has more than {MaxSignificantDigits} significant digits";
            return false;
        }

        // Trailing zeros the user wrote are kept (0.50 stays 0.50) as far as the bounds allow.
        var keptFraction = Math.Min(Math.Max(digits.Length - point, 0), Math.Min(MaxFractionDigits, MaxSignificantDigits - Math.Max(point, 0)));
        keptFraction = Math.Max(keptFraction, fractionDigits);
        Span<char> normal = stackalloc char[1 + MaxIntegerDigits + 1 + MaxFractionDigits + MaxFractionDigits];
        var length = 0;
        if (negative)
        {
            normal[length++] = '-';
        }

        for (var i = 0; i < Math.Max(point, 1); i++)
        {
            normal[length++] = i < point && i < digits.Length ? digits[i] : '0';
        }

        if (keptFraction > 0)
        {
            normal[length++] = '.';
            for (var i = 0; i < keptFraction; i++)
            {
                var index = point + i;
                normal[length++] = index >= 0 && index < digits.Length ? digits[index] : '0';
            }
        }

        value = decimal.Parse(normal[..length], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        reason = null;
        return true;
    }

    private static int ScanDigits(ReadOnlySpan<char> text, int start)
    {
        var end = start;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        return end;
    }

    private static string Unexpected(ReadOnlySpan<char> text, int position, DecimalTextOptions options)
    {
        var c = text[position];
        return c switch
        {
            ',' => "uses ',': use '.' as the decimal point, no thousands separators",
            '.' => "has more than one '.'",
            'e' or 'E' when (options & DecimalTextOptions.AllowExponent) == 0 && position > 0 => "has an exponent: write the digits out, e.g. 0.00001",
            '_' or '\'' or '\u00A0' or '\u202F' => "has a digit separator: write plain digits, no thousands separators",
            '-' or '+' => "has a sign in the wrong place",
            _ when char.IsWhiteSpace(c) => "has a space inside: write plain digits, no thousands separators",
            _ => NotANumber,
        };
    }
}
