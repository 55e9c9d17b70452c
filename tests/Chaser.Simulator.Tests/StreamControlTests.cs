using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Streams;

namespace Chaser.Simulator.Tests;

/// <summary>Control messages on the market/user streams as Binance answers them today, over real loopback sockets.</summary>
public sealed class StreamControlTests
{
    private const string HexId = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

    /// <summary>True once the server has dropped the connection: a close frame, a reset, or an end without handshake.</summary>
    private static async Task<bool> IsClosedAsync(ClientWebSocket ws)
    {
        try
        {
            await ws.ReceiveJsonAsync(3000);
            return false;
        }
        catch (Exception ex) when (ex is WebSocketException or InvalidOperationException)
        {
            return true;
        }
    }

    [Fact]
    public async Task A_string_id_as_binances_own_connector_sends_is_echoed_as_a_string()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/public/ws");

        await ws.SendTextAsync($$"""{"method":"SUBSCRIBE","params":["btcusdt@bookTicker"],"id":"{{HexId}}"}""");
        Assert.Equal($$"""{"result":null,"id":"{{HexId}}"}""", (await ws.ReceiveJsonAsync()).GetRawText());
        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":"42"}""");
        Assert.Equal("""{"result":["btcusdt@bookTicker"],"id":"42"}""", (await ws.ReceiveJsonAsync()).GetRawText());
        await ws.SendTextAsync("""{"method":"SET_PROPERTY","params":["combined",true],"id":"set"}""");
        Assert.Equal("""{"result":null,"id":"set"}""", (await ws.ReceiveJsonAsync()).GetRawText());
        await ws.SendTextAsync("""{"method":"GET_PROPERTY","params":["combined"],"id":""}""");
        Assert.Equal("""{"result":true,"id":""}""", (await ws.ReceiveJsonAsync()).GetRawText());

        // and the subscription made with a string id delivers data
        sim.Engine.ApplyLevels(SimulatorFixture.Btc, [new LevelChange(BookSide.Bid, 64999.9m, 6m)]);
        Assert.Equal("btcusdt@bookTicker", (await ws.ReceiveJsonAsync()).GetProperty("stream").GetString());

        await ws.SendTextAsync($$"""{"method":"UNSUBSCRIBE","params":["btcusdt@bookTicker"],"id":"{{HexId}}"}""");
        Assert.Equal($$"""{"result":null,"id":"{{HexId}}"}""", (await ws.ReceiveJsonAsync()).GetRawText());
    }

    [Fact]
    public async Task An_integer_id_is_echoed_as_the_same_integer_even_at_the_top_of_u64()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/market/ws");

        await ws.SendTextAsync("""{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":0}""");
        Assert.Equal("""{"result":null,"id":0}""", (await ws.ReceiveJsonAsync()).GetRawText());
        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":18446744073709551615}""");
        Assert.Equal("""{"result":["btcusdt@aggTrade"],"id":18446744073709551615}""", (await ws.ReceiveJsonAsync()).GetRawText());
        await ws.SendTextAsync("""{"method":"GET_PROPERTY","params":["combined"],"id":9007199254740993}""");
        Assert.Equal("""{"result":false,"id":9007199254740993}""", (await ws.ReceiveJsonAsync()).GetRawText());
    }

    [Theory]
    [InlineData("""{"method":"LIST_SUBSCRIPTIONS"}""")]
    [InlineData("""{"method":"LIST_SUBSCRIPTIONS","id":-1}""")]
    [InlineData("""{"method":"LIST_SUBSCRIPTIONS","id":1.5}""")]
    [InlineData("""{"method":"LIST_SUBSCRIPTIONS","id":18446744073709551616}""")]
    [InlineData("""{"method":"LIST_SUBSCRIPTIONS","id":null}""")]
    [InlineData("""{"method":"LIST_SUBSCRIPTIONS","id":{"a":1}}""")]
    [InlineData("""{"method":"LIST_SUBSCRIPTIONS","id":[1]}""")]
    [InlineData("""{"method":"LIST_SUBSCRIPTIONS","id":true}""")]
    public async Task A_missing_or_invalid_id_gets_binances_error_with_a_null_id_and_the_connection_stays(string request)
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/market/ws");

        await ws.SendTextAsync(request);
        var error = await ws.ReceiveJsonAsync();
        Assert.Equal(["error", "id"], error.PropertyNames());
        Assert.Equal(2, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("request ID", error.GetProperty("error").GetProperty("msg").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, error.GetProperty("id").ValueKind);

        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":7}""");
        Assert.Equal("""{"result":[],"id":7}""", (await ws.ReceiveJsonAsync()).GetRawText());
    }

    [Theory]
    [InlineData("""[1]""", 3, "null")]
    [InlineData("""  "SUBSCRIBE"  """, 3, "null")]
    [InlineData("""{"method":"SUBSCRIBE","params":["btcusdt@bookTicker"]""", 3, "null")]
    [InlineData("""{"method":7,"id":1}""", 2, "1")]
    [InlineData("""{"method":null,"id":3}""", 2, "3")]
    [InlineData("""{"params":[],"id":4}""", 2, "4")]
    [InlineData("""{"method":"subscribe","params":["btcusdt@bookTicker"],"id":5}""", 2, "5")]
    public async Task A_malformed_message_or_method_gets_an_error_answer_and_the_connection_stays(string request, int code, string id)
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/market/ws");

        await ws.SendTextAsync(request);
        var error = await ws.ReceiveJsonAsync();
        Assert.Equal(["error", "id"], error.PropertyNames());
        Assert.Equal(code, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(id, error.GetProperty("id").GetRawText());

        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":7}""");
        Assert.Equal("""{"result":[],"id":7}""", (await ws.ReceiveJsonAsync()).GetRawText());
    }

    // Binance's USDⓈ-M "Live Subscribing/Unsubscribing to streams", Error Messages: code 0 an unknown property, 1 a
    // value that is not a JSON boolean, 2 a property name that is not a string (or none) and too many parameters.
    [Theory]
    [InlineData("""{"method":"SET_PROPERTY","params":["combined","true"],"id":1}""", 1, "Invalid value type: expected Boolean")]
    [InlineData("""{"method":"SET_PROPERTY","params":["combined",1],"id":1}""", 1, "Invalid value type: expected Boolean")]
    [InlineData("""{"method":"SET_PROPERTY","params":["combined"],"id":1}""", 1, "Invalid value type: expected Boolean")]
    [InlineData("""{"method":"SET_PROPERTY","params":["compressed",true],"id":1}""", 0, "Unknown property")]
    [InlineData("""{"method":"SET_PROPERTY","params":[true,true],"id":1}""", 2, "Invalid request: property name must be a string")]
    [InlineData("""{"method":"SET_PROPERTY","params":[],"id":1}""", 2, "Invalid request: property name must be a string")]
    [InlineData("""{"method":"SET_PROPERTY","params":["combined",true,false],"id":1}""", 2, "Invalid request: too many parameters")]
    [InlineData("""{"method":"GET_PROPERTY","params":["compressed"],"id":1}""", 0, "Unknown property")]
    [InlineData("""{"method":"GET_PROPERTY","id":1}""", 2, "Invalid request: property name must be a string")]
    [InlineData("""{"method":"GET_PROPERTY","params":["combined","combined"],"id":1}""", 2, "Invalid request: too many parameters")]
    public async Task A_bad_property_request_gets_binances_documented_error_and_changes_nothing(string request, int code, string message)
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/market/ws");

        await ws.SendTextAsync(request);
        var error = await ws.ReceiveJsonAsync();
        Assert.Equal(code, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(message, error.GetProperty("error").GetProperty("msg").GetString());
        Assert.Equal(1, error.GetProperty("id").GetInt32());

        await ws.SendTextAsync("""{"method":"GET_PROPERTY","params":["combined"],"id":2}""");
        Assert.Equal("""{"result":false,"id":2}""", (await ws.ReceiveJsonAsync()).GetRawText());
    }

    [Theory]
    [InlineData("""{"method":"SUBSCRIBE","params":"btcusdt@aggTrade","id":1}""")]
    [InlineData("""{"method":"SUBSCRIBE","params":{"stream":"btcusdt@aggTrade"},"id":1}""")]
    [InlineData("""{"method":"SUBSCRIBE","id":1}""")]
    [InlineData("""{"method":"UNSUBSCRIBE","params":"btcusdt@aggTrade","id":1}""")]
    public async Task A_subscribe_whose_params_are_not_a_list_is_an_error_not_a_silent_success(string request)
    {
        // a client that sends params as a bare string would otherwise read "result": null and wait for data forever
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/market/ws");

        await ws.SendTextAsync(request);
        var error = await ws.ReceiveJsonAsync();
        Assert.Equal(2, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("params", error.GetProperty("error").GetProperty("msg").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, error.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task The_eleventh_message_within_one_second_closes_the_connection()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/market/ws");

        for (var i = 1; i <= 10; i++)
        {
            await ws.SendTextAsync($$"""{"method":"LIST_SUBSCRIPTIONS","id":{{i.ToString(CultureInfo.InvariantCulture)}}}""");
            Assert.Equal(i, (await ws.ReceiveJsonAsync()).GetProperty("id").GetInt32());
        }

        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":11}""");
        Assert.True(await IsClosedAsync(ws), "the 11th message in one second must close the connection");
    }

    [Fact]
    public async Task A_message_over_the_size_limit_closes_the_connection_with_1009_instead_of_being_buffered()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/market/ws");
        var ct = TestContext.Current.CancellationToken;

        // a valid SUBSCRIBE padded with whitespace past the limit, sent in 16 KiB fragments as a streaming client would
        var message = System.Text.Encoding.UTF8.GetBytes("""{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":1""" + new string(' ', StreamConnection.MaxMessageBytes) + "}");
        try
        {
            for (var offset = 0; offset < message.Length; offset += 16 * 1024)
            {
                var count = Math.Min(16 * 1024, message.Length - offset);
                await ws.SendAsync(message.AsMemory(offset, count), WebSocketMessageType.Text, offset + count == message.Length, ct);
            }
        }
        catch (WebSocketException)
        {
            // the server closed while the rest was still going out
        }

        var buffer = new byte[1024];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(5000);
        var result = await ws.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, result.CloseStatus);
    }

    [Fact]
    public async Task A_message_just_under_the_size_limit_is_still_answered()
    {
        await using var sim = await SimulatorFixture.StartAsync();
        using var ws = await sim.ConnectAsync("/market/ws");
        var head = """{"method":"LIST_SUBSCRIPTIONS","id":1""";

        await ws.SendTextAsync(head + new string(' ', StreamConnection.MaxMessageBytes - head.Length - 1) + "}");
        Assert.Equal("""{"result":[],"id":1}""", (await ws.ReceiveJsonAsync()).GetRawText());
    }

    [Fact]
    public async Task The_message_limit_is_a_sliding_second_not_a_fixed_window()
    {
        // limit 2: messages at 0 s, 0.7 s, 1.4 s are fine (each second holds two), a fourth at 1.4 s is not.
        // A fixed window restarting at 1.4 s would let the fourth through.
        await using var sim = await SimulatorFixture.StartAsync(o => o with { StreamMessagesPerSecond = 2 });
        using var ws = await sim.ConnectAsync("/market/ws");

        for (var i = 1; i <= 3; i++)
        {
            if (i > 1)
            {
                await Task.Delay(700, TestContext.Current.CancellationToken);
            }

            await ws.SendTextAsync($$"""{"method":"LIST_SUBSCRIPTIONS","id":{{i.ToString(CultureInfo.InvariantCulture)}}}""");
            Assert.Equal(i, (await ws.ReceiveJsonAsync()).GetProperty("id").GetInt32());
        }

        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":4}""");
        Assert.True(await IsClosedAsync(ws), "a third message within one second must close the connection");
    }

    [Fact]
    public async Task A_subscribe_past_1024_streams_is_refused_whole_and_nothing_is_subscribed()
    {
        // 22 canonical market streams per symbol: 47 symbols give more than 1024 distinct names
        var template = SymbolSpec.Defaults[0];
        SymbolSpec[] symbols = [.. SymbolSpec.Defaults, .. Enumerable.Range(0, 47).Select(i => template with { Symbol = $"T{i.ToString("D2", CultureInfo.InvariantCulture)}USDT" })];
        await using var sim = await SimulatorFixture.StartAsync(o => o with { Engine = o.Engine with { Symbols = symbols } });
        string[] kinds =
        [
            "bookTicker", "aggTrade", "trade", "markPrice", "markPrice@1s", "depth", "depth@0ms", "depth@100ms", "depth@250ms", "depth@500ms",
            "depth5", "depth5@100ms", "depth5@250ms", "depth5@500ms", "depth10", "depth10@100ms", "depth10@250ms", "depth10@500ms",
            "depth20", "depth20@100ms", "depth20@250ms", "depth20@500ms",
        ];
        var names = symbols.Skip(SymbolSpec.Defaults.Count).SelectMany(s => kinds.Select(k => s.Symbol.ToLowerInvariant() + "@" + k)).Take(1025).ToArray();
        Assert.Equal(1025, names.Length);
        using var ws = await sim.ConnectAsync("/public/ws");

        string Subscribe(IEnumerable<string> streams, int id) =>
            JsonSerializer.Serialize(new { method = "SUBSCRIBE", @params = streams, id });

        // interval streams (mark price, depth) start flowing once subscribed; answers are the frames with an id
        Task<JsonElement> AnswerAsync() => ws.ReceiveUntilAsync(frame => frame.TryGetProperty("id", out _));

        await ws.SendTextAsync(Subscribe(names.Take(1023), 1));
        Assert.Equal("""{"result":null,"id":1}""", (await AnswerAsync()).GetRawText());

        // two more (one already held) would make 1025: refused whole, the new 1024th is not taken either
        await ws.SendTextAsync(Subscribe([names[0], names[1023], names[1024]], 2));
        var refused = await AnswerAsync();
        Assert.Equal(2, refused.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("1024", refused.GetProperty("error").GetProperty("msg").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, refused.GetProperty("id").GetInt32());
        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":3}""");
        Assert.Equal(1023, (await AnswerAsync()).GetProperty("result").GetArrayLength());

        // the 1024th alone is fine; re-subscribing a held stream at the limit adds nothing and is fine too
        await ws.SendTextAsync(Subscribe([names[1023], names[0]], 4));
        Assert.Equal("""{"result":null,"id":4}""", (await AnswerAsync()).GetRawText());

        await ws.SendTextAsync(Subscribe([names[1024]], 5));
        Assert.Equal(2, (await AnswerAsync()).GetProperty("error").GetProperty("code").GetInt32());
        await ws.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":6}""");
        var listed = (await AnswerAsync()).GetProperty("result");
        Assert.Equal(1024, listed.GetArrayLength());
        Assert.DoesNotContain(names[1024], listed.EnumerateArray().Select(e => e.GetString()));

        // after an UNSUBSCRIBE there is room again
        await ws.SendTextAsync("""{"method":"UNSUBSCRIBE","params":["t00usdt@bookTicker"],"id":7}""");
        Assert.Equal("""{"result":null,"id":7}""", (await AnswerAsync()).GetRawText());
        await ws.SendTextAsync(Subscribe([names[1024]], 8));
        Assert.Equal("""{"result":null,"id":8}""", (await AnswerAsync()).GetRawText());
    }

    [Fact]
    public async Task A_connection_url_naming_more_streams_than_the_limit_is_refused()
    {
        await using var sim = await SimulatorFixture.StartAsync(o => o with { StreamsPerConnection = 2 });
        using var ws = new ClientWebSocket();
        await Assert.ThrowsAsync<WebSocketException>(() =>
            ws.ConnectAsync(new Uri(sim.Server.WebSocketBaseUrl, "/public/stream?streams=btcusdt@bookTicker/ethusdt@bookTicker/solusdt@bookTicker"), TestContext.Current.CancellationToken));

        using var fits = await sim.ConnectAsync("/public/stream?streams=btcusdt@bookTicker/ethusdt@bookTicker");
        await fits.SendTextAsync("""{"method":"LIST_SUBSCRIPTIONS","id":1}""");
        Assert.Equal(2, (await fits.ReceiveJsonAsync()).GetProperty("result").GetArrayLength());
    }
}
