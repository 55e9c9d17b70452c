using System.Text.Json;
using Chaser.Binance.Parsing;
using Chaser.Binance.Requests;
using Chaser.Core.Chasing;
using Chaser.Core.Ports;

namespace Chaser.Binance.Connector;

/// <summary>
/// The user data stream: a listen key kept alive, one <see cref="ReconnectingWebSocket"/> on Binance's private route
/// (<c>/private/ws/&lt;listenKey&gt;</c>; the unrouted <c>/ws/&lt;listenKey&gt;</c> was retired on 2026-04-23, §7 of
/// binance-futures-api.md), ORDER_TRADE_UPDATE mapped onto the chaser's events. TRADE_LITE, which Binance sends beside
/// ORDER_TRADE_UPDATE for the same trade, is ignored: the fill is taken from ORDER_TRADE_UPDATE only (it carries the
/// fee, the cumulative quantity and the status), so no fill is counted twice. A drop is reported as order entry lost
/// (so is a listenKeyExpired, or a keep-alive the exchange refuses: the socket may stay open, deaf, so it is dropped);
/// every connection asks for the listen key again (POST returns the active one, or a new one once it lapsed), and once
/// back, order entry is reported restored and the chasers reconcile their children by query.
/// </summary>
internal sealed class UserStream : IAsyncDisposable
{
    private readonly BinanceConnector _connector;
    private readonly BinanceConnectorOptions _options;
    private readonly IExchangeEventSink _sink;
    private readonly UserDataParser _parser;
    private readonly CancellationTokenSource _stop = new();
    private readonly ReconnectingWebSocket _socket;
    private ITimer? _keepAlive;
    private string? _listenKey;

    public UserStream(BinanceConnector connector, BinanceConnectorOptions options, IExchangeEventSink sink, Utf8StringCache strings)
    {
        _connector = connector;
        _options = options;
        _sink = sink;
        _parser = new UserDataParser(strings);
        _socket = new ReconnectingWebSocket(
            "user stream",
            options,
            AddressAsync,
            OnMessage,
            onDown: () => _sink.OnInput(ChaserInput.OfConnectivity(ConnectionScope.OrderEntry, null, up: false)),
            onUp: () => _sink.OnInput(ChaserInput.OfConnectivity(ConnectionScope.OrderEntry, null, up: true)),
            messagesPerSecond: options.StreamMessagesPerSecond);
    }

    /// <summary>Connections opened so far (for tests and diagnostics).</summary>
    internal long Connections => _socket.Connections;

    /// <summary>Returns once the first connection is open, so that no order goes out before its events can be heard.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _socket.StartAsync(cancellationToken).ConfigureAwait(false);
        _keepAlive = _options.Time.CreateTimer(_ => _ = KeepAliveAsync(), null, _options.ListenKeyKeepAlive, _options.ListenKeyKeepAlive);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_keepAlive is not null)
        {
            await _keepAlive.DisposeAsync().ConfigureAwait(false);
        }

        await _socket.DisposeAsync().ConfigureAwait(false);
        if (_listenKey is not null)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _connector.CallAsync(HttpMethod.Delete, BinanceEndpoint.CloseListenKey.Path, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                _connector.Diagnose($"closing the listen key failed: {e.Message}");
            }
        }

        _stop.Dispose();
    }

    /// <summary>The private route with a live listen key: asked for on every connection, since the old one may have lapsed.</summary>
    private async Task<Uri> AddressAsync(CancellationToken cancellationToken)
    {
        var body = await _connector.CallAsync(HttpMethod.Post, BinanceEndpoint.StartListenKey.Path, cancellationToken).ConfigureAwait(false);
        string key;
        using (var document = JsonDocument.Parse(body))
        {
            key = document.RootElement.GetProperty("listenKey").GetString()
                ?? throw new FormatException("listenKey response has no listenKey");
        }

        Volatile.Write(ref _listenKey, key);
        return new Uri(_options.StreamBaseUrl, "/private/ws/" + Uri.EscapeDataString(key));
    }

    private void OnMessage(ReadOnlySpan<byte> message, long receivedTimestamp)
    {
        switch (UserDataParser.EventType(message))
        {
            case UserEventType.OrderTradeUpdate:
                var update = _parser.ParseOrderTradeUpdate(message);
                var core = OrderEventMapping.ToCore(update, _options.Time.GetUtcNow());
                switch (core.Kind)
                {
                    case CoreOrderEventKind.Accepted:
                        _sink.OnInput(ChaserInput.OfAccepted(core.Accepted).ReceivedAt(receivedTimestamp));
                        break;
                    case CoreOrderEventKind.Fill:
                        _sink.OnInput(ChaserInput.OfFill(core.Fill).ReceivedAt(receivedTimestamp));
                        break;
                    case CoreOrderEventKind.Finished:
                        _sink.OnInput(ChaserInput.OfFinished(core.Finished).ReceivedAt(receivedTimestamp));
                        break;
                    default:
                        break;
                }

                break;
            case UserEventType.TradeLite:
                // The same trade comes again, complete, as ORDER_TRADE_UPDATE x=TRADE: counting both would double the fill.
                break;
            case UserEventType.ListenKeyExpired:
                // Nothing more comes for this key, yet Binance may leave the socket open (§7): waiting for its close
                // would leave every order deaf. The reconnect asks for a new key, and its down/up makes the chasers
                // reconcile by query what happened meanwhile. The expiry of a key already replaced (the lagging
                // connection of a planned replacement) is no news.
                var expired = ExpiredKey(message);
                if (expired is null || string.Equals(expired, Volatile.Read(ref _listenKey), StringComparison.Ordinal))
                {
                    _socket.Reconnect("listen key expired");
                }

                break;
            default:
                break;
        }
    }

    private async Task KeepAliveAsync()
    {
        try
        {
            await _connector.CallAsync(HttpMethod.Put, BinanceEndpoint.KeepAliveListenKey.Path, _stop.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.StatusCode is { } status && (int)status is >= 400 and < 500 and not 418 and not 429)
        {
            // The exchange refused to extend the key (-1125: it does not know it any more): the stream on it is as good
            // as dead, whether or not its socket stays open, so it reconnects on a new key now.
            _socket.Reconnect($"listen key keep-alive refused ({e.Message})");
        }
        catch (Exception e)
        {
            // A timer callback: nothing may escape. A key that lapses meanwhile is replaced on its listenKeyExpired.
            _connector.Diagnose($"listen key keep-alive failed ({e.GetType().Name}: {e.Message})");
        }
    }

    /// <summary>The key a listenKeyExpired event names; null when it names none.</summary>
    private static string? ExpiredKey(ReadOnlySpan<byte> message)
    {
        var reader = new Utf8JsonReader(message);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("listenKey"u8))
            {
                return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
        }

        return null;
    }
}
