using System.Net.WebSockets;
using System.Text.Json;
using Chaser.Binance.Parsing;
using Chaser.Binance.Requests;
using Chaser.Core.Chasing;
using Chaser.Core.Ports;

namespace Chaser.Binance.Connector;

/// <summary>
/// The user data stream: a listen key kept alive, one WebSocket, ORDER_TRADE_UPDATE mapped onto the chaser's events.
/// A drop is reported as order entry lost; after the reconnect the chasers reconcile their children by query.
/// </summary>
internal sealed class UserStream : IAsyncDisposable
{
    private readonly BinanceConnector _connector;
    private readonly BinanceConnectorOptions _options;
    private readonly IExchangeEventSink _sink;
    private readonly UserDataParser _parser;
    private readonly CancellationTokenSource _stop = new();
    private readonly WebSocketFrames _frames = new();
    private Task? _loop;
    private string? _listenKey;

    public UserStream(BinanceConnector connector, BinanceConnectorOptions options, IExchangeEventSink sink, Utf8StringCache strings)
    {
        _connector = connector;
        _options = options;
        _sink = sink;
        _parser = new UserDataParser(strings);
    }

    /// <summary>Returns once the first connection is open, so that no order goes out before its events can be heard.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var socket = await OpenAsync(cancellationToken).ConfigureAwait(false);
        _loop = Task.Run(() => RunAsync(socket), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
        }

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

        _frames.Dispose();
        _stop.Dispose();
    }

    private async Task<ClientWebSocket> OpenAsync(CancellationToken cancellationToken)
    {
        var body = await _connector.CallAsync(HttpMethod.Post, BinanceEndpoint.StartListenKey.Path, cancellationToken).ConfigureAwait(false);
        using (var document = JsonDocument.Parse(body))
        {
            _listenKey = document.RootElement.GetProperty("listenKey").GetString()
                ?? throw new FormatException("listenKey response has no listenKey");
        }

        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        await socket.ConnectAsync(new Uri(_options.StreamBaseUrl, "/ws/" + _listenKey), cancellationToken).ConfigureAwait(false);
        return socket;
    }

    private async Task RunAsync(ClientWebSocket socket)
    {
        var token = _stop.Token;
        var failures = 0;
        using var keepAlive = _options.Time.CreateTimer(_ => _ = KeepAliveAsync(), null, _options.ListenKeyKeepAlive, _options.ListenKeyKeepAlive);
        while (!token.IsCancellationRequested)
        {
            try
            {
                await _frames.ReadAllAsync(socket, _options.Time, OnMessage, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                if (token.IsCancellationRequested)
                {
                    break;
                }

                _connector.Diagnose($"user stream dropped: {e.Message}");
            }
            finally
            {
                socket.Dispose();
            }

            if (token.IsCancellationRequested)
            {
                break;
            }

            _sink.OnConnectivity(ConnectionScope.OrderEntry, null, up: false);
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(Backoff.Jittered(failures++, _options.MaxReconnectDelay), _options.Time, token).ConfigureAwait(false);
                try
                {
                    socket = await OpenAsync(token).ConfigureAwait(false);
                    failures = 0;
                    _sink.OnConnectivity(ConnectionScope.OrderEntry, null, up: true);
                    break;
                }
                catch (Exception e) when (e is WebSocketException or HttpRequestException or IOException)
                {
                    _connector.Diagnose($"user stream reconnect failed: {e.Message}");
                }
            }
        }
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
                        _sink.OnAccepted(core.Accepted);
                        break;
                    case CoreOrderEventKind.Fill:
                        _sink.OnFill(core.Fill);
                        break;
                    case CoreOrderEventKind.Finished:
                        _sink.OnOrderFinished(core.Finished);
                        break;
                    default:
                        break;
                }

                break;
            case UserEventType.ListenKeyExpired:
                // The stream will close; the reconnect creates a new key.
                _connector.Diagnose("listen key expired");
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
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            _connector.Diagnose($"listen key keep-alive failed: {e.Message}");
        }
    }
}

/// <summary>Reconnect delays: exponential from 100 ms with full jitter, capped.</summary>
internal static class Backoff
{
    public static TimeSpan Jittered(int failures, TimeSpan max)
    {
        var ceiling = Math.Min(max.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(failures, 10)));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }
}
