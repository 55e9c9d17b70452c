using Chaser.Core.Rules;

namespace Chaser.Binance.Requests;

/// <summary>
/// Writes the WebSocket API's order requests (<c>order.place</c>, <c>order.modify</c>, <c>order.cancel</c>) as
/// complete JSON text frames into a caller-supplied buffer (stack or pool) and returns their length: the parameters
/// from <see cref="OrderParameters"/> (the same as REST's, rounded and checked in the same place), with
/// <c>apiKey</c>, signed once over the sorted <c>k=v&amp;…</c> payload, nothing allocated (API notes §8).
/// </summary>
public static class WsApiRequests
{
    /// <summary>Enough for any frame written here with the longest signer and a 64-character API key.</summary>
    public const int MaxFrameLength = 2048;

    public static int OrderPlace(Span<byte> destination, long requestId, in NewOrder order, SymbolRules rules, ReadOnlySpan<char> apiKey, in SigningContext signing)
    {
        Span<byte> payload = stackalloc byte[WsApiFrameWriter.MaxPayloadLength];
        var frame = new WsApiFrameWriter(destination, payload, requestId, "order.place"u8, apiKey);
        OrderParameters.NewOrder(ref frame, order, rules, signing);
        return frame.Sign(signing.Signer);
    }

    public static int OrderModify(Span<byte> destination, long requestId, in ModifyOrder modify, SymbolRules rules, ReadOnlySpan<char> apiKey, in SigningContext signing)
    {
        Span<byte> payload = stackalloc byte[WsApiFrameWriter.MaxPayloadLength];
        var frame = new WsApiFrameWriter(destination, payload, requestId, "order.modify"u8, apiKey);
        OrderParameters.ModifyOrder(ref frame, modify, rules, signing);
        return frame.Sign(signing.Signer);
    }

    /// <summary>Cancels by our client order id.</summary>
    public static int OrderCancel(Span<byte> destination, long requestId, string symbol, string clientOrderId, ReadOnlySpan<char> apiKey, in SigningContext signing)
    {
        Span<byte> payload = stackalloc byte[WsApiFrameWriter.MaxPayloadLength];
        var frame = new WsApiFrameWriter(destination, payload, requestId, "order.cancel"u8, apiKey);
        OrderParameters.ByClientOrderId(ref frame, symbol, clientOrderId, signing);
        return frame.Sign(signing.Signer);
    }

    /// <summary>
    /// <c>order.place</c> on a connection authenticated by <see cref="SessionLogon"/>: no <c>apiKey</c>, no
    /// <c>signature</c>, the timestamp and recvWindow still sent (Binance checks them on every SIGNED request); the
    /// signer of <paramref name="signing"/> is not used.
    /// </summary>
    public static int OrderPlaceLoggedOn(Span<byte> destination, long requestId, in NewOrder order, SymbolRules rules, in SigningContext signing)
    {
        var frame = new WsApiFrameWriter(destination, requestId, "order.place"u8);
        OrderParameters.NewOrder(ref frame, order, rules, signing);
        return frame.Close();
    }

    /// <summary><c>order.modify</c> on a logged-on connection (see <see cref="OrderPlaceLoggedOn"/>).</summary>
    public static int OrderModifyLoggedOn(Span<byte> destination, long requestId, in ModifyOrder modify, SymbolRules rules, in SigningContext signing)
    {
        var frame = new WsApiFrameWriter(destination, requestId, "order.modify"u8);
        OrderParameters.ModifyOrder(ref frame, modify, rules, signing);
        return frame.Close();
    }

    /// <summary><c>order.cancel</c> by our client order id on a logged-on connection (see <see cref="OrderPlaceLoggedOn"/>).</summary>
    public static int OrderCancelLoggedOn(Span<byte> destination, long requestId, string symbol, string clientOrderId, in SigningContext signing)
    {
        var frame = new WsApiFrameWriter(destination, requestId, "order.cancel"u8);
        OrderParameters.ByClientOrderId(ref frame, symbol, clientOrderId, signing);
        return frame.Close();
    }

    /// <summary>
    /// <c>session.logon</c>: authenticates the connection with the API key, signed over <c>apiKey</c>,
    /// <c>recvWindow</c> and <c>timestamp</c> sorted. Binance accepts it from Ed25519 keys only (an HMAC key is
    /// answered -4056); afterwards requests may leave out <c>apiKey</c> and <c>signature</c>.
    /// </summary>
    public static int SessionLogon(Span<byte> destination, long requestId, ReadOnlySpan<char> apiKey, in SigningContext signing)
    {
        Span<byte> payload = stackalloc byte[WsApiFrameWriter.MaxPayloadLength];
        var frame = new WsApiFrameWriter(destination, payload, requestId, "session.logon"u8, apiKey);
        frame.Add("recvWindow"u8, (long)signing.RecvWindowMs);
        frame.Add("timestamp"u8, signing.TimestampMs);
        return frame.Sign(signing.Signer);
    }
}

/// <summary>
/// One WebSocket API request frame, <c>{"id":"…","method":"…","params":{"apiKey":"…",…,"signature":"…"}}</c>,
/// written in one pass: each parameter goes into the JSON frame (integers as numbers, everything else as strings,
/// escaped) and, raw, into the signature payload. Parameters must come in ordinal order of their names (after
/// <c>apiKey</c>), which is the order the payload is signed in; anything else is refused, never signed wrongly.
/// A frame for a logged-on connection (<c>session.logon</c>) has neither apiKey nor signature, and no payload is kept.
/// </summary>
public ref struct WsApiFrameWriter : IParameterWriter
{
    /// <summary>The longest signature payload accepted: every order request with a 64-character API key fits with room.</summary>
    public const int MaxPayloadLength = 1024;

    private readonly Span<byte> _frame;
    private readonly Span<byte> _payload;
    private readonly bool _signed;
    private int _frameLength;
    private int _payloadLength;
    private int _lastNameStart;
    private int _lastNameLength;

    /// <summary>Starts a signed frame: its id, method and the first parameter, <c>apiKey</c>.</summary>
    public WsApiFrameWriter(Span<byte> frame, Span<byte> payload, long requestId, ReadOnlySpan<byte> method, ReadOnlySpan<char> apiKey)
    {
        _frame = frame;
        _payload = payload;
        _signed = true;
        _frameLength = 0;
        _payloadLength = 0;
        _lastNameStart = 0;
        _lastNameLength = 0;
        Start(requestId, method);
        Add("apiKey"u8, apiKey);
    }

    /// <summary>
    /// Starts a frame for a connection authenticated by <c>session.logon</c>: no apiKey, no signature, so no payload
    /// either (the order of the names is still checked); finish it with <see cref="Close"/>.
    /// </summary>
    public WsApiFrameWriter(Span<byte> frame, long requestId, ReadOnlySpan<byte> method)
    {
        _frame = frame;
        _payload = default;
        _signed = false;
        _frameLength = 0;
        _payloadLength = 0;
        _lastNameStart = 0;
        _lastNameLength = 0;
        Start(requestId, method);
    }

    private void Start(long requestId, ReadOnlySpan<byte> method)
    {
        // A string id: Binance echoes it as sent, and its digits are read back without allocating.
        Append("{\"id\":\""u8);
        if (!DecimalWire.TryFormatInteger(requestId, Reserve(20), out var written))
        {
            throw Overflow();
        }

        _frameLength += written;
        Append("\",\"method\":\""u8);
        AppendEscaped(method);
        Append("\",\"params\":{"u8);
    }

    public void AddRaw(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        StartParameter(name);
        AppendQuoted(value);
        if (_signed)
        {
            AppendPayload(value);
        }
    }

    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<char> value)
    {
        StartParameter(name);
        if (_signed)
        {
            var text = ReservePayload(value.Length)[..value.Length];
            var copied = JsonEscaping.CopyAscii(value, text);
            if (copied == JsonEscaping.NotAscii)
            {
                throw new ArgumentException(NotAscii(name), nameof(value));
            }

            _payloadLength += value.Length;
            AppendQuoted(text, copied == JsonEscaping.Plain);
            return;
        }

        // Straight into the frame between its quotes; only text that needs escaping (never an id or a symbol of ours)
        // is written twice.
        var target = Reserve(value.Length + 2);
        var status = JsonEscaping.CopyAscii(value, target[1..]);
        if (status == JsonEscaping.NotAscii)
        {
            throw new ArgumentException(NotAscii(name), nameof(value));
        }

        if (status == JsonEscaping.Plain)
        {
            target[0] = (byte)'"';
            target[value.Length + 1] = (byte)'"';
            _frameLength += value.Length + 2;
            return;
        }

        Append("\""u8);
        foreach (var c in value)
        {
            AppendEscaped((byte)c);
        }

        Append("\""u8);
    }

    /// <summary>As REST refuses it (QueryStringWriter): Binance's identifiers are ASCII.</summary>
    private static string NotAscii(ReadOnlySpan<byte> name) => $"parameter '{System.Text.Encoding.ASCII.GetString(name)}' must be ASCII";

    public void Add(ReadOnlySpan<byte> name, long value)
    {
        StartParameter(name);
        var target = _signed ? ReservePayload(20) : Reserve(20);
        if (!DecimalWire.TryFormatInteger(value, target, out var written))
        {
            throw Overflow();
        }

        if (_signed)
        {
            var digits = _payload.Slice(_payloadLength, written);
            _payloadLength += written;
            Append(digits);
        }
        else
        {
            _frameLength += written;
        }
    }

    public void Add(ReadOnlySpan<byte> name, bool value) => AddRaw(name, value ? "true"u8 : "false"u8);

    public void Add(ReadOnlySpan<byte> name, decimal value)
    {
        StartParameter(name);
        var target = Reserve(DecimalWire.MaxLength + 2);
        var written = DecimalWire.Format(value, target[1..]);
        target[0] = (byte)'"';
        target[written + 1] = (byte)'"';
        if (_signed)
        {
            AppendPayload(target.Slice(1, written));
        }

        _frameLength += written + 2;
    }

    /// <summary>Signs the payload once and closes the frame with <c>signature</c>; returns the frame's length.</summary>
    public int Sign(Signing.IRequestSigner signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        if (!_signed)
        {
            throw new InvalidOperationException("a frame for a logged-on connection is closed, not signed");
        }

        Span<byte> signature = stackalloc byte[signer.MaxSignatureLength];
        var length = signer.SignPlain(_payload[.._payloadLength], signature);
        Append(",\"signature\":\""u8);
        AppendEscaped(signature[..length]);
        Append("\"}}"u8);
        return _frameLength;
    }

    /// <summary>Closes a frame for a logged-on connection (no signature); returns the frame's length.</summary>
    public int Close()
    {
        if (_signed)
        {
            throw new InvalidOperationException("a signed frame must be closed by Sign");
        }

        Append("}}"u8);
        return _frameLength;
    }

    /// <summary>The parameter's name in the frame; its position there is kept for the order check (names are plain ASCII).</summary>
    private void StartParameter(ReadOnlySpan<byte> name)
    {
        var first = _lastNameLength == 0;
        if (!first)
        {
            var last = _frame.Slice(_lastNameStart, _lastNameLength);
            if (name.SequenceCompareTo(last) <= 0)
            {
                throw OutOfOrder(name, last);
            }

            if (_signed)
            {
                AppendPayload("&"u8);
            }
        }

        if (JsonEscaping.IsPlain(name))
        {
            // ,"name": written at once (every name of ours).
            var target = Reserve(name.Length + 4);
            var at = 0;
            if (!first)
            {
                target[at++] = (byte)',';
            }

            target[at++] = (byte)'"';
            name.CopyTo(target[at..]);
            _lastNameStart = _frameLength + at;
            at += name.Length;
            target[at++] = (byte)'"';
            target[at++] = (byte)':';
            _frameLength += at;
            _lastNameLength = name.Length;
        }
        else
        {
            StartEscapedName(name, first);
        }

        if (_signed)
        {
            AppendPayload(name);
            AppendPayload("="u8);
        }
    }

    /// <summary>A name that needs escaping (never one of ours): kept out of the common path.</summary>
    private void StartEscapedName(ReadOnlySpan<byte> name, bool first)
    {
        if (!first)
        {
            Append(","u8);
        }

        Append("\""u8);
        _lastNameStart = _frameLength;
        AppendEscaped(name);
        _lastNameLength = _frameLength - _lastNameStart;
        Append("\":"u8);
    }

    private static InvalidOperationException OutOfOrder(ReadOnlySpan<byte> name, ReadOnlySpan<byte> last) =>
        new($"WebSocket API parameters are signed in alphabetical order: '{System.Text.Encoding.ASCII.GetString(name)}' came after '{System.Text.Encoding.ASCII.GetString(last)}'");

    /// <summary>A JSON string: quoted, escaped where it must be; one copy when nothing needs escaping.</summary>
    private void AppendQuoted(scoped ReadOnlySpan<byte> text) => AppendQuoted(text, JsonEscaping.IsPlain(text));

    private void AppendQuoted(scoped ReadOnlySpan<byte> text, bool plain)
    {
        if (!plain)
        {
            Append("\""u8);
            AppendEscaped(text);
            Append("\""u8);
            return;
        }

        var target = Reserve(text.Length + 2);
        target[0] = (byte)'"';
        text.CopyTo(target[1..]);
        target[text.Length + 1] = (byte)'"';
        _frameLength += text.Length + 2;
    }

    private void Append(scoped ReadOnlySpan<byte> text)
    {
        text.CopyTo(Reserve(text.Length));
        _frameLength += text.Length;
    }

    /// <summary>JSON string content: quote, backslash and control characters escaped, everything else as it is.</summary>
    private void AppendEscaped(scoped ReadOnlySpan<byte> text)
    {
        // The runs with nothing to escape (all of it, in every frame we send) are copied whole.
        var plain = text.IndexOfAny(JsonEscaping.Needed);
        while (plain >= 0)
        {
            Append(text[..plain]);
            AppendEscaped(text[plain]);
            text = text[(plain + 1)..];
            plain = text.IndexOfAny(JsonEscaping.Needed);
        }

        Append(text);
    }

    private void AppendEscaped(byte c)
    {
        if (c is (byte)'"' or (byte)'\\')
        {
            var target = Reserve(2);
            target[0] = (byte)'\\';
            target[1] = c;
            _frameLength += 2;
        }
        else if (c < 0x20 || c == 0x7F)
        {
            var target = Reserve(6);
            "\\u00"u8.CopyTo(target);
            target[4] = HexDigit(c >> 4);
            target[5] = HexDigit(c & 0xF);
            _frameLength += 6;
        }
        else
        {
            Reserve(1)[0] = c;
            _frameLength++;
        }
    }

    private void AppendPayload(scoped ReadOnlySpan<byte> text)
    {
        text.CopyTo(ReservePayload(text.Length));
        _payloadLength += text.Length;
    }

    private readonly Span<byte> Reserve(int length) =>
        _frame.Length - _frameLength >= length ? _frame[_frameLength..] : throw Overflow();

    private readonly Span<byte> ReservePayload(int length) =>
        _payload.Length - _payloadLength >= length ? _payload[_payloadLength..] : throw Overflow();

    private static byte HexDigit(int value) => (byte)(value < 10 ? '0' + value : 'a' + value - 10);

    private static InvalidOperationException Overflow() =>
        new("the request buffer is too small for the WebSocket API frame");
}

/// <summary>The bytes a JSON string may not carry as they are: quote, backslash, control characters and DEL.</summary>
internal static class JsonEscaping
{
    public static readonly System.Buffers.SearchValues<byte> Needed = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\', 0x7F]);

    /// <summary>What <see cref="CopyAscii"/> found: nothing to escape, something to escape, or a character past ASCII.</summary>
    public const int Plain = 0, Escape = 1, NotAscii = 2;

    /// <summary>Whether the text needs no escaping at all.</summary>
    public static bool IsPlain(ReadOnlySpan<byte> text)
    {
        var escapes = 0;
        foreach (var c in text)
        {
            escapes |= Escapes[c];
        }

        return escapes == 0;
    }

    /// <summary>Copies text into bytes in one pass, saying whether it is plain, needs escaping or is not ASCII (then stop).</summary>
    public static int CopyAscii(ReadOnlySpan<char> text, Span<byte> destination)
    {
        destination = destination[..text.Length];
        var escapes = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c > 0x7F)
            {
                return NotAscii;
            }

            escapes |= Escapes[c];
            destination[i] = (byte)c;
        }

        return escapes == 0 ? Plain : Escape;
    }

    /// <summary>1 for each byte a JSON string may not carry as it is (control characters, quote, backslash, DEL).</summary>
    private static ReadOnlySpan<byte> Escapes =>
    [
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
}
