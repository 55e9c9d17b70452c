using System.Buffers;
using System.Net.WebSockets;

namespace Chaser.Binance.Connector;

/// <summary>
/// Receives whole text messages from a WebSocket into one pooled buffer that grows as needed (a message may span
/// several frames). The span handed to the handler is valid only during the call: parse it, don't keep it.
/// </summary>
internal sealed class WebSocketFrames : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);

    public delegate void MessageHandler(ReadOnlySpan<byte> message, long receivedTimestamp);

    /// <summary>Reads messages until the socket closes or <paramref name="cancellationToken"/> fires.</summary>
    public async Task ReadAllAsync(WebSocket socket, TimeProvider time, MessageHandler onMessage, CancellationToken cancellationToken)
    {
        while (socket.State == WebSocketState.Open)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length == _buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                    _buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = larger;
                }

                result = await socket.ReceiveAsync(_buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                length += result.Count;
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            onMessage(_buffer.AsSpan(0, length), time.GetTimestamp());
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
