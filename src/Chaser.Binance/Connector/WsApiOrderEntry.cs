using System.Buffers;
using System.Buffers.Text;
using System.Net.WebSockets;
using System.Text.Json;
using Chaser.Binance.Requests;
using Chaser.Core.Chasing;
using Chaser.Core.Ports;

namespace Chaser.Binance.Connector;

/// <summary>
/// Order entry over Binance's WebSocket API (<c>/ws-fapi/v1</c>: <c>order.place</c>, <c>order.modify</c>,
/// <c>order.cancel</c>) on one long-lived connection, which saves the HTTP round-trip set-up of REST. The connector
/// falls back to REST whenever this connection is not up. Each request is written once, straight into a pooled
/// buffer (<see cref="WsApiRequests"/>: the REST requests' parameters, rounded and checked in one place, in the sorted
/// order the WebSocket API signs, signed once); answers are handled exactly as REST answers. A request still
/// unanswered when the connection drops or its time runs out has an unknown outcome, which the chaser confirms by query.
/// </summary>
internal sealed class WsApiOrderEntry : IAsyncDisposable
{
    private readonly BinanceConnector _connector;
    private readonly BinanceConnectorOptions _options;
    private readonly Uri _url;
    // Keyed by the request id, under its own lock: a struct-valued dictionary reuses its entries, so the bookkeeping of
    // a request allocates nothing once the table has grown to the number of requests in flight.
    private readonly Dictionary<long, Pending> _pending = new(64);
    private readonly Lock _pendingLock = new();
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly ITimer _sweeper;
    private readonly ReconnectingWebSocket _socket;
    private long _nextId;
    private long _sent;
    private volatile bool _up;

    public WsApiOrderEntry(BinanceConnector connector, BinanceConnectorOptions options, Uri url)
    {
        _connector = connector;
        _options = options;
        _url = url;
        _sweeper = options.Time.CreateTimer(_ => ExpireOverdue(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        // The shared reconnecting socket: REST carries the orders while it is down; what was in flight is unknown.
        // Only this class sends on it (under its own gate, so that the latency stamp is the hand-off to the socket).
        _socket = new ReconnectingWebSocket(
            "order-entry websocket",
            options,
            _ => Task.FromResult(_url),
            OnMessage,
            onDown: () =>
            {
                _up = false;
                _options.Diagnostics?.Invoke("order-entry websocket down; using REST until it is back");
                FailAllPending("connection lost");
            },
            onUp: () => _up = true);
    }

    /// <summary>Whether requests can go this way now; when false the connector uses REST.</summary>
    public bool IsUp => _up;

    /// <summary>Requests sent over this connection so far (for tests and diagnostics).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _socket.StartAsync(cancellationToken).ConfigureAwait(false);
        _up = true;
    }

    /// <summary>
    /// Sends one place / modify / cancel; false when the connection is not up or not free in time (then use REST).
    /// <paramref name="handedOff"/> is the <see cref="TimeProvider.GetTimestamp"/> reading taken as the frame's bytes
    /// are handed to the socket (its <c>SendAsync</c> called), after the frame was built and signed: what
    /// <c>IExchangeConnector.Submit</c> must return.
    /// </summary>
    public bool TrySend(in OrderRequest request, long timestampMs, out long handedOff)
    {
        var socket = _socket.CurrentSocket;
        if (!_up || socket is null)
        {
            handedOff = 0;
            return false;
        }

        return TrySend(socket, request, timestampMs, out handedOff);
    }

    /// <summary>The send path on a given socket (tests and benchmarks hand it a stand-in).</summary>
    internal bool TrySend(WebSocket socket, in OrderRequest request, long timestampMs, out long handedOff)
    {
        handedOff = 0;
        var command = request.Command;
        if (command.Kind is not (ChaserCommandKind.Place or ChaserCommandKind.Modify or ChaserCommandKind.Cancel) || socket.State != WebSocketState.Open)
        {
            return false;
        }

        var id = Interlocked.Increment(ref _nextId);
        var frame = ArrayPool<byte>.Shared.Rent(WsApiRequests.MaxFrameLength);
        int length;
        try
        {
            length = WriteFrame(frame, id, request, timestampMs);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(frame);
            throw;
        }

        // One send at a time on a WebSocket. The gate is almost always free (a send into the socket buffer completes
        // at once); when another send holds it for long the socket is stuck, and REST is the faster way out.
        if (!WaitForSocket())
        {
            ArrayPool<byte>.Shared.Return(frame);
            return false;
        }

        lock (_pendingLock)
        {
            _pending[id] = new Pending(command.Kind, command.ClientOrderId, _options.Time.GetTimestamp());
        }

        ValueTask send;
        handedOff = _options.Time.GetTimestamp();
        try
        {
            send = socket.SendAsync(frame.AsMemory(0, length), WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        }
        catch (Exception e)
        {
            send = ValueTask.FromException(e);
        }

        Interlocked.Increment(ref _sent);
        if (send.IsCompletedSuccessfully)
        {
            send.GetAwaiter().GetResult();
            EndSend(frame);
        }
        else
        {
            _ = CompleteSendAsync(send, id, frame);
        }

        return true;
    }

    private bool WaitForSocket()
    {
        try
        {
            return _sendGate.Wait(SendGateWait);
        }
        catch (ObjectDisposedException)
        {
            // Stopped under us: nothing was sent.
            return false;
        }
    }

    private int WriteFrame(byte[] frame, long id, in OrderRequest request, long timestampMs)
    {
        var command = request.Command;
        var signing = new SigningContext(_options.Signer, timestampMs, _options.RecvWindowMs);
        return command.Kind switch
        {
            ChaserCommandKind.Place => WsApiRequests.OrderPlace(frame, id, new NewOrder(request.Symbol, command.Side, command.OrderType, command.Price, command.Quantity, command.ClientOrderId, request.ReduceOnly), request.Rules, _options.ApiKey.Value, signing),
            ChaserCommandKind.Modify => WsApiRequests.OrderModify(frame, id, new ModifyOrder(request.Symbol, command.Side, command.ClientOrderId, command.Price, command.Quantity), request.Rules, _options.ApiKey.Value, signing),
            _ => WsApiRequests.OrderCancel(frame, id, request.Symbol, command.ClientOrderId, _options.ApiKey.Value, signing),
        };
    }

    public async ValueTask DisposeAsync()
    {
        _up = false;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        await _socket.DisposeAsync().ConfigureAwait(false);
        _sendGate.Dispose();
        _stop.Dispose();
    }

    private async Task CompleteSendAsync(ValueTask send, long id, byte[] frame)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            // Part of the frame may have left: the exchange may have it.
            if (TryRemovePending(id, out var pending))
            {
                Unknown(pending, $"send failed: {e.Message}");
            }
        }
        finally
        {
            EndSend(frame);
        }
    }

    private void EndSend(byte[] frame)
    {
        ArrayPool<byte>.Shared.Return(frame);
        try
        {
            _sendGate.Release();
        }
        catch (ObjectDisposedException)
        {
            // Stopped while the send was in flight.
        }
    }

    /// <summary>One answer of the WebSocket API (internal for tests that hand it answers).</summary>
    internal void OnMessage(ReadOnlySpan<byte> message, long receivedTimestamp)
    {
        long? id = null;
        var status = 0;
        ReadOnlySpan<byte> body = default;
        int? orders10s = null, orders1m = null, weight1m = null;
        try
        {
            var reader = new Utf8JsonReader(message);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    id = ReadId(ref reader);
                }
                else if (reader.ValueTextEquals("status"u8))
                {
                    reader.Read();
                    status = reader.GetInt32();
                }
                else if (reader.ValueTextEquals("result"u8) || reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    body = message[start..(int)reader.BytesConsumed];
                }
                else if (reader.ValueTextEquals("rateLimits"u8))
                {
                    reader.Read();
                    ReadRateLimits(ref reader, ref orders10s, ref orders1m, ref weight1m);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException e)
        {
            _options.Diagnostics?.Invoke($"order-entry websocket: unreadable answer ({e.Message})");
            return;
        }

        if (id is not { } requestId || !TryRemovePending(requestId, out var pending))
        {
            // Not an answer to a request of ours still waiting: its counts can't be placed in a window (below), so
            // they are left out; our own counts cover what we sent.
            return;
        }

        if (orders10s is not null || orders1m is not null || weight1m is not null)
        {
            // The counts are those of the window the request was sent in, as REST's headers are: a request sent just
            // before a reset and answered after it brings the old window's count, which must not fill the new one.
            var sentAt = _options.Time.GetUtcNow() - _options.Time.GetElapsedTime(pending.SentTimestamp);
            _connector.RateGuard.Observe(orders10s, orders1m, weight1m, sentAt);
            _connector.ReportBudget();
        }

        _connector.HandleOrderAnswer(body, status, pending.Kind, pending.ClientOrderId, receivedTimestamp);
    }

    /// <summary>Our ids are strings of digits (<see cref="WsApiFrameWriter"/>); anything else is not an answer of ours.</summary>
    private static long? ReadId(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped
            && Utf8Parser.TryParse(reader.ValueSpan, out long value, out var consumed) && consumed == reader.ValueSpan.Length)
        {
            return value;
        }

        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out value) ? value : null;
    }

    private static void ReadRateLimits(ref Utf8JsonReader reader, ref int? orders10s, ref int? orders1m, ref int? weight1m)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            string? type = null, interval = null;
            int intervalNum = 0, count = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "rateLimitType":
                        type = reader.GetString();
                        break;
                    case "interval":
                        interval = reader.GetString();
                        break;
                    case "intervalNum":
                        intervalNum = reader.GetInt32();
                        break;
                    case "count":
                        count = reader.GetInt32();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            switch (type, interval, intervalNum)
            {
                case ("ORDERS", "SECOND", 10):
                    orders10s = count;
                    break;
                case ("ORDERS", "MINUTE", 1):
                    orders1m = count;
                    break;
                case ("REQUEST_WEIGHT", "MINUTE", 1):
                    weight1m = count;
                    break;
            }
        }
    }

    private void ExpireOverdue()
    {
        List<Pending>? overdue = null;
        lock (_pendingLock)
        {
            foreach (var (id, pending) in _pending)
            {
                if (_options.Time.GetElapsedTime(pending.SentTimestamp) > _options.RequestTimeout)
                {
                    (overdue ??= []).Add(pending);
                    _pending.Remove(id);
                }
            }
        }

        foreach (var pending in overdue ?? [])
        {
            Unknown(pending, "no answer in time");
        }
    }

    private void FailAllPending(string reason)
    {
        Pending[] failed;
        lock (_pendingLock)
        {
            failed = [.. _pending.Values];
            _pending.Clear();
        }

        foreach (var pending in failed)
        {
            Unknown(pending, reason);
        }
    }

    private bool TryRemovePending(long id, out Pending pending)
    {
        lock (_pendingLock)
        {
            return _pending.Remove(id, out pending);
        }
    }

    private void Unknown(Pending pending, string reason)
    {
        _options.Diagnostics?.Invoke($"{pending.Kind} {pending.ClientOrderId} over the websocket API: {reason}; outcome unknown");
        _connector.ReportUnknown(pending.ClientOrderId, pending.Kind);
    }

    private static readonly TimeSpan SendGateWait = TimeSpan.FromMilliseconds(50);

    private readonly record struct Pending(ChaserCommandKind Kind, string ClientOrderId, long SentTimestamp);
}
