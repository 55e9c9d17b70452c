using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Chaser.Core.Chasing;

namespace Chaser.Binance.Connector;

/// <summary>
/// Order entry over Binance's WebSocket API (<c>/ws-fapi/v1</c>: <c>order.place</c>, <c>order.modify</c>,
/// <c>order.cancel</c>) on one long-lived connection, which saves the HTTP round-trip set-up of REST. The connector
/// falls back to REST whenever this connection is not up. Requests are the REST requests' parameters (built and
/// rounded in one place), re-signed over the alphabetically sorted parameters as the WebSocket API wants; answers
/// are handled exactly as REST answers. A request still unanswered when the connection drops or its time runs out
/// has an unknown outcome, which the chaser confirms by query.
/// </summary>
internal sealed class WsApiOrderEntry : IAsyncDisposable
{
    private readonly BinanceConnector _connector;
    private readonly BinanceConnectorOptions _options;
    private readonly Uri _url;
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly ITimer _sweeper;
    private readonly ReconnectingWebSocket _socket;
    private long _nextId;
    private volatile bool _up;

    public WsApiOrderEntry(BinanceConnector connector, BinanceConnectorOptions options, Uri url)
    {
        _connector = connector;
        _options = options;
        _url = url;
        _sweeper = options.Time.CreateTimer(_ => ExpireOverdue(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        // The shared reconnecting socket: REST carries the orders while it is down; what was in flight is unknown.
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
    public long Sent => Interlocked.Read(ref _nextId);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _socket.StartAsync(cancellationToken).ConfigureAwait(false);
        _up = true;
    }

    /// <summary>
    /// Sends one order request given as its signed REST query; false when the connection is not up (use REST).
    /// </summary>
    public bool TrySend(ChaserCommandKind kind, string clientOrderId, ReadOnlySpan<byte> signedRestQuery)
    {
        if (!_up)
        {
            return false;
        }

        var method = kind switch
        {
            ChaserCommandKind.Place => "order.place",
            ChaserCommandKind.Modify => "order.modify",
            ChaserCommandKind.Cancel => "order.cancel",
            _ => null,
        };
        if (method is null)
        {
            return false;
        }

        var id = clientOrderId + "." + Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
        var frame = Frame(id, method, signedRestQuery);
        _pending[id] = new Pending(kind, clientOrderId, _options.Time.GetTimestamp());
        _ = SendAsync(id, frame);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _up = false;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        await _socket.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>The JSON request: the REST parameters plus apiKey, sorted, signed; integers as numbers, the rest as strings.</summary>
    private byte[] Frame(string id, string method, ReadOnlySpan<byte> signedRestQuery)
    {
        var parameters = new List<KeyValuePair<string, string>>(12)
        {
            KeyValuePair.Create("apiKey", _options.ApiKey.Value),
        };
        foreach (var pair in Encoding.ASCII.GetString(signedRestQuery).Split('&'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = pair[..equals];
            if (key != "signature")
            {
                parameters.Add(KeyValuePair.Create(key, Uri.UnescapeDataString(pair[(equals + 1)..])));
            }
        }

        parameters.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var payload = Encoding.UTF8.GetBytes(string.Join('&', parameters.Select(p => p.Key + "=" + p.Value)));
        var signature = ArrayPool<byte>.Shared.Rent(_options.Signer.MaxSignatureLength);
        string signatureText;
        try
        {
            var length = _options.Signer.Sign(payload, signature);

            // An Ed25519 signature comes URL-encoded for a query string; in JSON it is plain base64.
            signatureText = Uri.UnescapeDataString(Encoding.ASCII.GetString(signature, 0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(signature);
        }

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("method", method);
            json.WriteStartObject("params");
            foreach (var (key, value) in parameters)
            {
                if (key is "timestamp" or "recvWindow")
                {
                    json.WriteNumber(key, long.Parse(value, CultureInfo.InvariantCulture));
                }
                else
                {
                    json.WriteString(key, value);
                }
            }

            json.WriteString("signature", signatureText);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private async Task SendAsync(string id, byte[] frame)
    {
        // Part of the frame may have left before a failure: the exchange may have it.
        if (!await _socket.SendAsync(frame, _stop.Token).ConfigureAwait(false) && _pending.TryRemove(id, out var pending))
        {
            Unknown(pending, "send failed");
        }
    }

    private void OnMessage(ReadOnlySpan<byte> message, long receivedTimestamp)
    {
        string? id = null;
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
                    id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
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

        if (orders10s is not null || orders1m is not null || weight1m is not null)
        {
            _connector.RateGuard.Observe(orders10s, orders1m, weight1m);
            _connector.ReportBudget();
        }

        if (id is null || !_pending.TryRemove(id, out var pending))
        {
            return;
        }

        _connector.HandleOrderAnswer(body, status, pending.Kind, pending.ClientOrderId);
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
        foreach (var (id, pending) in _pending)
        {
            if (_options.Time.GetElapsedTime(pending.SentTimestamp) > _options.RequestTimeout && _pending.TryRemove(id, out _))
            {
                Unknown(pending, "no answer in time");
            }
        }
    }

    private void FailAllPending(string reason)
    {
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
            {
                Unknown(pending, reason);
            }
        }
    }

    private void Unknown(Pending pending, string reason)
    {
        _options.Diagnostics?.Invoke($"{pending.Kind} {pending.ClientOrderId} over the websocket API: {reason}; outcome unknown");
        _connector.ReportUnknown(pending.ClientOrderId, pending.Kind);
    }

    private readonly record struct Pending(ChaserCommandKind Kind, string ClientOrderId, long SentTimestamp);
}
