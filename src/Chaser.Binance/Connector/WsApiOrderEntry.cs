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
/// With an Ed25519 key every connection is first authenticated by <c>session.logon</c> (Binance accepts it from
/// Ed25519 keys only), and once the exchange has accepted it the orders on that connection carry neither apiKey nor
/// signature: no signing on the hot path. Until then, and for good when the logon is refused (the reason is reported),
/// each request is signed as with an HMAC key, which Binance accepts on any connection.
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
    private readonly bool _logsOn;
    private readonly TaskCompletionSource _firstLogon = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextId;
    private long _sent;
    private volatile bool _up;

    // The connection whose session.logon the exchange accepted: orders on it go unsigned. Any other socket (a new
    // connection still logging on, one refused) gets signed requests.
    private volatile WebSocket? _loggedOn;

    // The logon in flight: its request id (0 for none), its socket and when it was sent. Under _pendingLock.
    private long _logonId;
    private WebSocket? _logonSocket;
    private long _logonSentTimestamp;

    public WsApiOrderEntry(BinanceConnector connector, BinanceConnectorOptions options, Uri url)
    {
        _connector = connector;
        _options = options;
        _url = url;
        _logsOn = options.Signer.SupportsSessionLogon;
        _sweeper = options.Time.CreateTimer(_ => ExpireOverdue(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        // The shared reconnecting socket: REST carries the orders while it is down; what was in flight is unknown.
        // Only this class sends on it (under its own gate, so that the latency stamp is the hand-off to the socket).
        _socket = new ReconnectingWebSocket(
            "order-entry websocket",
            options,
            _ => Task.FromResult(_url),
            OnMessage,
            onConnected: (link, _, _) =>
            {
                if (_logsOn)
                {
                    SendLogon(link.Socket);
                }

                return Task.CompletedTask;
            },
            onDown: () =>
            {
                _up = false;
                _loggedOn = null;
                _options.Diagnostics?.Invoke("order-entry websocket down; using REST until it is back");
                FailAllPending("connection lost");
            },
            onUp: () => _up = true);
    }

    /// <summary>Whether requests can go this way now; when false the connector uses REST.</summary>
    public bool IsUp => _up;

    /// <summary>Requests sent over this connection so far (for tests and diagnostics).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Whether the current connection is authenticated by <c>session.logon</c> (its orders go unsigned).</summary>
    public bool IsLoggedOn => _loggedOn is { } socket && ReferenceEquals(socket, _socket.CurrentSocket);

    /// <summary>Why the last <c>session.logon</c> failed (the exchange's code and message, or no answer), null when it did not.</summary>
    public string? LogonFailure { get; private set; }

    /// <summary>
    /// Connects; with an Ed25519 key also waits (at most <see cref="BinanceConnectorOptions.RequestTimeout"/>) for the
    /// answer to the connection's <c>session.logon</c>, so that the first orders already go unsigned.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _socket.StartAsync(cancellationToken).ConfigureAwait(false);
        if (_logsOn)
        {
            try
            {
                await _firstLogon.Task.WaitAsync(_options.RequestTimeout, _options.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Reported by the sweeper; signed requests meanwhile.
            }
        }

        _up = true;
    }

    /// <summary>Sends session.logon as the connection's first frame (before it is read, before it is up for orders).</summary>
    internal void SendLogon(WebSocket socket)
    {
        var id = Interlocked.Increment(ref _nextId);
        var frame = ArrayPool<byte>.Shared.Rent(WsApiRequests.MaxFrameLength);
        try
        {
            var signing = new SigningContext(_options.Signer, _connector.Clock.TimestampMs, _options.RecvWindowMs);
            var length = WsApiRequests.SessionLogon(frame, id, _options.ApiKey.Value, signing);
            if (!WaitForSocket())
            {
                ArrayPool<byte>.Shared.Return(frame);
                LogonFailed("the connection was busy");
                return;
            }

            lock (_pendingLock)
            {
                _logonId = id;
                _logonSocket = socket;
                _logonSentTimestamp = _options.Time.GetTimestamp();
            }

            ValueTask send;
            try
            {
                send = socket.SendAsync(frame.AsMemory(0, length), WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
            }
            catch (Exception e)
            {
                send = ValueTask.FromException(e);
            }

            _ = CompleteLogonSendAsync(send, frame);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            ArrayPool<byte>.Shared.Return(frame);
            LogonFailed($"the request could not be written ({e.Message})");
        }
    }

    private async Task CompleteLogonSendAsync(ValueTask send, byte[] frame)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            // The connection is going down: the next one logs on again.
            TakeLogon(out _);
        }
        finally
        {
            EndSend(frame);
        }
    }

    /// <summary>The logon in flight, taken (so that it is answered once); false when there is none.</summary>
    private bool TakeLogon(out WebSocket? socket)
    {
        lock (_pendingLock)
        {
            socket = _logonSocket;
            var had = _logonId != 0;
            _logonId = 0;
            _logonSocket = null;
            return had;
        }
    }

    private bool IsLogonAnswer(long id)
    {
        lock (_pendingLock)
        {
            return _logonId != 0 && _logonId == id;
        }
    }

    private void OnLogonAnswer(int status, ReadOnlySpan<byte> body)
    {
        if (!TakeLogon(out var socket))
        {
            return;
        }

        if (status == 200)
        {
            _loggedOn = socket;
            LogonFailure = null;
            _options.Diagnostics?.Invoke("order-entry websocket: logged on (session.logon); orders go without apiKey and signature");
            _firstLogon.TrySetResult();
            return;
        }

        LogonFailed(ErrorText(status, body));
    }

    private void LogonFailed(string reason)
    {
        LogonFailure = reason;
        _options.Diagnostics?.Invoke($"order-entry websocket: session.logon refused: {reason}; each order is signed instead");
        _firstLogon.TrySetResult();
    }

    /// <summary>The exchange's error as "code message" (its message names the reason, never our key's secret part).</summary>
    private static string ErrorText(int status, ReadOnlySpan<byte> body)
    {
        int? code = null;
        string? message = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.GetString();
                    reader.Read();
                    if (name == "code" && reader.TokenType == JsonTokenType.Number)
                    {
                        code = reader.GetInt32();
                    }
                    else if (name == "msg" && reader.TokenType == JsonTokenType.String)
                    {
                        message = reader.GetString();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
        }
        catch (JsonException)
        {
            // An unreadable error body: the status says enough.
        }

        return code is null ? $"HTTP status {status}" : $"{code} {message}";
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

    /// <summary>
    /// <see cref="TrySend(in OrderRequest, long, out long)"/> up to the send and no further: the frame built for the
    /// current connection (unsigned when it is logged on, signed when not) into a pooled buffer and dropped. No id is
    /// taken, no answer awaited, nothing counted, nothing handed to the socket.
    /// </summary>
    public void Rehearse(in OrderRequest request, long timestampMs)
    {
        var socket = _socket.CurrentSocket;
        if (_up && socket is not null)
        {
            Rehearse(socket, request, timestampMs);
        }
    }

    /// <summary>The rehearsal on a given socket (tests hand it a stand-in): returns the frame's length, 0 when none was built.</summary>
    internal int Rehearse(WebSocket socket, in OrderRequest request, long timestampMs)
    {
        if (!Carries(request, socket))
        {
            return 0;
        }

        var frame = ArrayPool<byte>.Shared.Rent(WsApiRequests.MaxFrameLength);
        try
        {
            return WriteFrameFor(socket, frame, 0, request, timestampMs);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>The send path on a given socket (tests and benchmarks hand it a stand-in).</summary>
    internal bool TrySend(WebSocket socket, in OrderRequest request, long timestampMs, out long handedOff)
    {
        handedOff = 0;
        var command = request.Command;
        if (!Carries(request, socket))
        {
            return false;
        }

        var id = Interlocked.Increment(ref _nextId);
        var frame = ArrayPool<byte>.Shared.Rent(WsApiRequests.MaxFrameLength);
        int length;
        try
        {
            length = WriteFrameFor(socket, frame, id, request, timestampMs);
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

    /// <summary>Whether this connection takes the request: a place, modify or cancel, on an open socket (the rest goes by REST).</summary>
    private static bool Carries(in OrderRequest request, WebSocket socket) =>
        request.Command.Kind is (ChaserCommandKind.Place or ChaserCommandKind.Modify or ChaserCommandKind.Cancel) && socket.State == WebSocketState.Open;

    /// <summary>The request's frame for this socket: unsigned on the logged-on connection, signed on any other.</summary>
    private int WriteFrameFor(WebSocket socket, byte[] frame, long id, in OrderRequest request, long timestampMs) =>
        ReferenceEquals(socket, _loggedOn) ? WriteLoggedOnFrame(frame, id, request, timestampMs) : WriteFrame(frame, id, request, timestampMs);

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

    /// <summary>A frame for the logged-on connection: no apiKey, no signature (the timestamp is still checked).</summary>
    private int WriteLoggedOnFrame(byte[] frame, long id, in OrderRequest request, long timestampMs)
    {
        var command = request.Command;
        var signing = new SigningContext(_options.Signer, timestampMs, _options.RecvWindowMs);
        return command.Kind switch
        {
            ChaserCommandKind.Place => WsApiRequests.OrderPlaceLoggedOn(frame, id, new NewOrder(request.Symbol, command.Side, command.OrderType, command.Price, command.Quantity, command.ClientOrderId, request.ReduceOnly), request.Rules, signing),
            ChaserCommandKind.Modify => WsApiRequests.OrderModifyLoggedOn(frame, id, new ModifyOrder(request.Symbol, command.Side, command.ClientOrderId, command.Price, command.Quantity), request.Rules, signing),
            _ => WsApiRequests.OrderCancelLoggedOn(frame, id, request.Symbol, command.ClientOrderId, signing),
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

        if (id is { } logonId && IsLogonAnswer(logonId))
        {
            OnLogonAnswer(status, body);
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

        // Every answer carries these: names and values are compared where they stand, never made into strings.
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            var type = RateLimitType.Other;
            var minute = false;
            var second = false;
            int intervalNum = 0, count = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("rateLimitType"u8);
                var isInterval = reader.ValueTextEquals("interval"u8);
                var isIntervalNum = reader.ValueTextEquals("intervalNum"u8);
                var isCount = reader.ValueTextEquals("count"u8);
                reader.Read();
                if (isType)
                {
                    type = reader.ValueTextEquals("ORDERS"u8) ? RateLimitType.Orders : reader.ValueTextEquals("REQUEST_WEIGHT"u8) ? RateLimitType.RequestWeight : RateLimitType.Other;
                }
                else if (isInterval)
                {
                    minute = reader.ValueTextEquals("MINUTE"u8);
                    second = reader.ValueTextEquals("SECOND"u8);
                }
                else if (isIntervalNum)
                {
                    intervalNum = reader.GetInt32();
                }
                else if (isCount)
                {
                    count = reader.GetInt32();
                }
                else
                {
                    reader.Skip();
                }
            }

            switch (type)
            {
                case RateLimitType.Orders when second && intervalNum == 10:
                    orders10s = count;
                    break;
                case RateLimitType.Orders when minute && intervalNum == 1:
                    orders1m = count;
                    break;
                case RateLimitType.RequestWeight when minute && intervalNum == 1:
                    weight1m = count;
                    break;
            }
        }
    }

    private void ExpireOverdue()
    {
        bool logonOverdue;
        lock (_pendingLock)
        {
            logonOverdue = _logonId != 0 && _options.Time.GetElapsedTime(_logonSentTimestamp) > _options.RequestTimeout;
        }

        if (logonOverdue && TakeLogon(out _))
        {
            LogonFailed("no answer in time");
        }

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

        if (overdue is null)
        {
            return; // every second: nothing is made when nothing is overdue
        }

        foreach (var pending in overdue)
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

    private enum RateLimitType
    {
        Other,
        Orders,
        RequestWeight,
    }

    private readonly record struct Pending(ChaserCommandKind Kind, string ClientOrderId, long SentTimestamp);
}
