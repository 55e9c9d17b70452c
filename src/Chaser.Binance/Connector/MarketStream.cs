using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using Chaser.Binance.Book;
using Chaser.Binance.Parsing;
using Chaser.Core.Chasing;
using Chaser.Core.Market;
using Chaser.Core.Ports;

namespace Chaser.Binance.Connector;

/// <summary>
/// One combined market-data WebSocket for every subscribed symbol: <c>@bookTicker</c> for the top of the book,
/// <c>@depth@100ms</c> diffs kept as a local order book synchronised with a REST snapshot (<c>U</c>/<c>u</c>/<c>pu</c>
/// chaining; a gap marks the symbol's market data lost until a new snapshot makes the book whole), and
/// <c>@aggTrade</c> for the tape. New symbols join with a live SUBSCRIBE; a drop is reported as market data lost for
/// every symbol, and the reconnect subscribes them all again and resynchronises every book.
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
    private readonly Dictionary<string, DepthBook> _books = new(StringComparer.Ordinal);
    private readonly Func<string, CancellationToken, Task<byte[]>> _fetchSnapshot;
    private ClientWebSocket? _socket;
    private Task? _loop;
    private int _nextId;

    // fetchSnapshot GETs /fapi/v1/depth for a symbol through the connector's REST path (its retries and rate accounting).
    public MarketStream(BinanceConnectorOptions options, IExchangeEventSink sink, Utf8StringCache strings, Func<string, CancellationToken, Task<byte[]>> fetchSnapshot)
    {
        _options = options;
        _sink = sink;
        _parser = new MarketDataParser(strings);
        _fetchSnapshot = fetchSnapshot;
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

            lock (_books)
            {
                _books[symbol] = new DepthBook(symbol);
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
        yield return lower + "@depth@100ms";
        yield return lower + "@aggTrade";
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
                    ResetBooks();
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
        else if (stream.EndsWith("@aggTrade"u8))
        {
            var trade = _parser.ParseAggTrade(data);
            _sink.OnTrade(trade.Symbol, trade.ToTradePrint(_options.Time.GetUtcNow()));
        }
        else if (stream.IndexOf("@depth"u8) > 0)
        {
            var diff = _parser.Depth;
            _parser.ParseDepthUpdate(data, diff);
            OnDiff(diff, receivedTimestamp);
        }
    }

    private void OnDiff(DepthDiff diff, long receivedTimestamp)
    {
        DepthBook? entry;
        lock (_books)
        {
            _books.TryGetValue(diff.Symbol, out entry);
        }

        if (entry is null)
        {
            return;
        }

        DepthLevels? levels = null;
        var fetch = false;
        var lost = false;
        lock (entry)
        {
            switch (entry.Book.OnDiff(diff))
            {
                case DiffOutcome.Applied:
                    levels = entry.Book.Levels(_options.DepthLevels);
                    break;
                case DiffOutcome.Gap:
                    lost = !entry.ReportedLost;
                    entry.ReportedLost = true;
                    fetch = !entry.Fetching;
                    entry.Fetching = true;
                    _options.Diagnostics?.Invoke($"{diff.Symbol} depth: {entry.Book.GapReason}; resynchronising");
                    break;
                case DiffOutcome.Buffered when !entry.Fetching:
                    fetch = true;
                    entry.Fetching = true;
                    break;
            }
        }

        if (lost)
        {
            _sink.OnConnectivity(ConnectionScope.MarketData, diff.Symbol, up: false);
        }

        if (fetch)
        {
            _ = Task.Run(() => SynchroniseAsync(entry), CancellationToken.None);
        }

        if (levels is not null)
        {
            _sink.OnDepth(diff.Symbol, levels, receivedTimestamp);
        }
    }

    /// <summary>Loads REST snapshots until the buffered diffs bridge onto one (Binance's documented procedure).</summary>
    private async Task SynchroniseAsync(DepthBook entry)
    {
        var token = _stop.Token;
        for (var attempt = 0; !token.IsCancellationRequested; attempt++)
        {
            DepthSyncState state;
            try
            {
                var body = await _fetchSnapshot(entry.Symbol, token).ConfigureAwait(false);
                var snapshot = RestResponseParser.ParseDepthSnapshot(body);
                lock (entry)
                {
                    state = entry.Book.ApplySnapshot(snapshot);
                    if (state != DepthSyncState.ResyncNeeded)
                    {
                        // Synced, or waiting for the diff that bridges the snapshot: the stream takes it from here.
                        entry.Fetching = false;
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException)
            {
                _options.Diagnostics?.Invoke($"{entry.Symbol} depth snapshot failed: {e.Message}");
                state = DepthSyncState.ResyncNeeded;
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (state == DepthSyncState.Synced)
            {
                bool restored;
                DepthLevels levels;
                lock (entry)
                {
                    restored = entry.ReportedLost;
                    entry.ReportedLost = false;
                    levels = entry.Book.Levels(_options.DepthLevels);
                }

                _sink.OnDepth(entry.Symbol, levels, _options.Time.GetTimestamp());
                if (restored)
                {
                    _sink.OnConnectivity(ConnectionScope.MarketData, entry.Symbol, up: true);
                }

                return;
            }

            if (state == DepthSyncState.AwaitingBridgingDiff)
            {
                return;
            }

            // The snapshot is older than the diffs buffered since (or the call failed): try again shortly.
            try
            {
                await Task.Delay(Backoff.Jittered(attempt, TimeSpan.FromSeconds(2)) + TimeSpan.FromMilliseconds(100), _options.Time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>After a reconnect every book starts over from a fresh snapshot; the first diff asks for one.</summary>
    private void ResetBooks()
    {
        lock (_books)
        {
            foreach (var symbol in _books.Keys.ToArray())
            {
                _books[symbol] = new DepthBook(symbol);
            }
        }
    }

    /// <summary>One symbol's local book and where its synchronisation stands. Locked while touched.</summary>
    private sealed class DepthBook(string symbol)
    {
        public string Symbol { get; } = symbol;

        public LocalOrderBook Book { get; } = new(symbol);

        /// <summary>A snapshot request is under way.</summary>
        public bool Fetching { get; set; }

        /// <summary>The chasers were told this symbol's market data is lost (a gap) and await its restoration.</summary>
        public bool ReportedLost { get; set; }
    }
}
