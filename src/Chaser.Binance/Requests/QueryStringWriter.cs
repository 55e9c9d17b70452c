
namespace Chaser.Binance.Requests;

/// <summary>
/// Writes <c>name=value&amp;…</c> as UTF-8 into a caller-supplied buffer (stack or pool), then signs what it wrote and
/// appends <c>signature</c> last. Nothing is allocated: values are formatted straight into the buffer.
/// </summary>
public ref struct QueryStringWriter : IParameterWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public QueryStringWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
    }

    public readonly int Length => _length;

    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    /// <summary>A value that is already URL-safe ASCII (enum spellings such as <c>BUY</c>, <c>GTX</c>).</summary>
    public void AddRaw(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var target = StartParameter(name, value.Length);
        value.CopyTo(target);
        _length += value.Length;
    }

    /// <summary>A text value (symbol, client order id), percent-encoded where needed.</summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<char> value)
    {
        var target = StartParameter(name, value.Length * 3);
        var position = 0;
        foreach (var c in value)
        {
            if (c > 0x7F)
            {
                throw new ArgumentException($"parameter '{System.Text.Encoding.ASCII.GetString(name)}' must be ASCII", nameof(value));
            }

            var b = (byte)c;
            if (UrlEncoding.IsUnreserved(b))
            {
                target[position++] = b;
            }
            else
            {
                position += UrlEncoding.Escape([b], target[position..]);
            }
        }

        _length += position;
    }

    public void Add(ReadOnlySpan<byte> name, long value)
    {
        var target = StartParameter(name, 20);
        if (!DecimalWire.TryFormatInteger(value, target, out var written))
        {
            throw Overflow();
        }

        _length += written;
    }

    public void Add(ReadOnlySpan<byte> name, bool value) => AddRaw(name, value ? "true"u8 : "false"u8);

    /// <summary>A decimal in minimal plain notation.</summary>
    public void Add(ReadOnlySpan<byte> name, decimal value)
    {
        var target = StartParameter(name, DecimalWire.MaxLength);
        _length += DecimalWire.Format(value, target);
    }

    /// <summary>Signs everything written so far (Binance's totalParams) and appends <c>&amp;signature=…</c>.</summary>
    public void Sign(Signing.IRequestSigner signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var totalParams = _buffer[.._length];
        var target = StartParameter("signature"u8, signer.MaxSignatureLength);
        _length += signer.Sign(totalParams, target);
    }

    private Span<byte> StartParameter(ReadOnlySpan<byte> name, int maxValueLength)
    {
        var needed = (_length > 0 ? 1 : 0) + name.Length + 1 + maxValueLength;
        if (_buffer.Length - _length < needed)
        {
            throw Overflow();
        }

        if (_length > 0)
        {
            _buffer[_length++] = (byte)'&';
        }

        name.CopyTo(_buffer[_length..]);
        _length += name.Length;
        _buffer[_length++] = (byte)'=';
        return _buffer[_length..];
    }

    private static InvalidOperationException Overflow() =>
        new("the request buffer is too small for the query string");
}
