using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Chaser.Simulator.Wire;

namespace Chaser.Simulator.Streams;

/// <summary>
/// One market/user stream WebSocket: an outgoing queue drained by a writer loop (which applies latency and
/// delays), a reader loop for SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY.
/// A client that cannot keep up (queue full: <see cref="QueueCapacity"/> frames or <see cref="MaxQueuedBytes"/>) or sends more than the allowed messages in any one second (Binance: 10,
/// counting its ping and pong frames) is disconnected; a message larger than <see cref="MaxMessageBytes"/> closes the
/// connection with 1009 (message too big) instead of being buffered. Ids are echoed exactly as sent: an unsigned integer or a string (Binance's own USDⓈ-M connector
/// sends 32-hex string ids).
/// </summary>
internal sealed class StreamConnection : IDisposable
{
    private const int QueueCapacity = 50_000;

    /// <summary>
    /// The most bytes waiting for one client. Binance drops a consumer too slow for its streams (how far behind it may
    /// fall is unpublished); a bound in frames alone let a client that never reads hold 50,000 depth frames (~100 MB)
    /// of the server's memory. 16 MiB is seconds of every stream a connection may hold.
    /// </summary>
    public const long MaxQueuedBytes = 16L * 1024 * 1024;

    /// <summary>
    /// The largest message read from a client. Binance documents no size, but a message is only ever a control
    /// message: this holds a SUBSCRIBE of all the 1,024 streams a connection may have, and keeps a client that
    /// streams one endless message from growing the server's memory without bound.
    /// </summary>
    public const int MaxMessageBytes = 128 * 1024;
    private readonly StreamHub hub;
    private readonly TimeProvider clock;
    private readonly Channel<OutFrame> queue = Channel.CreateBounded<OutFrame>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource stop = new();
    private readonly Lock gate = new();
    private readonly List<string> subscriptions = [];
    private readonly Lock rateGate = new();
    private readonly long[] recentMessages;
    private int recentCount;
    private long queuedBytes;
    private int recentNext;

    private readonly Dictionary<string, IReadOnlySet<string>?> eventFilters = new(StringComparer.Ordinal);
    private readonly TimeSpan lifetime;

    private WebSocket? socket;

    /// <summary>
    /// Created (and subscribed) before the handshake completes so no event slips between the two. A connection on
    /// a route is served that route's streams only; an unrouted one (the retired /ws, /stream) none unless
    /// <paramref name="servesEveryRoute"/> (SimulatorOptions.LegacyStreams).
    /// </summary>
    public StreamConnection(StreamHub hub, TimeProvider clock, StreamRoute? route, bool servesEveryRoute, bool combined, int messagesPerSecond, TimeSpan lifetime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(messagesPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        this.hub = hub;
        this.clock = clock;
        Route = route;
        ServesEveryRoute = servesEveryRoute;
        Combined = combined;
        recentMessages = new long[messagesPerSecond];
        this.lifetime = lifetime;
    }

    public StreamRoute? Route { get; }

    public bool ServesEveryRoute { get; }

    public bool Combined { get; private set; }

    /// <summary>A frame to send, or (Payload null) a close handshake to start once the frames before it are out.</summary>
    private readonly record struct OutFrame(byte[]? Payload, long DueTimestamp, bool CloseAfter, WebSocketCloseStatus CloseStatus = WebSocketCloseStatus.NormalClosure, string? CloseReason = null);

    /// <summary>
    /// Whether this connection delivers a stream of <paramref name="route"/>. Binance answers a SUBSCRIBE for a
    /// stream on the wrong route like any other and then sends nothing for it (binance-futures-api.md §6;
    /// BYTEX-TRADE/bytex#7: "accepts the connection and acknowledges a SUBSCRIBE … but never delivers it").
    /// </summary>
    public bool Serves(StreamRoute route) => ServesEveryRoute || Route == route;

    /// <summary>Restricts a listen key's user events to <paramref name="events"/> (the URL's <c>events=</c>; null = all).</summary>
    public void SetEventFilter(string listenKey, IReadOnlySet<string>? events)
    {
        lock (gate)
        {
            eventFilters[listenKey] = events;
        }
    }

    /// <summary>Whether the user event <paramref name="eventType"/> (ORDER_TRADE_UPDATE, TRADE_LITE, …) of the key is wanted here.</summary>
    public bool Wants(string listenKey, string eventType)
    {
        lock (gate)
        {
            return !eventFilters.TryGetValue(listenKey, out var events) || events is null || events.Contains(eventType);
        }
    }

    public IReadOnlyList<string> Subscriptions
    {
        get
        {
            lock (gate)
            {
                return [.. subscriptions];
            }
        }
    }

    public void AddSubscription(string name)
    {
        lock (gate)
        {
            if (!subscriptions.Contains(name))
            {
                subscriptions.Add(name);
            }
        }
    }

    public void RemoveSubscription(string name)
    {
        lock (gate)
        {
            subscriptions.Remove(name);
        }
    }

    /// <summary>Queues a payload of the given stream; combined connections wrap it as {"stream","data"}.</summary>
    public void Send(string stream, byte[] payload, TimeSpan delay)
    {
        var frame = Combined ? Wrap(stream, payload) : payload;
        Enqueue(new OutFrame(frame, delay > TimeSpan.Zero ? clock.GetTimestamp() + (long)(delay.TotalSeconds * clock.TimestampFrequency) : 0, false));
    }

    public void SendRaw(byte[] payload) => Enqueue(new OutFrame(payload, 0, false));

    /// <summary>Sends a last frame and closes normally.</summary>
    public void SendAndClose(string stream, byte[] payload) =>
        Enqueue(new OutFrame(Combined ? Wrap(stream, payload) : payload, 0, true, WebSocketCloseStatus.NormalClosure, "listenKey closed"));

    /// <summary>Starts the close handshake once the frames already queued are sent.</summary>
    public void Close(WebSocketCloseStatus status, string reason) =>
        Enqueue(new OutFrame(null, 0, true, status, reason));

    /// <summary>Fault injection and protocol violations: drop the connection without a close handshake.</summary>
    public void Abort()
    {
        try
        {
            stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the connection already finished
        }

        socket?.Abort();
    }

    public void Dispose() => stop.Dispose();

    private void Enqueue(OutFrame frame)
    {
        if (Interlocked.Add(ref queuedBytes, frame.Payload?.Length ?? 0) > MaxQueuedBytes || !queue.Writer.TryWrite(frame))
        {
            Abort(); // too slow to keep up: Binance disconnects such clients too
        }
    }

    private static byte[] Wrap(string stream, byte[] payload)
    {
        var prefix = Encoding.UTF8.GetBytes("{\"stream\":\"" + stream + "\",\"data\":");
        var result = new byte[prefix.Length + payload.Length + 1];
        prefix.CopyTo(result, 0);
        payload.CopyTo(result, prefix.Length);
        result[^1] = (byte)'}';
        return result;
    }

    /// <summary>Serves the connection until it ends; <paramref name="keepAlive"/> (when given) pings it and drops it on a missed pong.</summary>
    public async Task RunAsync(WebSocket webSocket, StreamKeepAlive? keepAlive, CancellationToken ct)
    {
        socket = webSocket;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, stop.Token);
        var writer = WriteLoopAsync(linked.Token);
        _ = EndAtLifetimeAsync(linked.Token);
        if (keepAlive is not null)
        {
            // Binance counts the client's ping and pong frames in its 10 messages a second
            keepAlive.ClientPingOrPong += OnClientPingOrPong;

            // dropped without a close handshake, as Binance drops a connection that misses its pong
            _ = keepAlive.RunAsync(Abort, linked.Token);
        }

        var closing = false;
        try
        {
            closing = await ReadLoopAsync(linked.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // the client went away or the server is stopping
        }
        finally
        {
            hub.Remove(this);
            queue.Writer.TryComplete();
            if (closing)
            {
                // let the writer send what is queued and then the close frame before the socket goes
                await Task.WhenAny(writer, Task.Delay(CloseGrace, clock, CancellationToken.None));
            }

            await stop.CancelAsync();
            try
            {
                await writer;
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // already closing
            }
        }
    }

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        var socket = this.socket!;
        await foreach (var frame in queue.Reader.ReadAllAsync(ct))
        {
            if (frame.DueTimestamp != 0)
            {
                var wait = clock.GetElapsedTime(clock.GetTimestamp(), frame.DueTimestamp);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, clock, ct);
                }
            }

            if (frame.Payload is not null)
            {
                await socket.SendAsync(frame.Payload, WebSocketMessageType.Text, true, ct);
                Interlocked.Add(ref queuedBytes, -frame.Payload.Length);
            }

            if (frame.CloseAfter)
            {
                await socket.CloseOutputAsync(frame.CloseStatus, frame.CloseReason, ct);
                return;
            }
        }
    }

    /// <summary>Close grace: a client that does not answer the close handshake in this time is dropped.</summary>
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A connection lives at most <see cref="lifetime"/> (Binance: 24 hours, binance-futures-api.md §6): then the
    /// server closes it, and drops it if the client does not finish the close handshake.
    /// </summary>
    private async Task EndAtLifetimeAsync(CancellationToken ct)
    {
        try
        {
            await Task.Delay(lifetime, clock, ct);
            Close(WebSocketCloseStatus.EndpointUnavailable, "connection lifetime reached; reconnect");
            await Task.Delay(CloseGrace, clock, ct);
            Abort();
        }
        catch (OperationCanceledException)
        {
            // the connection ended first
        }
    }

    private void OnClientPingOrPong()
    {
        if (!WithinMessageRate())
        {
            Abort();
        }
    }

    /// <summary>Reads control messages until the connection ends; true when it ends by the server's close frame.</summary>
    private async Task<bool> ReadLoopAsync(CancellationToken ct)
    {
        var socket = this.socket!;
        var buffer = new byte[16 * 1024];
        while (socket.State == WebSocketState.Open && !ct.IsCancellationRequested)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, ct);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (socket.State == WebSocketState.CloseReceived)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
                    }

                    return false;
                }

                if (message.Length + result.Count > MaxMessageBytes)
                {
                    Close(WebSocketCloseStatus.MessageTooBig, $"a message may have at most {MaxMessageBytes} bytes");
                    return true;
                }

                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);

            if (!WithinMessageRate())
            {
                Abort();
                return false;
            }

            HandleControl(message.ToArray());
        }

        return false;
    }

    /// <summary>
    /// Sliding one-second window over the last allowed-count messages: a fixed window would let twice the limit
    /// through across its boundary. Counts control messages (from the read loop) and the client's ping and pong
    /// frames (from the keep-alive's frame scanner), as Binance's page says: "a PING frame, a PONG frame, a JSON
    /// controlled message".
    /// </summary>
    private bool WithinMessageRate()
    {
        lock (rateGate)
        {
            var now = clock.GetTimestamp();
            if (recentCount == recentMessages.Length && clock.GetElapsedTime(recentMessages[recentNext], now) < TimeSpan.FromSeconds(1))
            {
                return false;
            }

            recentMessages[recentNext] = now;
            recentNext = (recentNext + 1) % recentMessages.Length;
            recentCount = Math.Min(recentCount + 1, recentMessages.Length);
            return true;
        }
    }

    /// <summary>An id Binance's stream servers accept: an unsigned 64-bit integer or a string.</summary>
    private static bool IsValidId(JsonElement id) =>
        id.ValueKind == JsonValueKind.String || (id.ValueKind == JsonValueKind.Number && id.TryGetUInt64(out _));

    private void HandleControl(byte[] text)
    {
        JsonElement id = default;
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                SendRaw(ControlError(3, "Invalid JSON: expected an object with method, params and id", default));
                return;
            }

            if (!root.TryGetProperty("id", out var idElement) || !IsValidId(idElement))
            {
                SendRaw(ControlError(2, "Invalid request: request ID must be an unsigned integer or a string", default));
                return;
            }

            id = idElement.Clone();
            var method = root.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            var parameters = root.TryGetProperty("params", out var p) ? p : default;
            switch (method)
            {
                case "SUBSCRIBE" or "UNSUBSCRIBE":
                    // Unconfirmed what Binance answers here (its error table lists none); a bare string or no list at
                    // all must not read as a success that then delivers nothing
                    if (parameters.ValueKind != JsonValueKind.Array)
                    {
                        SendRaw(ControlError(2, "Invalid request: params must be a list of stream names", id));
                        return;
                    }

                    var names = parameters.EnumerateArray().Select(e => e.ToString()).ToList();
                    if (method == "UNSUBSCRIBE")
                    {
                        hub.Unsubscribe(this, names);
                    }
                    else if (!hub.Subscribe(this, names, out var refused))
                    {
                        SendRaw(ControlError(2, refused ?? "Invalid request", id));
                        return;
                    }

                    SendRaw(ControlResult(id, w => w.WriteNull("result")));
                    break;
                case "LIST_SUBSCRIPTIONS":
                    var current = Subscriptions;
                    SendRaw(ControlResult(id, w =>
                    {
                        w.WriteStartArray("result");
                        foreach (var s in current)
                        {
                            w.WriteStringValue(s);
                        }

                        w.WriteEndArray();
                    }));
                    break;
                case "SET_PROPERTY" or "GET_PROPERTY":
                    HandleProperty(method == "SET_PROPERTY", parameters, id);
                    break;
                case null:
                    SendRaw(ControlError(2, "Invalid request: missing field `method` (a string)", id));
                    break;
                default:
                    SendRaw(ControlError(2, $"Invalid request: unknown variant {method}, expected one of SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY", id));
                    break;
            }
        }
        catch (JsonException ex)
        {
            SendRaw(ControlError(3, "Invalid JSON: " + ex.Message, id));
        }
    }

    /// <summary>
    /// SET_PROPERTY ["combined", true|false] and GET_PROPERTY ["combined"], with the errors of Binance's table (USDⓈ-M
    /// "Live Subscribing/Unsubscribing to streams", Error Messages): 2 a property name that is not a string or none,
    /// 0 an unknown property, 1 a value that is not a JSON boolean, 2 too many parameters.
    /// </summary>
    private void HandleProperty(bool set, JsonElement parameters, JsonElement id)
    {
        var items = parameters.ValueKind == JsonValueKind.Array ? [.. parameters.EnumerateArray()] : new List<JsonElement>();
        if (items.Count == 0 || items[0].ValueKind != JsonValueKind.String)
        {
            SendRaw(ControlError(2, "Invalid request: property name must be a string", id));
        }
        else if (items.Count > (set ? 2 : 1))
        {
            SendRaw(ControlError(2, "Invalid request: too many parameters", id));
        }
        else if (items[0].GetString() != "combined")
        {
            SendRaw(ControlError(0, "Unknown property", id));
        }
        else if (!set)
        {
            SendRaw(ControlResult(id, w => w.WriteBoolean("result", Combined)));
        }
        else if (items.Count < 2 || items[1].ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            SendRaw(ControlError(1, "Invalid value type: expected Boolean", id));
        }
        else
        {
            Combined = items[1].GetBoolean();
            SendRaw(ControlResult(id, w => w.WriteNull("result")));
        }
    }

    private static byte[] ControlResult(JsonElement id, Action<Utf8JsonWriter> result) => JsonFrame.Write(w =>
    {
        w.WriteStartObject();
        result(w);
        w.WritePropertyName("id");
        id.WriteTo(w);
        w.WriteEndObject();
    });

    private static byte[] ControlError(int code, string msg, JsonElement id) => JsonFrame.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteNumber("code", code);
        w.WriteString("msg", msg);
        w.WriteEndObject();
        w.WritePropertyName("id");
        if (id.ValueKind == JsonValueKind.Undefined)
        {
            w.WriteNullValue();
        }
        else
        {
            id.WriteTo(w);
        }

        w.WriteEndObject();
    });
}
