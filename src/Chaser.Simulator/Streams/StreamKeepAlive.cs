namespace Chaser.Simulator.Streams;

/// <summary>
/// Binance's keep-alive rule for the USDⓈ-M market/user streams (binance-futures-api.md §6; Binance's USDⓈ-M
/// "Websocket Market Streams" page): the server pings every 3 minutes and drops a connection from which no pong frame
/// came back within 10 minutes; unsolicited pongs are allowed and keep the connection (the page: "the client can send
/// pong frames … to maintain the connection"). Only pong frames count, not other messages.
/// </summary>
internal sealed class PongWatch(TimeProvider clock, TimeSpan timeout)
{
    private readonly Lock gate = new();
    private long? oldestUnanswered;

    /// <summary>How often to look: a tenth of the timeout, between 10 ms and 1 s.</summary>
    public TimeSpan CheckPeriod { get; } = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 10, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));

    /// <summary>A ping went out to the client.</summary>
    public void OnPingSent()
    {
        lock (gate)
        {
            oldestUnanswered ??= clock.GetTimestamp();
        }
    }

    /// <summary>A pong came in, echoing a ping or unsolicited: either answers every ping so far.</summary>
    public void OnPongReceived()
    {
        lock (gate)
        {
            oldestUnanswered = null;
        }
    }

    /// <summary>Whether the oldest unanswered ping has waited longer than the timeout.</summary>
    public bool Expired()
    {
        lock (gate)
        {
            return oldestUnanswered is { } sentAt && clock.GetElapsedTime(sentAt) > timeout;
        }
    }
}

/// <summary>
/// Follows a WebSocket byte stream frame by frame (RFC 6455 §5.2) and reports each control frame (close, ping,
/// pong) with its unmasked payload; data payloads are only counted past.
/// </summary>
internal sealed class FrameScanner(Action<int, byte[]> onControlFrame)
{
    private const int MaxControlPayload = 125;
    private readonly byte[] mask = new byte[4];
    private State state = State.Opcode;
    private int opcode;
    private bool masked;
    private int needed;
    private long length;
    private long remaining;
    private byte[]? control;
    private int maskRead;

    /// <summary>True between frames: bytes of another frame may go out here without cutting one in two.</summary>
    public bool AtFrameStart => state == State.Opcode;

    private enum State
    {
        Opcode,
        Length,
        ExtendedLength,
        Mask,
        Payload,
    }

    public void Scan(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            var b = bytes[i];
            switch (state)
            {
                case State.Opcode:
                    opcode = b & 0x0F;
                    state = State.Length;
                    i++;
                    break;
                case State.Length:
                    masked = (b & 0x80) != 0;
                    length = b & 0x7F;
                    i++;
                    if (length >= 126)
                    {
                        needed = length == 126 ? 2 : 8;
                        length = 0;
                        state = State.ExtendedLength;
                    }
                    else
                    {
                        StartMaskOrPayload();
                    }

                    break;
                case State.ExtendedLength:
                    length = (length << 8) | b;
                    i++;
                    if (--needed == 0)
                    {
                        StartMaskOrPayload();
                    }

                    break;
                case State.Mask:
                    mask[maskRead++] = b;
                    i++;
                    if (maskRead == 4)
                    {
                        StartPayload();
                    }

                    break;
                case State.Payload:
                    var take = (int)Math.Min(remaining, bytes.Length - i);
                    if (control is not null)
                    {
                        var offset = (int)(length - remaining);
                        for (var k = 0; k < take; k++)
                        {
                            var at = offset + k;
                            control[at] = masked ? (byte)(bytes[i + k] ^ mask[at % 4]) : bytes[i + k];
                        }
                    }

                    remaining -= take;
                    i += take;
                    if (remaining == 0)
                    {
                        EndFrame();
                    }

                    break;
            }
        }
    }

    private void StartMaskOrPayload()
    {
        if (masked)
        {
            maskRead = 0;
            state = State.Mask;
        }
        else
        {
            StartPayload();
        }
    }

    private void StartPayload()
    {
        remaining = length;
        control = opcode >= 0x8 && length <= MaxControlPayload ? new byte[length] : null;
        state = State.Payload;
        if (remaining == 0)
        {
            EndFrame();
        }
    }

    private void EndFrame()
    {
        if (control is not null)
        {
            onControlFrame(opcode, control);
        }

        control = null;
        state = State.Opcode;
    }
}

/// <summary>
/// The upgraded connection's byte stream, passed through while its frames are followed: the client's pongs go to a
/// <see cref="PongWatch"/>, and the server's own pings are put in between two frames the WebSocket writes (.NET's
/// keep-alive pings only after a quiet interval that any byte received restarts; Binance pings on a fixed schedule).
/// </summary>
internal sealed class KeepAliveStream : Stream
{
    private const int Ping = 0x9;
    private const int Pong = 0xA;
    private readonly Stream inner;
    private readonly FrameScanner incoming;
    private readonly FrameScanner outgoing;
    private readonly SemaphoreSlim writing = new(1, 1);

    public KeepAliveStream(Stream inner, PongWatch watch)
    {
        this.inner = inner;
        incoming = new FrameScanner((opcode, _) =>
        {
            if (opcode == Pong)
            {
                watch.OnPongReceived();
            }

            if (opcode is Ping or Pong)
            {
                ClientPingOrPong?.Invoke();
            }
        });
        outgoing = new FrameScanner((opcode, _) =>
        {
            if (opcode == Ping)
            {
                watch.OnPingSent();
            }
        });
    }

    /// <summary>A ping or pong frame came in from the client (answered by the WebSocket layer, never seen above it).</summary>
    public event Action? ClientPingOrPong;

    /// <summary>Sends a ping frame (unmasked, as a server sends) as soon as no other frame is half written.</summary>
    public async Task SendPingAsync(byte[] payload, CancellationToken ct)
    {
        if (payload.Length > 125)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), "a ping payload is at most 125 bytes");
        }

        byte[] frame = [0x80 | Ping, (byte)payload.Length, .. payload];
        while (true)
        {
            await writing.WaitAsync(ct);
            try
            {
                if (outgoing.AtFrameStart)
                {
                    outgoing.Scan(frame);
                    await inner.WriteAsync(frame, ct);
                    await inner.FlushAsync(ct);
                    return;
                }
            }
            finally
            {
                writing.Release();
            }

            await Task.Delay(1, ct);
        }
    }

    public override bool CanRead => inner.CanRead;

    public override bool CanWrite => inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        incoming.Scan(buffer[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        incoming.Scan(buffer.Span[..n]);
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        writing.Wait();
        try
        {
            outgoing.Scan(buffer);
            inner.Write(buffer);
        }
        finally
        {
            writing.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await writing.WaitAsync(cancellationToken);
        try
        {
            outgoing.Scan(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
        }
        finally
        {
            writing.Release();
        }
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // the write gate stays undisposed: a send still finishing when the socket aborts must be able to release it
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>
/// Binance's schedule on one connection (binance-futures-api.md §6): a ping every interval, whatever the traffic,
/// and the connection dropped once a ping has gone unanswered for the pong timeout.
/// </summary>
internal sealed class StreamKeepAlive(KeepAliveStream stream, PongWatch watch, TimeProvider clock, TimeSpan pingInterval)
{
    /// <summary>A ping or pong frame came in from the client.</summary>
    public event Action? ClientPingOrPong
    {
        add => stream.ClientPingOrPong += value;
        remove => stream.ClientPingOrPong -= value;
    }

    /// <summary>Runs until <paramref name="ct"/> ends or the client misses a pong, then calls <paramref name="drop"/>.</summary>
    public async Task RunAsync(Action drop, CancellationToken ct)
    {
        var tick = pingInterval < watch.CheckPeriod ? pingInterval : watch.CheckPeriod;
        var lastPing = clock.GetTimestamp();
        long pings = 0;
        try
        {
            while (true)
            {
                await Task.Delay(tick, clock, ct);
                if (watch.Expired())
                {
                    drop();
                    return;
                }

                if (clock.GetElapsedTime(lastPing) >= pingInterval)
                {
                    lastPing = clock.GetTimestamp();
                    var payload = new byte[8];
                    System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(payload, ++pings);
                    await stream.SendPingAsync(payload, ct);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // the connection ended first
        }
    }
}
