using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using Chaser.Binance.Parsing;
using Chaser.Core.Chasing;
using Chaser.Core.Market;
using Chaser.Core.Ports;

namespace Chaser.Binance.Connector;

/// <summary>
/// One combined market-data WebSocket for every subscribed symbol: <c>@bookTicker</c> for the top of the book and
/// a partial <c>@depthN@100ms</c> for the next levels. New symbols join with a live SUBSCRIBE; a drop is reported as
/// market data lost for every symbol and the reconnect subscribes them all again.
/// </summary>
internal sealed class MarketStream : IAsyncDisposable
{
    private readonly BinanceConnectorOptions _options;
    private readonly IExchangeEventSink _sink;
    private readonly MarketDataParser _parser;
    private readonly CancellationTokenSource _stop = new();
    private readonly WebSocketFrames _frames = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<string> _symbols = new(StringComparer.Ordinal);
    private ClientWebSocket? _socket;
    private Task? _loop;
    private int _nextId;

    public MarketStream(BinanceConnectorOptions options, IExchangeEventSink sink, Utf8StringCache strings)
    {
        _options = options;
        _sink = sink;
        _parser = new MarketDataParser(strings);
    }

    public async Task SubscribeAsync(string symbol, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_symbols.Add(symbol))
            {
                return;
            }

            if (_socket is null)
            {
                _socket = await OpenAsync(cancellationToken).ConfigureAwait(false);
                _loop = Task.Run(RunAsync, CancellationToken.None);
                return;
            }

            var id = Interlocked.Increment(ref _nextId);
            var subscribe = $"{{\"method\":\"SUBSCRIBE\",\"params\":[{string.Join(',', StreamsOf(symbol).Select(s => $"\"{s}\""))}],\"id\":{id.ToString(CultureInfo.InvariantCulture)}}}";
            await _socket.SendAsync(Encoding.UTF8.GetBytes(subscribe), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
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

        _socket?.Dispose();
        _frames.Dispose();
        _gate.Dispose();
        _stop.Dispose();
    }

    private IEnumerable<string> StreamsOf(string symbol)
    {
        var lower = symbol.ToLowerInvariant();
        yield return lower + "@bookTicker";
        yield return $"{lower}@depth{_options.DepthLevels.ToString(CultureInfo.InvariantCulture)}@100ms";
    }

    private async Task<ClientWebSocket> OpenAsync(CancellationToken cancellationToken)
    {
        var streams = string.Join('/', _symbols.Order(StringComparer.Ordinal).SelectMany(StreamsOf));
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        await socket.ConnectAsync(new Uri(_options.StreamBaseUrl, "/stream?streams=" + streams), cancellationToken).ConfigureAwait(false);
        return socket;
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        var failures = 0;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await _frames.ReadAllAsync(_socket!, _options.Time, OnMessage, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                if (token.IsCancellationRequested)
                {
                    break;
                }

                _options.Diagnostics?.Invoke($"market stream dropped: {e.Message}");
            }

            if (token.IsCancellationRequested)
            {
                break;
            }

            _sink.OnConnectivity(ConnectionScope.MarketData, null, up: false);
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(Backoff.Jittered(failures++, _options.MaxReconnectDelay), _options.Time, token).ConfigureAwait(false);
                await _gate.WaitAsync(token).ConfigureAwait(false);
                try
                {
                    _socket?.Dispose();
                    _socket = await OpenAsync(token).ConfigureAwait(false);
                    failures = 0;
                    _sink.OnConnectivity(ConnectionScope.MarketData, null, up: true);
                    break;
                }
                catch (Exception e) when (e is WebSocketException or IOException)
                {
                    _options.Diagnostics?.Invoke($"market stream reconnect failed: {e.Message}");
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
    }

    private void OnMessage(ReadOnlySpan<byte> message, long receivedTimestamp)
    {
        if (!CombinedStream.TryUnwrap(message, out var stream, out var data))
        {
            // Answers to SUBSCRIBE ({"result":null,"id":n}) and anything unrouted.
            return;
        }

        if (stream.EndsWith("@bookTicker"u8))
        {
            var ticker = _parser.ParseBookTicker(data);
            _sink.OnBook(ticker.Symbol, ticker.ToBookTop(), receivedTimestamp);
        }
        else if (stream.IndexOf("@depth"u8) > 0)
        {
            var diff = _parser.Depth;
            _parser.ParseDepthUpdate(data, diff);
            var depth = new DepthLevels(diff.Bids.ToArray(), diff.Asks.ToArray(), diff.FinalUpdateId, JsonRead.Time(diff.TransactionTimeMs != 0 ? diff.TransactionTimeMs : diff.EventTimeMs));
            _sink.OnDepth(diff.Symbol, depth, receivedTimestamp);
        }
    }
}
