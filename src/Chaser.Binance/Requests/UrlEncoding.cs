namespace Chaser.Binance;

/// <summary>Percent-encoding of parameter values (RFC 3986 unreserved characters pass through).</summary>
internal static class UrlEncoding
{
    private static ReadOnlySpan<byte> UpperHex => "0123456789ABCDEF"u8;

    public static bool IsUnreserved(byte c) =>
        c is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~';

    /// <summary>Writes <paramref name="value"/> percent-encoded; returns the bytes written.</summary>
    public static int Escape(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        var position = 0;
        foreach (var c in value)
        {
            if (IsUnreserved(c))
            {
                destination[position++] = c;
            }
            else
            {
                destination[position++] = (byte)'%';
                destination[position++] = UpperHex[c >> 4];
                destination[position++] = UpperHex[c & 0xF];
            }
        }

        return position;
    }
}
