using System.Collections.Concurrent;
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
/// Market data on Binance's routed URLs (§6 of binance-futures-api.md: the unrouted <c>/ws</c> and <c>/stream</c> were
/// retired on 2026-04-23, and a stream asked for on the wrong route gets nothing): <c>@bookTicker</c> and the
/// <c>@depth@100ms</c> diffs on <c>/public</c>, <c>@aggTrade</c> on <c>/market</c>, each a separate
/// <see cref="ReconnectingWebSocket"/> (<c>/&lt;route&gt;/ws</c>, then SUBSCRIBE). Symbols that arrive together are
/// batched into one SUBSCRIBE, sends are paced under Binance's 10 incoming messages a second, and a connection takes at
/// most 1024 streams (another one is opened past that). The diffs keep a local order book synchronised with a REST
/// snapshot (<c>U</c>/<c>u</c>/<c>pu</c> chaining; a gap marks the symbol's market data lost until a new snapshot makes
/// the book whole).
/// <para>
/// Ordering across the two routes: a symbol's book top and depth share one <c>/public</c> connection, so they reach the
/// sink in the exchange's order as before; only trades come on another connection, and they are not merged by exchange
/// time. That is enough because nothing the chaser decides depends on a trade's place among books: a trade only tells it
/// that time passed (<see cref="ChaserStateMachine.OnTrade"/> re-evaluates against the book it already has, at the
/// local time of arrival), and the tape is recorded with each print's own exchange time, which the post-trade figures
/// (VWAP over the order's life) filter on. Holding books back to wait for the slower connection would add latency to
/// every decision for no decision's sake. Within each connection events stay in order, and duplicates (a reconnect or
/// a connection's planned replacement delivers some twice) are dropped by update id and aggregate trade id.
/// </para>
/// <para>
/// A drop of a <c>/public</c> connection is reported as market data lost for its symbols; the reconnect subscribes them
/// all again and resynchronises their books. A drop of a <c>/market</c> connection loses trades only: it is diagnosed,
/// not reported to the chasers, whose book is still good.
/// </para>
/// </summary>
internal sealed class MarketStream : IAsyncDisposable
{
    // Binance's routes (§6): book data is "high-frequency" (/public), trades "regular" (/market).
    private static readonly Route Public = new("/public", ["@bookTicker", "@depth@100ms"], CarriesBooks: true);
    private static readonly Route Market = new("/market", ["@aggTrade"], CarriesBooks: false);

    // One SUBSCRIBE names at most this many streams, so that a reconnect with a thousand streams sends a few frames of
    // modest size rather than one huge one.
    private const int StreamsPerSubscribe = 200;

    private readonly BinanceConnectorOptions _options;
    private readonly IExchangeEventSink _sink;
    private readonly Utf8StringCache _strings;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, SymbolState> _symbols = new(StringComparer.Ordinal);
    private readonly List<MarketConnection> _connections = [];
    private readonly Func<string, CancellationToken, Task<byte[]>> _fetchSnapshot;
    private int _nextId;
    private bool _disposed;

    // fetchSnapshot GETs /fapi/v1/depth for a symbol through the connector's REST path (its retries and rate accounting).
    public MarketStream(BinanceConnectorOptions options, IExchangeEventSink sink, Utf8StringCache strings, Func<string, CancellationToken, Task<byte[]>> fetchSnapshot)
    {
        _options = options;
        _sink = sink;
        _strings = strings;
        _fetchSnapshot = fetchSnapshot;
    }

    /// <summary>Connections opened so far on each route (for tests and diagnostics).</summary>
    internal IReadOnlyList<(string Route, long Connections, int Streams)> Connections
    {
        get
        {
            lock (_gate)
            {
                return [.. _connections.Select(c => (c.Route.Path, c.Socket.Connections, c.StreamCount))];
            }
        }
    }

    /// <summary>
    /// Subscribes a symbol's streams. Returns once they have been sent (or, when the connection is down, once they are
    /// registered: the reconnect subscribes them). Throws when the first connection of a route can't be opened.
    /// </summary>
    public async Task SubscribeAsync(string symbol, CancellationToken cancellationToken)
    {
        SymbolState state;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_symbols.TryGetValue(symbol, out var known))
            {
                known = new SymbolState(symbol);
                known.Book = Place(Public, known);
                known.Trades = Place(Market, known);
                _symbols[symbol] = known;
            }

            state = known;
        }

        // A symbol already known still waits for its connections: a first connection that failed is retried here.
        await state.Book!.FlushAsync(cancellationToken).ConfigureAwait(false);
        await state.Trades!.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        MarketConnection[] connections;
        lock (_gate)
        {
            _disposed = true;
            connections = [.. _connections];
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var connection in connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>The connection of a route with room for the symbol's streams, or a new one. Under the gate.</summary>
    private MarketConnection Place(Route route, SymbolState symbol)
    {
        var connection = _connections.FirstOrDefault(c => c.Route == route && c.StreamCount + route.Suffixes.Length <= _options.StreamsPerConnection);
        if (connection is null)
        {
            connection = new MarketConnection(this, route, _connections.Count(c => c.Route == route));
            _connections.Add(connection);
        }

        connection.Add(symbol, route.Suffixes.Select(s => symbol.Lower + s));
        return connection;
    }

    // Lock-free: every frame looks its symbol up.
    private SymbolState? Lookup(string symbol) => _symbols.TryGetValue(symbol, out var state) ? state : null;

    private byte[] SubscribeMessage(IReadOnlyList<string> streams, int start, int count)
    {
        var id = Interlocked.Increment(ref _nextId);
        var text = new StringBuilder(32 + (count * 32)).Append("{\"method\":\"SUBSCRIBE\",\"params\":[");
        for (var i = start; i < start + count; i++)
        {
            text.Append(i > start ? ",\"" : "\"").Append(streams[i]).Append('"');
        }

        text.Append("],\"id\":").Append(id.ToString(CultureInfo.InvariantCulture)).Append('}');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private void OnBook(MarketDataParser parser, long receivedTimestamp)
    {
        var ticker = parser.BookTicker;
        if (Lookup(ticker.Symbol) is not { } state)
        {
            return;
        }

        // Update ids only grow: an equal or older one was already delivered (a reconnect or a replacement's overlap).
        if (ticker.UpdateId != 0 && ticker.UpdateId <= state.LastBookUpdateId)
        {
            return;
        }

        state.LastBookUpdateId = ticker.UpdateId;
        _sink.OnInput(ChaserInput.OfBook(ticker.Symbol, ticker.ToBookTop(), receivedTimestamp));
    }

    private void OnTrade(MarketDataParser parser)
    {
        var trade = parser.AggTrade;
        if (Lookup(trade.Symbol) is not { } state)
        {
            return;
        }

        if (trade.AggTradeId != 0 && !state.FirstSighting(trade.AggTradeId))
        {
            return;
        }

        _sink.OnInput(ChaserInput.OfTrade(trade.Symbol, trade.ToTradePrint(_options.Time.GetUtcNow())));
    }

    private void OnDiff(DepthDiff diff, long receivedTimestamp)
    {
        if (Lookup(diff.Symbol)?.Depth is not { } entry)
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
            _sink.OnInput(ChaserInput.OfConnectivity(ConnectionScope.MarketData, diff.Symbol, up: false));
        }

        if (fetch)
        {
            _ = Task.Run(() => SynchroniseAsync(entry), CancellationToken.None);
        }

        if (levels is not null)
        {
            _sink.OnInput(ChaserInput.OfDepth(diff.Symbol, levels, receivedTimestamp));
        }
    }

    /// <summary>Loads REST snapshots until the buffered diffs bridge onto one (Binance's documented procedure).</summary>
    private async Task SynchroniseAsync(DepthBook entry)
    {
        // Ends when the book is replaced (its connection reconnected; the new book fetches its own snapshot): a storm
        // of reconnects must not queue a snapshot per symbol per drop into the weight budget.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, entry.Retired);
        var token = linked.Token;
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
            catch (Exception) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Any failure (an HTTP error, a timeout, an unreadable body) is tried again: the book must come back.
                _options.Diagnostics?.Invoke($"{entry.Symbol} depth snapshot failed ({e.GetType().Name}: {e.Message})");
                state = DepthSyncState.ResyncNeeded;
            }

            if (token.IsCancellationRequested)
            {
                // Replaced meanwhile: this book's levels are no one's any more.
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

                _sink.OnInput(ChaserInput.OfDepth(entry.Symbol, levels, _options.Time.GetTimestamp()));
                if (restored)
                {
                    _sink.OnInput(ChaserInput.OfConnectivity(ConnectionScope.MarketData, entry.Symbol, up: true));
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

    /// <summary>A route and the stream suffixes a symbol has on it.</summary>
    private sealed record Route(string Path, string[] Suffixes, bool CarriesBooks);

    /// <summary>One symbol: its connections, its local book, and the last ids delivered (to drop duplicates).</summary>
    private sealed class SymbolState(string symbol)
    {
        public string Symbol { get; } = symbol;

        public string Lower { get; } = symbol.ToLowerInvariant();

        public MarketConnection? Book { get; set; }

        public MarketConnection? Trades { get; set; }

        /// <summary>Replaced when its connection reconnects; the first diff then asks for a snapshot.</summary>
        public DepthBook? Depth { get; set; }

        // Written by one connection's handler only (handlers of a connection run one at a time).
        public long LastBookUpdateId { get; set; }

        // The latest aggregate trade ids delivered: during a replacement's overlap the lagging connection may bring an
        // older trade after a newer one, which is new to us and must not be taken for a duplicate.
        private readonly long[] _recentTrades = new long[32];
        private int _nextTrade;
        private long _lastTrade;

        /// <summary>Whether this aggregate trade id is seen for the first time (allocation-free; older ids are checked against the recent ones).</summary>
        public bool FirstSighting(long aggTradeId)
        {
            if (aggTradeId <= _lastTrade && Array.IndexOf(_recentTrades, aggTradeId) >= 0)
            {
                return false;
            }

            _lastTrade = Math.Max(_lastTrade, aggTradeId);
            _recentTrades[_nextTrade] = aggTradeId;
            _nextTrade = (_nextTrade + 1) % _recentTrades.Length;
            return true;
        }
    }

    /// <summary>One symbol's local book and where its synchronisation stands. Locked while touched.</summary>
    private sealed class DepthBook : IDisposable
    {
        public DepthBook(string symbol)
        {
            Symbol = symbol;
            Book = new LocalOrderBook(symbol);
            _retired = new CancellationTokenSource();
            Retired = _retired.Token;
        }

        public string Symbol { get; }

        public LocalOrderBook Book { get; }

        private readonly CancellationTokenSource _retired;

        /// <summary>Cancelled once a new book replaced this one (taken at construction: it outlives the source).</summary>
        public CancellationToken Retired { get; }

        /// <summary>Retires the book: a snapshot still being fetched for it is abandoned.</summary>
        public void Dispose()
        {
            _retired.Cancel();
            _retired.Dispose();
        }

        /// <summary>A snapshot request is under way.</summary>
        public bool Fetching { get; set; }

        /// <summary>The chasers were told this symbol's market data is lost (a gap) and await its restoration.</summary>
        public bool ReportedLost { get; set; }
    }

    /// <summary>
    /// One connection of a route: the streams it carries (each sent in a SUBSCRIBE, or waiting for the next one), the
    /// symbols whose connectivity it reports, and its own parser (connections are read concurrently).
    /// </summary>
    private sealed class MarketConnection : IAsyncDisposable
    {
        private readonly MarketStream _owner;
        private readonly MarketDataParser _parser;
        private readonly SemaphoreSlim _flush = new(1, 1);
        private readonly List<string> _subscribed = [];
        private readonly List<string> _pending = [];
        private readonly List<SymbolState> _symbols = [];
        private bool _started;

        public MarketConnection(MarketStream owner, Route route, int index)
        {
            _owner = owner;
            Route = route;
            _parser = new MarketDataParser(owner._strings);
            var options = owner._options;
            var name = index == 0 ? $"market stream {route.Path}" : $"market stream {route.Path} #{index + 1}";
            Socket = new ReconnectingWebSocket(
                name,
                options,
                _ => Task.FromResult(new Uri(options.StreamBaseUrl, route.Path + "/ws")),
                OnMessage,
                OnConnectedAsync,
                onDown: OnDown,
                onUp: OnUp,
                silenceTimeout: options.MarketDataSilenceTimeout,
                messagesPerSecond: options.StreamMessagesPerSecond);
        }

        public Route Route { get; }

        public ReconnectingWebSocket Socket { get; }

        public async ValueTask DisposeAsync()
        {
            await Socket.DisposeAsync().ConfigureAwait(false);
            _flush.Dispose();
        }

        /// <summary>Streams on this connection, sent or waiting. Read under the owner's gate.</summary>
        public int StreamCount
        {
            get
            {
                lock (_pending)
                {
                    return _subscribed.Count + _pending.Count;
                }
            }
        }

        public void Add(SymbolState symbol, IEnumerable<string> streams)
        {
            lock (_pending)
            {
                _symbols.Add(symbol);
                if (Route.CarriesBooks)
                {
                    symbol.Depth = new DepthBook(symbol.Symbol);
                }

                _pending.AddRange(streams);
            }
        }

        /// <summary>
        /// Sends what is waiting in one SUBSCRIBE. While one send waits for its turn, symbols that arrive queue up here
        /// and go together in the next: fifty symbols at once take a couple of messages, not fifty.
        /// </summary>
        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            await _flush.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!_started)
                {
                    // The first connection subscribes everything waiting (OnConnectedAsync).
                    await Socket.StartAsync(cancellationToken).ConfigureAwait(false);
                    _started = true;
                    return;
                }

                List<string> batch;
                lock (_pending)
                {
                    batch = [.. _pending];
                    _subscribed.AddRange(_pending);
                    _pending.Clear();
                }

                for (var start = 0; start < batch.Count; start += StreamsPerSubscribe)
                {
                    var message = _owner.SubscribeMessage(batch, start, Math.Min(StreamsPerSubscribe, batch.Count - start));
                    if (!await Socket.SendAsync(message, cancellationToken).ConfigureAwait(false))
                    {
                        // Down: the reconnect subscribes every stream of this connection, these included.
                        return;
                    }
                }
            }
            finally
            {
                _flush.Release();
            }
        }

        private async Task OnConnectedAsync(ReconnectingWebSocket.Link link, bool rollover, CancellationToken cancellationToken)
        {
            List<string> all;
            List<DepthBook> retired = [];
            lock (_pending)
            {
                _subscribed.AddRange(_pending);
                _pending.Clear();
                all = [.. _subscribed];
                if (!rollover && Route.CarriesBooks)
                {
                    // A lost connection may have lost diffs: every book starts over from a fresh snapshot. A planned
                    // replacement loses nothing (the old connection is read until the new one carries the streams).
                    foreach (var symbol in _symbols)
                    {
                        if (symbol.Depth is { } old)
                        {
                            retired.Add(old);
                        }

                        symbol.Depth = new DepthBook(symbol.Symbol);
                    }
                }
            }

            // Outside the lock: cancelling runs the snapshot loops' continuations.
            foreach (var old in retired)
            {
                old.Dispose();
            }

            for (var start = 0; start < all.Count; start += StreamsPerSubscribe)
            {
                var message = _owner.SubscribeMessage(all, start, Math.Min(StreamsPerSubscribe, all.Count - start));
                if (!await link.SendAsync(message, cancellationToken).ConfigureAwait(false))
                {
                    throw new WebSocketException("the connection closed while subscribing");
                }
            }
        }

        private void OnDown()
        {
            if (!Route.CarriesBooks)
            {
                // Trades only: the chasers' books are unaffected.
                return;
            }

            foreach (var symbol in Symbols())
            {
                _owner._sink.OnInput(ChaserInput.OfConnectivity(ConnectionScope.MarketData, symbol, up: false));
            }
        }

        private void OnUp()
        {
            if (!Route.CarriesBooks)
            {
                return;
            }

            foreach (var symbol in Symbols())
            {
                _owner._sink.OnInput(ChaserInput.OfConnectivity(ConnectionScope.MarketData, symbol, up: true));
            }
        }

        private string[] Symbols()
        {
            lock (_pending)
            {
                return [.. _symbols.Select(s => s.Symbol)];
            }
        }

        private void OnMessage(ReadOnlySpan<byte> message, long receivedTimestamp)
        {
            switch (_parser.Parse(message))
            {
                case MarketEventType.BookTicker:
                    _owner.OnBook(_parser, receivedTimestamp);
                    break;
                case MarketEventType.AggTrade:
                    _owner.OnTrade(_parser);
                    break;
                case MarketEventType.DepthUpdate:
                    _owner.OnDiff(_parser.Depth, receivedTimestamp);
                    break;
                default:
                    // Answers to SUBSCRIBE ({"result":null,"id":n}); a refusal is worth saying.
                    if (message.IndexOf("\"error\""u8) >= 0)
                    {
                        _owner._options.Diagnostics?.Invoke($"{Route.Path}: {Encoding.UTF8.GetString(message)}");
                    }

                    break;
            }
        }
    }
}
