using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Chaser.Storage.Tests;

/// <summary>
/// The exchange's WebSocket side for an allocation measurement, on a raw loopback listener: the market streams
/// (<c>/public/ws</c> for book tops, <c>/market/ws</c> for trades), the user stream (<c>/private/ws/…</c>, silent) and the WebSocket API
/// (<c>/ws-fapi/v1</c>), each a real <see cref="WebSocket"/> the connector's real sockets talk to. Unlike the simulator
/// it does no work of its own between frames and allocates nothing per frame (frames are written into reused buffers,
/// answers built from the request's own bytes), so a process-wide allocation count over a window of ticks is the
/// engine's alone. The test pushes book tops and trades (<see cref="PushBook"/>, <see cref="PushTrade"/>); every order request is answered at once as
/// Binance answers it (status NEW, or CANCELED for a cancel, with the <c>rateLimits</c> Binance attaches).
/// </summary>
internal sealed class LoopbackExchangeSockets : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly byte[] _bookFrame = new byte[512];
    private readonly Lock _bookGate = new();
    private WebSocket? _public;
    private WebSocket? _market;
    private readonly byte[] _tradeFrame = new byte[512];
    private long _orderIds = 7_000_000;
    private long _requests;
    private long _modifies;
    private Task? _accepting;

    public Uri StreamBaseUrl { get; private set; } = null!;

    public Uri WebSocketApiUrl { get; private set; } = null!;

    /// <summary>Order requests answered so far.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>order.modify requests answered so far.</summary>
    public long Modifies => Interlocked.Read(ref _modifies);

    /// <summary>Whether the connector's <c>/public</c> connection is open (book tops can be pushed).</summary>
    public bool MarketConnected => Volatile.Read(ref _public) is { State: WebSocketState.Open } && Volatile.Read(ref _market) is { State: WebSocketState.Open };

    /// <summary>Sends one aggTrade event on the <c>/market</c> connection (from one thread at a time, as <see cref="PushBook"/>).</summary>
    public void PushTrade(string symbol, decimal price, decimal quantity, bool buyerIsMaker, long aggTradeId)
    {
        var socket = Volatile.Read(ref _market) ?? throw new InvalidOperationException("no /market connection");
        var writer = new FrameWriter(_tradeFrame);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        writer.Append("{\"e\":\"aggTrade\",\"E\":"u8);
        writer.Append(now);
        writer.Append(",\"s\":\""u8);
        writer.AppendAscii(symbol);
        writer.Append("\",\"a\":"u8);
        writer.Append(aggTradeId);
        writer.Append(",\"p\":\""u8);
        writer.Append(price);
        writer.Append("\",\"q\":\""u8);
        writer.Append(quantity);
        writer.Append("\",\"f\":"u8);
        writer.Append(aggTradeId);
        writer.Append(",\"l\":"u8);
        writer.Append(aggTradeId);
        writer.Append(",\"T\":"u8);
        writer.Append(now);
        writer.Append(buyerIsMaker ? ",\"m\":true}"u8 : ",\"m\":false}"u8);
        var send = socket.SendAsync(_tradeFrame.AsMemory(0, writer.Length), WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        if (!send.IsCompletedSuccessfully)
        {
            send.AsTask().GetAwaiter().GetResult();
        }
    }

    public static LoopbackExchangeSockets Start()
    {
        var sockets = new LoopbackExchangeSockets();
        sockets._listener.Start();
        var port = ((IPEndPoint)sockets._listener.LocalEndpoint).Port;
        sockets.StreamBaseUrl = new Uri($"ws://127.0.0.1:{port}");
        sockets.WebSocketApiUrl = new Uri($"ws://127.0.0.1:{port}/ws-fapi/v1");
        sockets._accepting = sockets.AcceptAsync();
        return sockets;
    }

    /// <summary>
    /// Sends one bookTicker event on the <c>/public</c> connection, written into the one reused frame buffer. Called
    /// from one thread at a time (the test's driver).
    /// </summary>
    public void PushBook(string symbol, decimal bid, decimal bidQty, decimal ask, decimal askQty, long updateId)
    {
        var socket = Volatile.Read(ref _public) ?? throw new InvalidOperationException("no /public connection");
        int length;
        lock (_bookGate)
        {
            var writer = new FrameWriter(_bookFrame);
            writer.Append("{\"e\":\"bookTicker\",\"u\":"u8);
            writer.Append(updateId);
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            writer.Append(",\"E\":"u8);
            writer.Append(now);
            writer.Append(",\"T\":"u8);
            writer.Append(now);
            writer.Append(",\"s\":\""u8);
            writer.AppendAscii(symbol);
            writer.Append("\",\"b\":\""u8);
            writer.Append(bid);
            writer.Append("\",\"B\":\""u8);
            writer.Append(bidQty);
            writer.Append("\",\"a\":\""u8);
            writer.Append(ask);
            writer.Append("\",\"A\":\""u8);
            writer.Append(askQty);
            writer.Append("\"}"u8);
            length = writer.Length;
        }

        var send = socket.SendAsync(_bookFrame.AsMemory(0, length), WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        if (!send.IsCompletedSuccessfully)
        {
            send.AsTask().GetAwaiter().GetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await (_accepting ?? Task.CompletedTask);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            lock (_connections)
            {
                _connections.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        client.NoDelay = true;
        var stream = client.GetStream();
        try
        {
            var path = await HandshakeAsync(stream);
            using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
            if (path.StartsWith("/public/", StringComparison.Ordinal))
            {
                Volatile.Write(ref _public, socket);
            }
            else if (path.StartsWith("/market/", StringComparison.Ordinal))
            {
                Volatile.Write(ref _market, socket);
            }

            await ReceiveAsync(socket, path.StartsWith("/ws-fapi/", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The connector closed or the test ended.
        }
    }

    /// <summary>The HTTP upgrade (RFC 6455 §4.2): the request's path, after the 101 answer was written.</summary>
    private async Task<string> HandshakeAsync(NetworkStream stream)
    {
        var buffer = new byte[8192];
        var length = 0;
        while (true)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), _stop.Token);
            if (read == 0)
            {
                throw new IOException("closed during the handshake");
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        var head = Encoding.ASCII.GetString(buffer, 0, length).Split("\r\n");
        var path = head[0].Split(' ')[1];
        var key = head.First(h => h.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))["Sec-WebSocket-Key:".Length..].Trim();
#pragma warning disable CA5350 // RFC 6455 fixes SHA-1 for the handshake's accept key: not a security use
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
        var answer = Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
        await stream.WriteAsync(answer, _stop.Token);
        return path;
    }

    /// <summary>Reads the connection until it closes: SUBSCRIBEs are answered, order requests too on the WebSocket API.</summary>
    private async Task ReceiveAsync(WebSocket socket, bool orderEntry)
    {
        var message = new byte[64 * 1024];
        var answer = new byte[4096];
        while (socket.State == WebSocketState.Open)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(message.AsMemory(length), _stop.Token);
                length += result.Count;
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }

            var written = orderEntry ? AnswerOrder(message.AsSpan(0, length), answer) : AnswerSubscribe(message.AsSpan(0, length), answer);
            if (written > 0)
            {
                await socket.SendAsync(answer.AsMemory(0, written), WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
            }
        }
    }

    /// <summary><c>{"result":null,"id":n}</c> for a SUBSCRIBE.</summary>
    private static int AnswerSubscribe(ReadOnlySpan<byte> request, byte[] answer)
    {
        var reader = new Utf8JsonReader(request);
        ReadOnlySpan<byte> id = default;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return 0;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isId = reader.ValueTextEquals("id"u8);
            reader.Read();
            if (isId)
            {
                id = reader.ValueSpan;
            }
            else
            {
                reader.Skip();
            }
        }

        var writer = new FrameWriter(answer);
        writer.Append("{\"result\":null,\"id\":"u8);
        writer.Append(id);
        writer.Append("}"u8);
        return writer.Length;
    }

    /// <summary>An order request's answer, as Binance's WebSocket API gives it, built from the request's own values.</summary>
    private int AnswerOrder(ReadOnlySpan<byte> request, byte[] answer)
    {
        ReadOnlySpan<byte> id = default, method = default, clientId = default, price = default, quantity = default, side = default, symbol = default;
        var reader = new Utf8JsonReader(request);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                id = reader.ValueSpan;
            }
            else if (reader.ValueTextEquals("method"u8))
            {
                reader.Read();
                method = reader.ValueSpan;
            }
            else if (reader.ValueTextEquals("params"u8))
            {
                reader.Read();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isClientId = reader.ValueTextEquals("newClientOrderId"u8) || reader.ValueTextEquals("origClientOrderId"u8);
                    var isPrice = reader.ValueTextEquals("price"u8);
                    var isQuantity = reader.ValueTextEquals("quantity"u8);
                    var isSide = reader.ValueTextEquals("side"u8);
                    var isSymbol = reader.ValueTextEquals("symbol"u8);
                    reader.Read();
                    if (isClientId)
                    {
                        clientId = reader.ValueSpan;
                    }
                    else if (isPrice)
                    {
                        price = reader.ValueSpan;
                    }
                    else if (isQuantity)
                    {
                        quantity = reader.ValueSpan;
                    }
                    else if (isSide)
                    {
                        side = reader.ValueSpan;
                    }
                    else if (isSymbol)
                    {
                        symbol = reader.ValueSpan;
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        Interlocked.Increment(ref _requests);
        if (method.SequenceEqual("order.modify"u8))
        {
            Interlocked.Increment(ref _modifies);
        }

        var canceled = method.SequenceEqual("order.cancel"u8);
        var writer = new FrameWriter(answer);
        writer.Append("{\"id\":\""u8);
        writer.Append(id);
        writer.Append("\",\"status\":200,\"result\":{\"clientOrderId\":\""u8);
        writer.Append(clientId);
        writer.Append("\",\"cumQty\":\"0\",\"cumQuote\":\"0\",\"executedQty\":\"0\",\"orderId\":"u8);
        writer.Append(method.SequenceEqual("order.place"u8) ? Interlocked.Increment(ref _orderIds) : Interlocked.Read(ref _orderIds));
        writer.Append(",\"avgPrice\":\"0.00\",\"origQty\":\""u8);
        writer.Append(quantity.IsEmpty ? "0"u8 : quantity);
        writer.Append("\",\"price\":\""u8);
        writer.Append(price.IsEmpty ? "0"u8 : price);
        writer.Append("\",\"reduceOnly\":false,\"side\":\""u8);
        writer.Append(side.IsEmpty ? "BUY"u8 : side);
        writer.Append("\",\"positionSide\":\"BOTH\",\"status\":\""u8);
        writer.Append(canceled ? "CANCELED"u8 : "NEW"u8);
        writer.Append("\",\"symbol\":\""u8);
        writer.Append(symbol);
        writer.Append("\",\"timeInForce\":\"GTX\",\"type\":\"LIMIT\",\"origType\":\"LIMIT\",\"updateTime\":"u8);
        writer.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        writer.Append("},\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":2400,\"count\":1},"u8);
        writer.Append("{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,\"limit\":300,\"count\":1},"u8);
        writer.Append("{\"rateLimitType\":\"ORDERS\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":1200,\"count\":1}]}"u8);
        return writer.Length;
    }

    /// <summary>Appends UTF-8 into a fixed buffer (no allocation).</summary>
    private ref struct FrameWriter(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;

        public int Length { get; private set; }

        public void Append(scoped ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_buffer[Length..]);
            Length += bytes.Length;
        }

        public void AppendAscii(string text)
        {
            Length += Encoding.ASCII.GetBytes(text, _buffer[Length..]);
        }

        public void Append(long value)
        {
            Utf8Formatter.TryFormat(value, _buffer[Length..], out var written);
            Length += written;
        }

        public void Append(decimal value)
        {
            Utf8Formatter.TryFormat(value, _buffer[Length..], out var written);
            Length += written;
        }
    }
}
