using System.Net.WebSockets;

namespace Chaser.Benchmarks;

/// <summary>
/// A socket stand-in for the hand-off: SendAsync copies the frame into its own buffer (as a real send copies it into
/// the socket's) and completes at once. Receiving is not part of the hot path measured here.
/// </summary>
internal sealed class CopyingSocket : WebSocket
{
    private readonly byte[] _sent = new byte[4096];
    private int _length;

    /// <summary>The last frame handed over.</summary>
    public ReadOnlySpan<byte> Last => _sent.AsSpan(0, _length);

    public override WebSocketCloseStatus? CloseStatus => null;

    public override string? CloseStatusDescription => null;

    public override WebSocketState State => WebSocketState.Open;

    public override string? SubProtocol => null;

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        buffer.Span.CopyTo(_sent);
        _length = buffer.Length;
        return ValueTask.CompletedTask;
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the stand-in only sends");

    public override void Abort()
    {
    }

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Dispose()
    {
    }
}
