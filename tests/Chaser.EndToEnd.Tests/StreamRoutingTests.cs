using System.Collections.Concurrent;
using Chaser.Binance.Connector;
using Chaser.Binance.Requests;
using Chaser.Binance.Signing;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;

namespace Chaser.EndToEnd.Tests;

/// <summary>
/// The connector's streams as Binance serves them since 2026-04-23: routed URLs only, separate connections for book
/// data and trades, at most 10 incoming messages a second and 1024 streams per connection, 24-hour connections, and
/// feeds that may fall silent without closing. Behind <see cref="StrictRoutingProxy"/> where the route matters.
/// </summary>
public class StreamRoutingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Book_data_trades_and_user_data_each_use_their_route_and_a_TRADE_LITE_beside_each_fill_counts_nothing_twice()
    {
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        await using var proxy = await StrictRoutingProxy.StartAsync(simulator.WebSocketBaseUrl);
        proxy.InjectTradeLite = true;
        await using var venue = await SimulatedVenue.ConnectAsync(simulator, connector: o => o with { StreamBaseUrl = proxy.BaseUrl });

        var results = await venue.Engine.ExecuteAllAsync(
        [
            new ParentOrderSpec(1, "ETHUSDT", Side.Buy, SizeType.Quantity, 3m),
            new ParentOrderSpec(2, "BTCUSDT", Side.Sell, SizeType.Notional, 20_000m),
        ], Ct).WaitAsync(Patience, Ct);

        FaultTests.AssertFilledExactly(venue, results);
        Assert.True(proxy.TradeLitesInjected > 0, "no fill came while TRADE_LITE was injected");
        Assert.Empty(proxy.Misrouted);
        Assert.All(proxy.ConnectionPaths, p => Assert.Matches("^/(public|market|private)/ws", p));
        foreach (var symbol in new[] { "ethusdt", "btcusdt" })
        {
            Assert.Contains(("/public", symbol + "@bookTicker"), proxy.Requested);
            Assert.Contains(("/public", symbol + "@depth@100ms"), proxy.Requested);
            Assert.Contains(("/market", symbol + "@aggTrade"), proxy.Requested);
        }

        Assert.Contains(proxy.ConnectionPaths, p => p.StartsWith("/private/ws/", StringComparison.Ordinal) && p.Length > "/private/ws/".Length);
    }

    [Fact]
    public async Task Sixty_symbols_subscribed_at_once_all_get_data_without_a_dropped_connection()
    {
        // Binance drops a connection that sends more than 10 messages in a second (§6); the simulator enforces it.
        var template = SymbolSpec.Defaults[0];
        var specs = Enumerable.Range(0, 60).Select(i => template with { Symbol = $"S{i:00}USDT", BaseAsset = $"S{i:00}" }).ToArray();
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Engine = new EngineOptions { Symbols = specs } }, Ct);
        await using var proxy = await StrictRoutingProxy.StartAsync(simulator.WebSocketBaseUrl);
        var sink = new RecordingSink();
        var diagnostics = new ConcurrentQueue<string>();
        await using var connector = Connect(simulator, proxy.BaseUrl, diagnostics);
        await connector.ConnectAsync(sink, Ct);

        await Task.WhenAll(specs.Select(s => connector.SubscribeAsync(s.Symbol, Ct))).WaitAsync(Patience, Ct);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && specs.Any(s => sink.Depths(s.Symbol) == 0 || sink.Trades(s.Symbol) == 0))
        {
            await Task.Delay(100, Ct);
        }

        var story = string.Join(" | ", diagnostics.TakeLast(10));
        Assert.All(specs, s => Assert.True(sink.Depths(s.Symbol) > 0 && sink.Trades(s.Symbol) > 0, $"{s.Symbol}: {sink.Depths(s.Symbol)} depth views, {sink.Trades(s.Symbol)} trades; {story}"));
        Assert.Empty(sink.Lost);
        Assert.Equal(1, proxy.ConnectionPaths.Count(p => p.StartsWith("/public/", StringComparison.Ordinal)));
        Assert.Equal(1, proxy.ConnectionPaths.Count(p => p.StartsWith("/market/", StringComparison.Ordinal)));

        // Batched: symbols that arrive while a SUBSCRIBE waits for its turn go together in the next one.
        TestContext.Current.TestOutputHelper?.WriteLine($"SUBSCRIBE messages for 60 symbols: /public {proxy.Subscribes("/public")}, /market {proxy.Subscribes("/market")}");
        Assert.InRange(proxy.Subscribes("/public"), 1, 10);
        Assert.InRange(proxy.Subscribes("/market"), 1, 10);
        Assert.DoesNotContain(diagnostics, d => d.Contains("dropped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reconnects_resynchronising_sixty_books_leave_the_order_paths_budget_alone()
    {
        // Each reconnect of /public resynchronises every book with depth?limit=1000 (weight 20): 60 symbols take 1,200
        // of the 2,400 a minute, after 1,320 to start with. The snapshots can wait; what the orders need can't: the
        // chasers pace themselves by the budget left, and after a user stream drop each order is reconciled by a
        // query (weight 1) and its trades (5).
        var template = SymbolSpec.Defaults[0];
        var specs = Enumerable.Range(0, 60).Select(i => template with { Symbol = $"S{i:00}USDT", BaseAsset = $"S{i:00}" }).ToArray();
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Engine = new EngineOptions { Symbols = specs } }, Ct);
        var sink = new RecordingSink();
        var diagnostics = new ConcurrentQueue<string>();
        await using var connector = Connect(simulator, simulator.WebSocketBaseUrl, diagnostics);
        await connector.ConnectAsync(sink, Ct);
        await Task.WhenAll(specs.Select(s => connector.SubscribeAsync(s.Symbol, Ct))).WaitAsync(Patience, Ct);
        await WaitUntilAsync(() => specs.All(s => sink.Depths(s.Symbol) > 0), "the books did not synchronise");

        // Two drops a few seconds apart: whichever side of a minute's reset they fall, one window is asked for more
        // than it holds.
        var reconcileAll = specs.Length * (BinanceEndpoint.QueryOrder.Weight + BinanceEndpoint.UserTrades.Weight);
        var blocked = 0;
        var leastFree = 1m;
        var probeUntil = DateTime.UtcNow + TimeSpan.FromSeconds(12);
        var drops = Task.Run(async () =>
        {
            Assert.True(simulator.DropStreamConnections(market: true, user: false) > 0);
            await Task.Delay(TimeSpan.FromSeconds(4), Ct);
            Assert.True(simulator.DropStreamConnections(market: true, user: false) > 0);
        }, Ct);
        while (DateTime.UtcNow < probeUntil)
        {
            leastFree = Math.Min(leastFree, connector.RateGuard.AvailableFraction());
            if (connector.RateGuard.TimeUntilAcquirable(0, reconcileAll) > TimeSpan.Zero)
            {
                blocked++;
            }

            await Task.Delay(10, Ct);
        }

        await drops;
        var story = $"{leastFree:P1} of the budget free at the least; {string.Join(" | ", diagnostics.TakeLast(3))}";
        TestContext.Current.TestOutputHelper?.WriteLine(story);
        Assert.True(blocked == 0, $"reconciling {specs.Length} orders ({reconcileAll} weight) found no room {blocked} times while the books resynchronised; {story}");
        Assert.True(leastFree >= 0.25m, $"the chasers were left {leastFree:P1} of the budget; {story}");
        Assert.Equal(0, connector.RateLimitedResponses);

        // The books that waited for budget come back once the windows reset.
        sink.ClearDepths();
        await WaitUntilAsync(() => specs.All(s => sink.Depths(s.Symbol) > 0), $"not every book resynchronised; {story}", TimeSpan.FromSeconds(150));
        Assert.Equal(0, connector.RateLimitedResponses);
    }

    [Fact]
    public async Task A_book_replaced_by_a_second_reconnect_abandons_its_snapshot_still_waiting_for_budget()
    {
        // In a reconnect storm the snapshots of the first drop's books are still waiting for weight when the second
        // drop replaces those books: fetching them anyway spends the budget the live books need.
        var template = SymbolSpec.Defaults[0];
        var specs = Enumerable.Range(0, 60).Select(i => template with { Symbol = $"S{i:00}USDT", BaseAsset = $"S{i:00}" }).ToArray();
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Engine = new EngineOptions { Symbols = specs } }, Ct);
        var sink = new RecordingSink();
        var diagnostics = new ConcurrentQueue<string>();
        var depthRequests = new CountingHandler("/fapi/v1/depth");
        await using var connector = Connect(simulator, simulator.WebSocketBaseUrl, diagnostics, o => o with { HttpHandler = depthRequests });
        await connector.ConnectAsync(sink, Ct);
        await Task.WhenAll(specs.Select(s => connector.SubscribeAsync(s.Symbol, Ct))).WaitAsync(Patience, Ct);
        await WaitUntilAsync(() => specs.All(s => sink.Depths(s.Symbol) > 0), "the books did not synchronise");

        // The rest of this minute's weight is taken, so every snapshot asked for now waits for the reset.
        while (connector.RateGuard.TryAcquire(0, 20, out _))
        {
        }

        var before = depthRequests.Count;
        Assert.True(simulator.DropStreamConnections(market: true, user: false) > 0);
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        Assert.True(simulator.DropStreamConnections(market: true, user: false) > 0);
        sink.ClearDepths();
        await WaitUntilAsync(() => specs.All(s => sink.Depths(s.Symbol) > 0), "not every book resynchronised after the storm", TimeSpan.FromSeconds(150));
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);

        // One snapshot per live book (a gap may ask for a few more), none for the books the second drop replaced.
        var fetched = depthRequests.Count - before;
        TestContext.Current.TestOutputHelper?.WriteLine($"depth snapshots after two drops of {specs.Length} books: {fetched}");
        Assert.InRange(fetched, specs.Length, specs.Length + 6);
        Assert.Equal(0, connector.RateLimitedResponses);
    }

    [Fact]
    public async Task Streams_past_a_connections_limit_go_on_another_connection()
    {
        // Binance refuses a SUBSCRIBE past 1024 streams on one connection (§6); here the limit is 4.
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { StreamsPerConnection = 4 }, Ct);
        var sink = new RecordingSink();
        var diagnostics = new ConcurrentQueue<string>();
        await using var connector = Connect(simulator, simulator.WebSocketBaseUrl, diagnostics, o => o with { StreamsPerConnection = 4 });
        await connector.ConnectAsync(sink, Ct);
        var symbols = SymbolSpec.Defaults.Select(s => s.Symbol).ToArray();

        foreach (var symbol in symbols)
        {
            await connector.SubscribeAsync(symbol, Ct);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && symbols.Any(s => sink.Depths(s) == 0 || sink.Trades(s) == 0))
        {
            await Task.Delay(100, Ct);
        }

        var story = string.Join(" | ", diagnostics.TakeLast(10));
        Assert.All(symbols, s => Assert.True(sink.Depths(s) > 0 && sink.Trades(s) > 0, $"{s}: {sink.Depths(s)} depth views, {sink.Trades(s)} trades; {story}"));
        Assert.DoesNotContain(diagnostics, d => d.Contains("error", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(sink.Lost);
    }

    [Fact]
    public async Task A_market_feed_that_falls_silent_without_closing_is_reconnected_and_flows_again()
    {
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        await using var proxy = await StrictRoutingProxy.StartAsync(simulator.WebSocketBaseUrl);
        var sink = new RecordingSink();
        var diagnostics = new ConcurrentQueue<string>();
        await using var connector = Connect(simulator, proxy.BaseUrl, diagnostics, o => o with { MarketDataSilenceTimeout = TimeSpan.FromSeconds(1) });
        await connector.ConnectAsync(sink, Ct);
        await connector.SubscribeAsync("BTCUSDT", Ct);
        await WaitUntilAsync(() => sink.Depths("BTCUSDT") > 0, "no depth before muting");

        // The proxy keeps the connection open and answers pings, but forwards nothing: only silence gives it away.
        Assert.Equal(1, proxy.MuteOpenConnections("/public"));
        var before = sink.Depths("BTCUSDT");
        await WaitUntilAsync(() => sink.Restored.Contains("BTCUSDT") && sink.Depths("BTCUSDT") > before + 5, $"the silent feed was not replaced; {string.Join(" | ", diagnostics.TakeLast(5))}");

        Assert.Contains("BTCUSDT", sink.Lost);
        Assert.Equal(2, proxy.ConnectionPaths.Count(p => p.StartsWith("/public/", StringComparison.Ordinal)));
        Assert.Contains(diagnostics, d => d.Contains("no frame for", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_user_stream_whose_peer_stops_answering_pings_is_reconnected()
    {
        // User data may rightly be silent for hours, so no silence timeout applies: the dead peer shows only by the
        // pong that never comes back.
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        await using var proxy = await StrictRoutingProxy.StartAsync(simulator.WebSocketBaseUrl);
        var sink = new RecordingSink();
        var diagnostics = new ConcurrentQueue<string>();
        await using var connector = Connect(simulator, proxy.BaseUrl, diagnostics, o => o with
        {
            WebSocketPingInterval = TimeSpan.FromMilliseconds(500),
            WebSocketPongTimeout = TimeSpan.FromMilliseconds(500),
        });
        await connector.ConnectAsync(sink, Ct);

        // The reconnect after this drop lands on a peer that accepts and then never reads (so never answers a ping).
        proxy.BlackHoleNext("/private", 1);
        Assert.True(simulator.DropStreamConnections(market: false, user: true) > 0);

        // Up on the dead peer (its handshake worked), down when its pong fails to come, up again on a live one.
        await WaitUntilAsync(
            () => sink.Restored.Count(s => s == nameof(ConnectionScope.OrderEntry)) >= 2 && proxy.ConnectionPaths.Count(p => p.StartsWith("/private/", StringComparison.Ordinal)) >= 3,
            $"the user stream did not come back; {string.Join(", ", proxy.ConnectionPaths)}; {string.Join(" | ", diagnostics.TakeLast(5))}");
        Assert.Equal(1, proxy.BlackHoled);
        Assert.Equal(2, sink.Lost.Count(s => s == nameof(ConnectionScope.OrderEntry)));
    }

    [Fact]
    public async Task A_user_stream_left_open_after_its_listen_key_expired_is_replaced_on_a_new_key_and_hears_the_next_fill()
    {
        // Binance may keep the socket open after listenKeyExpired (§7): nothing more comes on it, so a client that
        // waits for the close hears no fill again while its orders work on.
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Source = MarketSourceKind.Manual, ListenKeyValidity = TimeSpan.FromSeconds(2) }, Ct);
        simulator.Engine.ReplaceBook("BTCUSDT", [new BookLevel(64_999.9m, 5m)], [new BookLevel(65_000.0m, 5m)]);
        await using var proxy = await StrictRoutingProxy.StartAsync(simulator.WebSocketBaseUrl);
        proxy.KeepUserStreamsOpenAfterUpstreamCloses = true;
        var sink = new RecordingSink();
        var diagnostics = new ConcurrentQueue<string>();
        // Never extended in time: the key lapses 2 s after it was made.
        await using var connector = Connect(simulator, proxy.BaseUrl, diagnostics, o => o with { ListenKeyKeepAlive = TimeSpan.FromHours(1) });
        await connector.ConnectAsync(sink, Ct);

        await WaitUntilAsync(() => proxy.UserStreamsHeldOpen > 0, "the listen key did not lapse");
        await WaitUntilAsync(
            () => sink.Restored.Contains(nameof(ConnectionScope.OrderEntry)),
            $"the user stream stayed on its expired key; {string.Join(", ", proxy.ConnectionPaths)}; {string.Join(" | ", diagnostics.TakeLast(5))}");
        Assert.Contains(nameof(ConnectionScope.OrderEntry), sink.Lost);

        // An order of the account fills: only the user stream tells (no answer of ours carries it).
        simulator.Engine.PlaceOrder(new NewOrderRequest { Symbol = "BTCUSDT", Side = OrderSide.Buy, Type = OrderType.Limit, TimeInForce = TimeInForce.Gtx, Price = 64_999.9m, Quantity = 0.010m, NewClientOrderId = "chs-expiry-1-1" });
        simulator.Engine.ApplyTrade("BTCUSDT", 64_999.0m, 6m, buyerIsMaker: true); // through the 5 ahead of it and its 0.010
        await WaitUntilAsync(() => sink.Fills.Contains("chs-expiry-1-1"), "the fill after the key lapsed was not heard");
    }

    [Fact]
    public async Task A_keep_alive_refused_with_unknown_listen_key_replaces_a_user_stream_left_open_and_the_next_fill_is_heard()
    {
        // The key lapsed and no listenKeyExpired came (or it was missed), the socket stays open: the keep-alive's
        // -1125 is the only sign, and the stream must not stay on the dead key.
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Source = MarketSourceKind.Manual, ListenKeyValidity = TimeSpan.FromSeconds(2) }, Ct);
        simulator.Engine.ReplaceBook("BTCUSDT", [new BookLevel(64_999.9m, 5m)], [new BookLevel(65_000.0m, 5m)]);
        await using var proxy = await StrictRoutingProxy.StartAsync(simulator.WebSocketBaseUrl);
        proxy.KeepUserStreamsOpenAfterUpstreamCloses = true;
        proxy.DropListenKeyExpired = true;
        var sink = new RecordingSink();
        var diagnostics = new ConcurrentQueue<string>();
        // Extended only after it lapsed: the PUT is answered -1125.
        await using var connector = Connect(simulator, proxy.BaseUrl, diagnostics, o => o with { ListenKeyKeepAlive = TimeSpan.FromSeconds(3) });
        await connector.ConnectAsync(sink, Ct);

        await WaitUntilAsync(
            () => sink.Restored.Contains(nameof(ConnectionScope.OrderEntry)),
            $"the user stream stayed on its lapsed key; {string.Join(", ", proxy.ConnectionPaths)}; {string.Join(" | ", diagnostics.TakeLast(5))}");
        Assert.True(proxy.UserStreamsHeldOpen > 0);

        simulator.Engine.PlaceOrder(new NewOrderRequest { Symbol = "BTCUSDT", Side = OrderSide.Buy, Type = OrderType.Limit, TimeInForce = TimeInForce.Gtx, Price = 64_999.9m, Quantity = 0.010m, NewClientOrderId = "chs-keepalive-1-1" });
        simulator.Engine.ApplyTrade("BTCUSDT", 64_999.0m, 6m, buyerIsMaker: true); // through the 5 ahead of it and its 0.010
        await WaitUntilAsync(() => sink.Fills.Contains("chs-keepalive-1-1"), "the fill after the refused keep-alive was not heard");
    }

    [Fact]
    public async Task Connections_replaced_before_their_lifetime_ends_lose_nothing_and_report_no_outage()
    {
        // Binance closes a connection after 24 hours (§6); here every connection is replaced after 1.5 s.
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        await using var proxy = await StrictRoutingProxy.StartAsync(simulator.WebSocketBaseUrl);
        var recorder = new DecisionRecorder();
        await using var venue = await SimulatedVenue.ConnectAsync(simulator, recorder: recorder, connector: o => o with
        {
            StreamBaseUrl = proxy.BaseUrl,
            WebSocketLifetime = TimeSpan.FromSeconds(1.5),
            RequestTimeout = TimeSpan.FromSeconds(2),
        });

        var results = await venue.Engine.ExecuteAllAsync(
        [
            new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 60_000m),
            new ParentOrderSpec(2, "ETHUSDT", Side.Sell, SizeType.Notional, 30_000m),
        ], Ct).WaitAsync(Patience, Ct);

        // Long enough for more replacements of every connection than the orders took.
        await Task.Delay(TimeSpan.FromSeconds(5), Ct);
        FaultTests.AssertFilledExactly(venue, results);
        Assert.True(proxy.ConnectionPaths.Count(p => p.StartsWith("/public/", StringComparison.Ordinal)) >= 3, string.Join(", ", proxy.ConnectionPaths));
        Assert.True(proxy.ConnectionPaths.Count(p => p.StartsWith("/private/", StringComparison.Ordinal)) >= 3, string.Join(", ", proxy.ConnectionPaths));
        string[] diagnostics;
        lock (venue.Diagnostics)
        {
            diagnostics = [.. venue.Diagnostics];
        }

        // A duplicate diff from the overlap taken for a gap would resynchronise the book; a drop would be reported.
        Assert.DoesNotContain(diagnostics, d => d.Contains("resynchronising", StringComparison.Ordinal) || d.Contains("dropped", StringComparison.Ordinal));
        Assert.DoesNotContain(recorder.Decisions, d => d.Command.Cause.Trigger is EventKind.ConnectivityLost or EventKind.ConnectivityRestored);
    }

    private static BinanceConnector Connect(SimulatorServer simulator, Uri streams, ConcurrentQueue<string> diagnostics, Func<BinanceConnectorOptions, BinanceConnectorOptions>? configure = null)
    {
        var options = new BinanceConnectorOptions
        {
            RestBaseUrl = simulator.RestBaseUrl,
            StreamBaseUrl = streams,
            ApiKey = new ApiKey(simulator.ApiKey),
            Signer = new HmacSha256Signer(Secret.FromText(simulator.ApiSecret)),
            Diagnostics = diagnostics.Enqueue,
        };
        return new BinanceConnector(configure is null ? options : configure(options));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>Counts the REST requests to one path.</summary>
    private sealed class CountingHandler(string path) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri?.AbsolutePath == path)
            {
                Interlocked.Increment(ref _count);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Counts what arrives per symbol and which symbols' market data was reported lost and restored.</summary>
    private sealed class RecordingSink : IExchangeEventSink
    {
        private readonly ConcurrentDictionary<string, int> _depths = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, int> _trades = new(StringComparer.Ordinal);

        public ConcurrentQueue<string> Lost { get; } = new();

        public ConcurrentQueue<string> Restored { get; } = new();

        public ConcurrentQueue<string> Fills { get; } = new();

        public int Depths(string symbol) => _depths.GetValueOrDefault(symbol);

        public void ClearDepths() => _depths.Clear();

        public int Trades(string symbol) => _trades.GetValueOrDefault(symbol);

        public void OnInput(in ChaserInput input)
        {
            switch (input.Kind)
            {
                case EventKind.Depth:
                    _depths.AddOrUpdate(input.Symbol!, 1, (_, n) => n + 1);
                    break;
                case EventKind.Trade:
                    _trades.AddOrUpdate(input.Symbol!, 1, (_, n) => n + 1);
                    break;
                case EventKind.Fill:
                    Fills.Enqueue(input.Fill.ClientOrderId);
                    break;
                case EventKind.ConnectivityLost or EventKind.ConnectivityRestored:
                    (input.Kind == EventKind.ConnectivityRestored ? Restored : Lost).Enqueue(input.Symbol ?? input.Scope.ToString());
                    break;
            }
        }
    }
}
