using System.Net.WebSockets;
using System.Text.Json;
using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Tests;

/// <summary>
/// Streams only on their routes, as Binance serves them since 2026-04-23 (binance-futures-api.md §6, §7): /public,
/// /market, /private, every URL form of each, the retired unrouted URLs, listen keys and their event filters.
/// Over real loopback sockets.
/// </summary>
public sealed class StreamRouteTests
{
    private const string Btc = SimulatorFixture.Btc;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The next frame, or null when none arrives in time (the socket is unusable after a null).</summary>
    private static async Task<JsonElement?> ReceiveOrNothingAsync(WebSocket ws, int timeoutMs)
    {
        try
        {
            return await ws.ReceiveJsonAsync(timeoutMs);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private static async Task AssertNothingArrivesAsync(WebSocket ws, int timeoutMs = 1000)
    {
        var frame = await ReceiveOrNothingAsync(ws, timeoutMs);
        Assert.True(frame is null, $"expected nothing, got {frame?.GetRawText()}");
    }

    private static async Task SubscribeAsync(WebSocket ws, params string[] streams)
    {
        await ws.SendTextAsync(JsonSerializer.Serialize(new { method = "SUBSCRIBE", @params = streams, id = 1 }));
        Assert.Equal("""{"result":null,"id":1}""", (await ws.ReceiveJsonAsync()).GetRawText());
    }

    /// <summary>Moves the best bid (a bookTicker and a depth update), or prints a trade (a trade and an aggTrade).</summary>
    private static void Trigger(SimulatorFixture sim, string stream, int round)
    {
        if (stream.Contains("Trade", StringComparison.OrdinalIgnoreCase))
        {
            sim.Engine.ApplyTrade(Btc, 65000.0m, 0.001m, buyerIsMaker: false);
        }
        else
        {
            sim.Engine.ApplyLevels(Btc, [new LevelChange(BookSide.Bid, 64999.9m, 6m + round)]);
        }
    }

    private static Task<(int, JsonElement)> PlaceBidAsync(SimulatorFixture sim, string clientId) =>
        sim.SendAsync(sim.SignedAsync(HttpMethod.Post, "/fapi/v1/order", $"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64999.9&newClientOrderId={clientId}"));

    public static TheoryData<string, string, string> WrongRoutes => new()
    {
        // route of the connection, a stream of another route, a stream of this route (the witness)
        { "/market", "btcusdt@bookTicker", "btcusdt@aggTrade" },
        { "/market", "btcusdt@depth@0ms", "btcusdt@aggTrade" },
        { "/market", "btcusdt@trade", "btcusdt@aggTrade" },
        { "/public", "btcusdt@aggTrade", "btcusdt@bookTicker" },
    };

    [Theory]
    [MemberData(nameof(WrongRoutes))]
    public async Task A_stream_asked_for_on_the_wrong_route_is_acknowledged_listed_and_delivers_nothing(string route, string wrong, string witness)
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync(route + "/stream");

        await SubscribeAsync(ws, wrong, witness);
        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":2}""");
        Assert.Equal(2, (await ws.ReceiveJsonAsync()).GetProperty("result").GetArrayLength());

        // the wrong route's event comes first each time; were it delivered, it would be the first frame
        for (var round = 0; round < 2; round++)
        {
            Trigger(sim, wrong, round);
            Trigger(sim, witness, round);
        }

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(witness, (await ws.ReceiveJsonAsync()).GetProperty("stream").GetString());
        }
    }

    [Fact]
    public async Task Mark_price_is_served_on_market_and_not_on_public()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var market = await sim.ConnectAsync("/market/ws/btcusdt@markPrice@1s");
        using var @public = await sim.ConnectAsync("/public/stream?streams=btcusdt@markPrice@1s/btcusdt@bookTicker");

        Assert.Equal("markPriceUpdate", (await market.ReceiveJsonAsync(3000)).GetProperty("e").GetString());

        // a mark price is due every second: by now /public would have had one before this bookTicker
        await Task.Delay(1200, Ct);
        Trigger(sim, "btcusdt@bookTicker", 0);
        Assert.Equal("btcusdt@bookTicker", (await @public.ReceiveJsonAsync()).GetProperty("stream").GetString());
    }

    [Fact]
    public async Task A_market_stream_asked_for_on_private_delivers_nothing()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await sim.ListenKeyAsync();
        using var ws = await sim.ConnectAsync("/private/stream?listenKey=" + key);
        await SubscribeAsync(ws, "btcusdt@bookTicker");

        Trigger(sim, "btcusdt@bookTicker", 0);
        await PlaceBidAsync(sim, "m1");

        Assert.Equal(key, (await ws.ReceiveJsonAsync()).GetProperty("stream").GetString());
    }

    [Fact]
    public async Task User_data_asked_for_on_public_delivers_nothing()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await sim.ListenKeyAsync();
        using var ws = await sim.ConnectAsync($"/public/stream?streams={key}/btcusdt@bookTicker");

        await PlaceBidAsync(sim, "p1");
        Trigger(sim, "btcusdt@bookTicker", 0);

        Assert.Equal("btcusdt@bookTicker", (await ws.ReceiveJsonAsync()).GetProperty("stream").GetString());
    }

    public static TheoryData<string> Unrouted => ["/ws/btcusdt@bookTicker", "/stream?streams=btcusdt@bookTicker", "/ws"];

    [Theory]
    [MemberData(nameof(Unrouted))]
    public async Task The_retired_unrouted_urls_accept_and_acknowledge_but_deliver_nothing(string url)
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync(url);
        await SubscribeAsync(ws, "btcusdt@bookTicker", "btcusdt@aggTrade");

        Trigger(sim, "btcusdt@bookTicker", 0);
        Trigger(sim, "btcusdt@aggTrade", 0);
        await AssertNothingArrivesAsync(ws);
    }

    [Fact]
    public async Task The_retired_user_stream_url_delivers_nothing()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await sim.ListenKeyAsync();
        using var ws = await sim.ConnectAsync("/ws/" + key);

        await PlaceBidAsync(sim, "r1");
        await AssertNothingArrivesAsync(ws);
    }

    [Theory]
    [MemberData(nameof(Unrouted))]
    public async Task With_legacy_streams_the_unrouted_urls_serve_every_stream_as_before(string url)
    {
        await using var sim = await SimulatorFixture.StartAsync(o => o with { LegacyStreams = true });
        using var ws = await sim.ConnectAsync(url);
        await SubscribeAsync(ws, "btcusdt@bookTicker", "btcusdt@aggTrade");
        var key = await sim.ListenKeyAsync();
        await ws.SendTextAsync($$"""{"method":"SUBSCRIBE","params":["{{key}}"],"id":2}""");
        Assert.Equal("""{"result":null,"id":2}""", (await ws.ReceiveJsonAsync()).GetRawText());

        Trigger(sim, "btcusdt@bookTicker", 0);
        Trigger(sim, "btcusdt@aggTrade", 0);
        await PlaceBidAsync(sim, "l1");

        var events = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var frame = await ws.ReceiveJsonAsync();
            events.Add((frame.TryGetProperty("data", out var data) ? data : frame).GetProperty("e").GetString()!);
        }

        Assert.Equal(["bookTicker", "aggTrade", "ORDER_TRADE_UPDATE"], events);
    }

    [Fact]
    public async Task Legacy_streams_leave_the_routes_strict()
    {
        await using var sim = await SimulatorFixture.StartAsync(o => o with { LegacyStreams = true });
        using var ws = await sim.ConnectAsync("/market/stream?streams=btcusdt@bookTicker/btcusdt@aggTrade");

        Trigger(sim, "btcusdt@bookTicker", 0);
        Trigger(sim, "btcusdt@aggTrade", 0);
        Assert.Equal("btcusdt@aggTrade", (await ws.ReceiveJsonAsync()).GetProperty("stream").GetString());
    }

    [Fact]
    public async Task A_raw_path_names_several_streams_of_its_route()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/public/ws/btcusdt@bookTicker/btcusdt@depth@0ms");

        Trigger(sim, "btcusdt@bookTicker", 0);

        var kinds = new[] { await ws.ReceiveJsonAsync(), await ws.ReceiveJsonAsync() }.Select(f => f.GetProperty("e").GetString()).Order();
        Assert.Equal(["bookTicker", "depthUpdate"], kinds);
    }

    [Theory]
    [InlineData("/private/ws/{0}", false)]
    [InlineData("/private/ws?listenKey={0}", false)]
    [InlineData("/private/stream?listenKey={0}", true)]
    public async Task Every_private_form_delivers_the_user_stream(string form, bool combined)
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await sim.ListenKeyAsync();
        using var ws = await sim.ConnectAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, form, key));

        await PlaceBidAsync(sim, "f1");

        var frame = await ws.ReceiveJsonAsync();
        if (combined)
        {
            // wrapped as Binance wraps a combined user stream: the listen key names the stream
            Assert.Equal(["stream", "data"], frame.PropertyNames());
            Assert.Equal(key, frame.GetProperty("stream").GetString());
            frame = frame.GetProperty("data");
        }

        Assert.Equal("ORDER_TRADE_UPDATE", frame.GetProperty("e").GetString());
        Assert.Equal("f1", frame.GetProperty("o").GetProperty("c").GetString());
    }

    [Fact]
    public async Task A_private_subscribe_of_the_listen_key_delivers_the_user_stream()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await sim.ListenKeyAsync();
        using var ws = await sim.ConnectAsync("/private/ws");
        await SubscribeAsync(ws, key);

        await PlaceBidAsync(sim, "s1");
        Assert.Equal("ORDER_TRADE_UPDATE", (await ws.ReceiveJsonAsync()).GetProperty("e").GetString());
    }

    /// <summary>Places a bid and fills it: ORDER_TRADE_UPDATE NEW, TRADE_LITE, ORDER_TRADE_UPDATE TRADE, ACCOUNT_UPDATE.</summary>
    private static async Task PlaceAndFillAsync(SimulatorFixture sim)
    {
        await PlaceBidAsync(sim, "e1");
        sim.Engine.ApplyTrade(Btc, 64999.7m, 6m, buyerIsMaker: true); // through the 5 ahead of us and our 0.010
    }

    private static async Task<List<string>> EventTypesAsync(WebSocket ws, int count)
    {
        var types = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var frame = await ws.ReceiveJsonAsync();
            types.Add((frame.TryGetProperty("data", out var data) ? data : frame).GetProperty("e").GetString()!);
        }

        return types;
    }

    [Theory]
    [InlineData("/private/ws?listenKey={0}&events=ACCOUNT_UPDATE", "ACCOUNT_UPDATE")]
    [InlineData("/private/ws?listenKey={0}&events=TRADE_LITE", "TRADE_LITE")]
    [InlineData("/private/ws/{0}?events=TRADE_LITE/ACCOUNT_UPDATE", "TRADE_LITE,ACCOUNT_UPDATE")]
    [InlineData("/private/stream?listenKey={0}&events=ORDER_TRADE_UPDATE&listenKey={0}&events=ACCOUNT_UPDATE", "ORDER_TRADE_UPDATE,ORDER_TRADE_UPDATE,ACCOUNT_UPDATE")]
    [InlineData("/private/ws?listenKey={0}&events=ORDER_TRADE_UPDATE%2FTRADE_LITE", "ORDER_TRADE_UPDATE,TRADE_LITE,ORDER_TRADE_UPDATE")]
    public async Task The_events_filter_delivers_only_the_event_types_named(string form, string expected)
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await sim.ListenKeyAsync();
        using var ws = await sim.ConnectAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, form, key));

        await PlaceAndFillAsync(sim);

        var wanted = expected.Split(',');
        Assert.Equal(wanted, await EventTypesAsync(ws, wanted.Length));
        await AssertNothingArrivesAsync(ws, 500);
    }

    [Theory]
    [InlineData("/private/ws/{0}")]
    [InlineData("/private/ws?listenKey={0}")]
    [InlineData("/private/stream?listenKey={0}")]
    [InlineData("/private/stream?listenKey={1}&listenKey={0}")]
    [InlineData("/private/ws?listenKey=")]
    [InlineData("/private/ws?listenKey={0}&events=ORDER_TRADE_UPDATE")]
    public async Task An_unknown_listen_key_closes_the_connection_with_binances_message(string form)
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await sim.ListenKeyAsync();
        using var ws = await sim.ConnectAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, form, "x" + key[1..], key));

        // Generous: the close comes at once, but CI runs ten test assemblies on two cores (5 s once ran out there).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(30_000);
        var result = await ws.ReceiveAsync(new byte[256], timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
        Assert.Equal("This listenKey does not exist.", result.CloseStatusDescription);
    }

    [Fact]
    public async Task A_lapsed_listen_key_is_refused_like_an_unknown_one()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        var key = await sim.ListenKeyAsync();
        sim.Clock.Advance(TimeSpan.FromMinutes(61));
        using var ws = await sim.ConnectAsync("/private/ws/" + key);

        // Generous: the close comes at once, but CI runs ten test assemblies on two cores (5 s once ran out there).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(30_000);
        var result = await ws.ReceiveAsync(new byte[256], timeout.Token);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
    }

    [Fact]
    public async Task An_unknown_name_on_a_market_route_is_still_accepted_for_a_later_subscribe()
    {
        // ccxt connects to /<route>/ws/<n> and then SUBSCRIBEs; only /private takes a non-stream name as a listen key
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/market/ws/0");
        await SubscribeAsync(ws, "btcusdt@aggTrade");
        Trigger(sim, "btcusdt@aggTrade", 0);
        Assert.Equal("aggTrade", (await ws.ReceiveJsonAsync()).GetProperty("e").GetString());
    }
}
