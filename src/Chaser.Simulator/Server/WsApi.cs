using System.Net.WebSockets;
using System.Text.Json;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Wire;

namespace Chaser.Simulator.Server;

/// <summary>
/// The WebSocket API at /ws-fapi/v1: {"id","method","params"} in, {"id","status","result"|"error","rateLimits"}
/// out. Signed methods carry apiKey, timestamp and a signature over the params sorted alphabetically, or, on a
/// connection authenticated by <c>session.logon</c> (Ed25519 keys only), neither apiKey nor signature: the timestamp
/// is still checked (Binance's "Session Authentication"). <c>session.status</c> / <c>session.logout</c> show and forget
/// the connection's key.
/// </summary>
internal sealed class WsApi(SimulatorContext context)
{
    /// <summary>The largest request read (Binance documents none); the stream server's bound.</summary>
    public const int MaxMessageBytes = Streams.StreamConnection.MaxMessageBytes;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<WebSocket, byte> open = new();

    private ExchangeEngine Engine => context.Engine;

    /// <summary>Fault injection: aborts every open WebSocket API connection; returns how many.</summary>
    public int DropAll()
    {
        var dropped = 0;
        foreach (var socket in open.Keys)
        {
            socket.Abort();
            dropped++;
        }

        return dropped;
    }

    public async Task RunAsync(WebSocket socket, string ip, CancellationToken ct)
    {
        open.TryAdd(socket, 0);
        try
        {
            await ServeAsync(socket, ip, ct);
        }
        finally
        {
            open.TryRemove(socket, out _);
        }
    }

    private async Task ServeAsync(WebSocket socket, string ip, CancellationToken ct)
    {
        // Opening a connection costs 5 weight.
        try
        {
            context.RateLimits.ChargeWeight(ip, 5);
        }
        catch (BinanceException)
        {
            await socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "rate limited", ct);
            return;
        }

        var session = new Session(Engine.Now);
        var buffer = new byte[64 * 1024];
        try
        {
            while (socket.State == WebSocketState.Open && !ct.IsCancellationRequested)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, ct);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
                        return;
                    }

                    // a request is a few hundred bytes: one endless message must not grow the server's memory
                    if (message.Length + result.Count > MaxMessageBytes)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, $"a message may have at most {MaxMessageBytes} bytes", ct);
                        return;
                    }

                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                var response = await HandleAsync(message.ToArray(), ip, session, ct);
                await socket.SendAsync(response, WebSocketMessageType.Text, true, ct);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // the client went away or the server is stopping
        }
    }

    private async Task<byte[]> HandleAsync(byte[] text, string ip, Session session, CancellationToken ct)
    {
        JsonElement id = default;
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Respond(default, 400, null, new BinanceException(-1102, "Malformed request: expected a JSON object with id, method and params."), ip);
            }

            id = root.TryGetProperty("id", out var idElement) ? idElement.Clone() : default;

            // a method that is no string is no method we serve (-1020), not a reason to drop the connection
            var method = root.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : string.Empty;
            var values = new List<KeyValuePair<string, string>>();
            if (root.TryGetProperty("params", out var ps) && ps.ValueKind == JsonValueKind.Object)
            {
                foreach (var prop in ps.EnumerateObject())
                {
                    values.Add(KeyValuePair.Create(prop.Name, prop.Value.ValueKind switch
                    {
                        JsonValueKind.String => prop.Value.GetString()!,
                        JsonValueKind.True => "true",
                        JsonValueKind.False => "false",
                        _ => prop.Value.GetRawText(),
                    }));
                }
            }

            var p = RequestParameters.FromValues(values);
            var (weight, orders, security) = method switch
            {
                "order.place" => (0, 1, Security.Signed),
                "order.modify" => (1, 1, Security.Signed),
                "order.cancel" => (1, 0, Security.Signed),
                "order.status" => (1, 0, Security.Signed),
                "userDataStream.start" or "userDataStream.ping" or "userDataStream.stop" => (1, 0, Security.ApiKey),
                "ping" or "time" => (1, 0, Security.None),
                "session.logon" or "session.status" or "session.logout" => (2, 0, Security.None),
                _ => throw new BinanceException(-1020, "Unsupported operation."),
            };
            context.RateLimits.ChargeWeight(ip, weight);
            if (security != Security.None)
            {
                Authenticate(p, ip, session, security == Security.Signed);
            }

            if (orders > 0)
            {
                context.RateLimits.ChargeOrders(context.Options.ApiKey, orders, orders);
            }

            // Cancels don't count as orders, but they travel the same order-entry path and take as long.
            if (method is "order.place" or "order.modify" or "order.cancel" && context.Options.OrderEntryLatency > TimeSpan.Zero)
            {
                await Task.Delay(context.Options.OrderEntryLatency, context.Clock, ct);
            }

            Action<Utf8JsonWriter> result = method switch
            {
                "order.place" => Place(p),
                "order.modify" => Modify(p),
                "order.cancel" => Cancel(p),
                "order.status" => Status(p),
                "userDataStream.start" => ListenKey(context.ListenKeys.CreateOrGet()),
                "userDataStream.ping" => context.ListenKeys.Extend(p.Optional("listenKey")) ? ListenKey(context.ListenKeys.Active!) : throw BinanceErrors.InvalidListenKey(),
                "userDataStream.stop" => Stop(p),
                "session.logon" => Logon(p, ip, session),
                "session.status" => SessionStatus(session),
                "session.logout" => Logout(session),
                "time" => w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("serverTime", Engine.Now);
                    w.WriteEndObject();
                }
                ,
                _ => w =>
                {
                    w.WriteStartObject();
                    w.WriteEndObject();
                }
                ,
            };
            return Respond(id, 200, result, null, ip);
        }
        catch (BinanceException ex)
        {
            return Respond(id, ex.HttpStatus, null, ex, ip);
        }
        catch (JsonException)
        {
            return Respond(id, 400, null, new BinanceException(-1102, "Mandatory parameter 'id' was not sent, was empty/null, or malformed."), ip);
        }
    }

    /// <summary>
    /// A request that names no apiKey and carries no signature is the logged-on key's, if any (its timestamp still
    /// checked); otherwise it must name a key of the account and, when signed, carry that key's signature.
    /// </summary>
    private void Authenticate(RequestParameters p, string ip, Session session, bool signed)
    {
        if (session.ApiKey is not null && !p.Has("apiKey") && !p.Has("signature"))
        {
            if (signed)
            {
                RestApi.CheckTimestamp(p, Engine.Now);
            }

            return;
        }

        // An unauthenticated connection: what Binance answers a request without apiKey.
        var key = p.Optional("apiKey") ?? throw BinanceErrors.Mandatory("apiKey");
        if (!context.Credentials.IsKnown(key))
        {
            throw BinanceErrors.InvalidApiKey(ip);
        }

        if (signed)
        {
            RestApi.CheckTimestamp(p, Engine.Now);
            if (!p.VerifySortedSignature(context.Credentials, key))
            {
                throw BinanceErrors.BadSignature();
            }
        }
    }

    /// <summary>session.logon: an Ed25519 key of the account, its timestamp in recvWindow, its signature over apiKey, recvWindow and timestamp.</summary>
    private Action<Utf8JsonWriter> Logon(RequestParameters p, string ip, Session session)
    {
        var key = p.Optional("apiKey") ?? throw BinanceErrors.Mandatory("apiKey");
        if (!context.Credentials.IsKnown(key))
        {
            throw BinanceErrors.InvalidApiKey(ip);
        }

        if (!context.Credentials.IsEd25519(key))
        {
            throw new BinanceException(-4056, "HMAC_SHA256 API key is not supported.");
        }

        RestApi.CheckTimestamp(p, Engine.Now);
        if (!p.VerifySortedSignature(context.Credentials, key))
        {
            throw BinanceErrors.BadSignature();
        }

        // Only one key per connection: a second logon replaces the first.
        session.ApiKey = key;
        session.AuthorizedSince = Engine.Now;
        return SessionStatus(session);
    }

    private Action<Utf8JsonWriter> Logout(Session session)
    {
        session.ApiKey = null;
        session.AuthorizedSince = null;
        return SessionStatus(session);
    }

    /// <summary>The connection's authentication as Binance reports it: apiKey and authorizedSince are null when not logged on.</summary>
    private Action<Utf8JsonWriter> SessionStatus(Session session)
    {
        var (apiKey, since, connected, now) = (session.ApiKey, session.AuthorizedSince, session.ConnectedSince, Engine.Now);
        var userDataStream = context.ListenKeys.Active is not null;
        return w =>
        {
            w.WriteStartObject();
            if (apiKey is null)
            {
                w.WriteNull("apiKey");
                w.WriteNull("authorizedSince");
            }
            else
            {
                w.WriteString("apiKey", apiKey);
                w.WriteNumber("authorizedSince", since!.Value);
            }

            w.WriteNumber("connectedSince", connected);
            w.WriteBoolean("returnRateLimits", true);
            w.WriteNumber("serverTime", now);
            w.WriteBoolean("userDataStream", userDataStream);
            w.WriteEndObject();
        };
    }

    private Action<Utf8JsonWriter> Place(RequestParameters p)
    {
        var request = OrderRequests.ParseNew(p, Engine, out var resultResponse);
        var placed = Engine.PlaceOrder(request);
        var spec = Engine.GetSpec(request.Symbol);
        return w => BinanceJson.WriteOrder(w, spec, resultResponse ? placed.Final : placed.Accepted, includeTime: false);
    }

    private Action<Utf8JsonWriter> Modify(RequestParameters p)
    {
        var order = Engine.ModifyOrder(OrderRequests.ParseModify(p, Engine));
        var spec = Engine.GetSpec(order.Symbol);
        return w => BinanceJson.WriteOrder(w, spec, order, includeTime: false);
    }

    private Action<Utf8JsonWriter> Cancel(RequestParameters p)
    {
        var (symbol, orderId, clientId) = OrderRequests.ParseOrderRef(p, Engine);
        var order = Engine.CancelOrder(symbol, orderId, clientId);
        var spec = Engine.GetSpec(symbol);
        return w => BinanceJson.WriteOrder(w, spec, order, includeTime: false);
    }

    private Action<Utf8JsonWriter> Status(RequestParameters p)
    {
        var (symbol, orderId, clientId) = OrderRequests.ParseOrderRef(p, Engine);
        var order = Engine.QueryOrder(symbol, orderId, clientId);
        var spec = Engine.GetSpec(symbol);
        return w => BinanceJson.WriteOrder(w, spec, order, includeTime: true);
    }

    private Action<Utf8JsonWriter> Stop(RequestParameters p)
    {
        context.ListenKeys.Close(p.Optional("listenKey"));
        return w =>
        {
            w.WriteStartObject();
            w.WriteEndObject();
        };
    }

    private static Action<Utf8JsonWriter> ListenKey(string key) => w =>
    {
        w.WriteStartObject();
        w.WriteString("listenKey", key);
        w.WriteEndObject();
    };

    private byte[] Respond(JsonElement id, int status, Action<Utf8JsonWriter>? result, BinanceException? error, string ip)
    {
        var used = context.RateLimits.UsedWeight(ip);
        var (tenSeconds, minute) = context.RateLimits.OrderCounts(context.Options.ApiKey);
        var limits = context.RateLimits.Options;
        return JsonFrame.Write(w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("id");
            if (id.ValueKind is JsonValueKind.String or JsonValueKind.Number)
            {
                id.WriteTo(w);
            }
            else
            {
                w.WriteNullValue();
            }

            w.WriteNumber("status", status);
            if (error is null)
            {
                w.WritePropertyName("result");
                result!(w);
            }
            else
            {
                w.WritePropertyName("error");
                BinanceJson.WriteError(w, error.Code, error.Message);
            }

            w.WriteStartArray("rateLimits");
            RateLimitEntry(w, "REQUEST_WEIGHT", "MINUTE", 1, limits.RequestWeightPerMinute, used);
            RateLimitEntry(w, "ORDERS", "SECOND", 10, limits.OrdersPer10Seconds, tenSeconds);
            RateLimitEntry(w, "ORDERS", "MINUTE", 1, limits.OrdersPerMinute, minute);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static void RateLimitEntry(Utf8JsonWriter w, string type, string interval, int num, int limit, int count)
    {
        w.WriteStartObject();
        w.WriteString("rateLimitType", type);
        w.WriteString("interval", interval);
        w.WriteNumber("intervalNum", num);
        w.WriteNumber("limit", limit);
        w.WriteNumber("count", count);
        w.WriteEndObject();
    }

    /// <summary>One connection's authentication (session.logon): its requests are handled one at a time.</summary>
    private sealed class Session(long connectedSince)
    {
        public long ConnectedSince { get; } = connectedSince;

        public string? ApiKey { get; set; }

        public long? AuthorizedSince { get; set; }
    }
}
