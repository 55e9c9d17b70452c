using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Chaser.Binance.Connector;
using Chaser.Binance.Requests;
using Chaser.Binance.Signing;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Binance.Tests;

/// <summary>
/// The WebSocket API's order frames (API notes §8): each one's signature checked independently (HMAC recomputed here
/// over the params sorted here, Ed25519 verified with the public key), JSON valid whatever the text, rounding checked
/// as for REST, nothing allocated; and the send path's latency stamp taken at the socket hand-off.
/// </summary>
public sealed class WsApiRequestTests
{
    private const string SecretText = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    private const string Key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";

    private static readonly HmacSha256Signer Hmac = new(Secret.FromText(SecretText));

    private static readonly SigningContext Signing = new(Hmac, 1591702613943, 5000);

    public static TheoryData<string> Kinds => ["place", "place-market", "modify", "cancel"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_frame_is_signed_over_its_params_sorted_alphabetically_with_the_api_key(string kind)
    {
        var frame = Write(kind, Signing);

        using var json = JsonDocument.Parse(frame);
        var parameters = json.RootElement.GetProperty("params");
        Assert.Equal("7", json.RootElement.GetProperty("id").GetString());
        Assert.Equal(Key, parameters.GetProperty("apiKey").GetString());

        // Recomputed from the parsed frame: HMAC-SHA256 over k=v&… of every param but signature, sorted by name.
        var payload = SortedPayload(parameters);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(SecretText), Encoding.UTF8.GetBytes(payload)));
        Assert.Equal(expected, parameters.GetProperty("signature").GetString());

        // Integers as JSON numbers, decimals and the rest as strings (§8).
        Assert.Equal(JsonValueKind.Number, parameters.GetProperty("timestamp").ValueKind);
        Assert.Equal(JsonValueKind.Number, parameters.GetProperty("recvWindow").ValueKind);
        Assert.All(parameters.EnumerateObject().Where(p => p.Name is not ("timestamp" or "recvWindow")), p => Assert.Equal(JsonValueKind.String, p.Value.ValueKind));
    }

    [Fact]
    public void Place_frame_carries_the_same_parameters_as_the_rest_query()
    {
        var order = new NewOrder("BTCUSDT", Side.Buy, ChildOrderType.PostOnly, 65000.10000000m, 0.0100m, "chs-42-1", ReduceOnly: true);
        var frame = new byte[WsApiRequests.MaxFrameLength];
        var length = WsApiRequests.OrderPlace(frame, 7, order, TestRules.Btc, Key, Signing);
        var query = new byte[BinanceRequests.MaxQueryLength];
        var queryLength = BinanceRequests.NewOrder(query, order, TestRules.Btc, Signing);

        using var json = JsonDocument.Parse(frame.AsMemory(0, length));
        var fromFrame = json.RootElement.GetProperty("params").EnumerateObject()
            .Where(p => p.Name is not ("apiKey" or "signature"))
            .Select(p => p.Name + "=" + (p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText()));
        var fromQuery = Encoding.ASCII.GetString(query, 0, queryLength).Split('&').Where(p => !p.StartsWith("signature=", StringComparison.Ordinal));
        Assert.Equal(fromQuery, fromFrame);
        Assert.Equal(
            "newClientOrderId=chs-42-1&price=65000.1&quantity=0.01&recvWindow=5000&reduceOnly=true&side=BUY&symbol=BTCUSDT&timeInForce=GTX&timestamp=1591702613943&type=LIMIT",
            string.Join('&', fromFrame));
    }

    [Fact]
    public void An_ed25519_frame_verifies_with_the_public_key_and_carries_plain_base64()
    {
        var seed = new byte[32];
        new Random(12).NextBytes(seed);
        var signer = Ed25519Signer.FromSeed(Secret.FromBytes(seed));
        var signing = Signing with { Signer = signer };
        var publicKey = signer.PublicKey();

        foreach (var kind in Kinds)
        {
            var frame = Write(kind, signing);
            using var json = JsonDocument.Parse(frame);
            var parameters = json.RootElement.GetProperty("params");
            var signature = Convert.FromBase64String(parameters.GetProperty("signature").GetString()!);
            var payload = Encoding.UTF8.GetBytes(SortedPayload(parameters));

            Assert.True(Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Verify(signature, 0, publicKey, 0, payload, 0, payload.Length), kind);
            Assert.DoesNotContain("%", parameters.GetProperty("signature").GetString()!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_signer_without_a_plain_form_of_its_own_gets_its_url_escapes_decoded()
    {
        var signer = new EscapingSigner();

        Span<byte> destination = stackalloc byte[signer.MaxSignatureLength];
        var length = ((IRequestSigner)signer).SignPlain("x=1"u8, destination);

        Assert.Equal("a+b/c=%zz%2", Encoding.ASCII.GetString(destination[..length]));
    }

    [Theory]
    [InlineData("quote\"d")]
    [InlineData("back\\slash")]
    [InlineData("tab\tnew\nline\u0001\u007f")]
    [InlineData("a:b/c.d_e-f")]
    [InlineData("</script>&amp;")]
    public void Any_text_gives_valid_json_and_a_signature_over_the_raw_value(string clientOrderId)
    {
        var frame = new byte[WsApiRequests.MaxFrameLength];
        var length = WsApiRequests.OrderCancel(frame, 1, "BTCUSDT", clientOrderId, Key, Signing);

        using var json = JsonDocument.Parse(frame.AsMemory(0, length));
        var parameters = json.RootElement.GetProperty("params");
        Assert.Equal(clientOrderId, parameters.GetProperty("origClientOrderId").GetString());
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(SecretText), Encoding.UTF8.GetBytes(SortedPayload(parameters))));
        Assert.Equal(expected, parameters.GetProperty("signature").GetString());
    }

    [Fact]
    public void Non_ascii_text_is_refused_naming_the_parameter_as_rest_does()
    {
        var frame = new byte[WsApiRequests.MaxFrameLength];

        var e = Assert.Throws<ArgumentException>(() => WsApiRequests.OrderCancel(frame, 1, "BTCUSDT", "chs-ü", Key, Signing));
        Assert.Contains("origClientOrderId", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_parameter_out_of_alphabetical_order_is_refused_rather_than_signed_wrongly()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
        {
            Span<byte> frame = stackalloc byte[512];
            Span<byte> payload = stackalloc byte[512];
            var writer = new WsApiFrameWriter(frame, payload, 1, "order.cancel"u8, Key);
            writer.Add("symbol"u8, "BTCUSDT");
            writer.Add("origClientOrderId"u8, "chs-1");
        });
        Assert.Contains("'origClientOrderId' came after 'symbol'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("65000.15", "0.01")]
    [InlineData("65000.1", "0.0105")]
    [InlineData("0", "0.01")]
    public void Off_grid_prices_and_quantities_are_refused_as_for_rest(string price, string quantity)
    {
        var order = new NewOrder("BTCUSDT", Side.Buy, ChildOrderType.PostOnly,
            decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture),
            decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture), "chs-1-1");
        var frame = new byte[WsApiRequests.MaxFrameLength];

        Assert.Throws<ArgumentOutOfRangeException>(() => WsApiRequests.OrderPlace(frame, 1, order, TestRules.Btc, Key, Signing));
    }

    [Fact]
    public void Too_small_a_buffer_fails_loudly()
    {
        var order = new NewOrder("BTCUSDT", Side.Buy, ChildOrderType.PostOnly, 65000.1m, 0.01m, "chs-1-1");

        Assert.Throws<InvalidOperationException>(() =>
        {
            Span<byte> small = stackalloc byte[100];
            WsApiRequests.OrderPlace(small, 1, order, TestRules.Btc, Key, Signing);
        });
    }

    [Fact]
    public void Building_and_signing_frames_allocates_nothing()
    {
        var place = new NewOrder("BTCUSDT", Side.Buy, ChildOrderType.PostOnly, 65000.1m, 0.01m, "chs-42-1");
        var modify = new ModifyOrder("BTCUSDT", Side.Buy, "chs-42-1", 64999.9m, 0.01m);
        var frame = new byte[WsApiRequests.MaxFrameLength];
        var total = 0;

        var allocated = Allocations.Minimum(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                var signing = Signing with { TimestampMs = Signing.TimestampMs + i };
                total += WsApiRequests.OrderPlace(frame, i, place, TestRules.Btc, Key, signing);
                total += WsApiRequests.OrderModify(frame, i, modify, TestRules.Btc, Key, signing);
                total += WsApiRequests.OrderCancel(frame, i, "BTCUSDT", "chs-42-1", Key, signing);
            }
        });

        Assert.True(total > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task The_latency_stamp_is_taken_when_the_bytes_are_handed_to_the_socket_after_signing()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000));
        var options = Options(time, new ClockMovingSigner(Hmac, time, TimeSpan.FromMilliseconds(3)));
        await using var connector = new BinanceConnector(options);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));
        var socket = new RecordingSocket(time);
        var before = time.GetTimestamp();

        Assert.True(entry.TrySend(socket, Request(ChaserCommandKind.Place), 1_764_000_000_000, out var handedOff));

        Assert.Equal(socket.SendTimestamps.Single(), handedOff);
        Assert.Equal(TimeSpan.FromMilliseconds(3), time.GetElapsedTime(before, handedOff));
        using var json = JsonDocument.Parse(socket.Frames.Single());
        Assert.Equal("order.place", json.RootElement.GetProperty("method").GetString());
        Assert.Equal(1, entry.Sent);
    }

    [Fact]
    public async Task A_rehearsal_builds_the_frame_a_send_would_and_sends_takes_and_counts_nothing()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000));
        var options = Options(time, Hmac);
        await using var connector = new BinanceConnector(options);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));
        var socket = new RecordingSocket(time);

        var lengths = new[] { ChaserCommandKind.Place, ChaserCommandKind.Modify, ChaserCommandKind.Cancel }
            .Select(kind => entry.Rehearse(socket, Request(kind), 1_764_000_000_000))
            .ToArray();

        Assert.Empty(socket.Frames);
        Assert.Equal(0, entry.Sent);
        Assert.Equal(0, entry.Rehearse(socket, Request(ChaserCommandKind.Query), 1_764_000_000_000));

        // The same request sent for real: its frame is as long as the rehearsed one (the id "1" against "0"), and the
        // first real request still gets the first id: a rehearsal took none.
        for (var i = 0; i < lengths.Length; i++)
        {
            var kind = new[] { ChaserCommandKind.Place, ChaserCommandKind.Modify, ChaserCommandKind.Cancel }[i];
            Assert.True(entry.TrySend(socket, Request(kind), 1_764_000_000_000, out _));
            Assert.Equal(lengths[i], socket.Frames[^1].Length);
        }

        Assert.StartsWith("{\"id\":\"1\",", Encoding.ASCII.GetString(socket.Frames[0]), StringComparison.Ordinal);
        Assert.Equal(3, entry.Sent);
    }

    [Fact]
    public async Task Rehearsals_on_other_threads_leave_every_real_frame_whole_signed_and_numbered_once()
    {
        // The path warmer rehearses on its timer's thread while runners send on theirs: the same entry, signer and pool.
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000));
        var options = Options(time, Hmac);
        await using var connector = new BinanceConnector(options);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));
        var socket = new RecordingSocket(time);
        var sent = new System.Collections.Concurrent.ConcurrentBag<string>();
        var sending = 2;
        var ct = TestContext.Current.CancellationToken;
        using var rehearsing = new CountdownEvent(2);

        var rehearsals = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var n = 0;
            while (Volatile.Read(ref sending) > 0)
            {
                var kind = (ChaserCommandKind)((n % 3) + (int)ChaserCommandKind.Place);
                var command = new ChaserCommand(kind, $"chs-warmer-{r}-{n}", Side.Buy, ChildOrderType.PostOnly, 60000.0m + (n % 100 * 0.1m), 0.5m, default, default);
                Assert.True(entry.Rehearse(socket, new OrderRequest(command, "ETHUSDT", TestRules.Btc, true), 1_700_000_000_000 + n++) > 0);
                if (n == 1)
                {
                    rehearsing.Signal();
                }
            }
        }, ct)).ToArray();
        var senders = Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            Assert.True(rehearsing.Wait(TimeSpan.FromSeconds(10), ct));
            for (var i = 0; i < 2_000; i++)
            {
                var id = $"chs-real{t}-1-{i}";
                var command = new ChaserCommand(ChaserCommandKind.Place, id, Side.Sell, ChildOrderType.PostOnly, 65000.0m + (i % 100 * 0.1m), 0.01m, default, default);
                if (entry.TrySend(socket, new OrderRequest(command, "BTCUSDT", TestRules.Btc, false), 1_764_000_000_000 + i, out _))
                {
                    sent.Add(id);
                }
            }

            Interlocked.Decrement(ref sending);
        }, ct)).ToArray();
        await Task.WhenAll(senders.Concat(rehearsals));

        Assert.True(sent.Count > 3_000, $"{sent.Count} sent");
        Assert.Equal(sent.Count, socket.Frames.Count);
        Assert.Equal(sent.Count, entry.Sent);
        var ids = new List<long>();
        var clientIds = new List<string>();
        foreach (var frame in socket.Frames)
        {
            using var json = JsonDocument.Parse(frame);
            var parameters = json.RootElement.GetProperty("params");
            var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(SecretText), Encoding.UTF8.GetBytes(SortedPayload(parameters))));
            Assert.Equal(expected, parameters.GetProperty("signature").GetString());
            Assert.Equal("BTCUSDT", parameters.GetProperty("symbol").GetString());
            Assert.Equal("SELL", parameters.GetProperty("side").GetString());
            Assert.False(parameters.TryGetProperty("reduceOnly", out _));
            ids.Add(long.Parse(json.RootElement.GetProperty("id").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
            clientIds.Add(parameters.GetProperty("newClientOrderId").GetString()!);
        }

        // Numbered 1, 2, … once each (a rehearsal takes no id), and exactly the requests that were sent.
        Assert.Equal(Enumerable.Range(1, sent.Count).Select(i => (long)i), ids.Order());
        Assert.Equal(sent.Order(), clientIds.Order());
    }

    [Fact]
    public async Task While_another_send_holds_the_socket_the_request_falls_back_to_rest_then_the_socket_is_used_again()
    {
        var time = new FakeTimeProvider();
        var options = Options(time, Hmac);
        await using var connector = new BinanceConnector(options);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));
        var socket = new RecordingSocket(time) { Hold = new TaskCompletionSource() };

        Assert.True(entry.TrySend(socket, Request(ChaserCommandKind.Place), 1, out _));
        Assert.False(entry.TrySend(socket, Request(ChaserCommandKind.Modify), 2, out _));

        socket.Hold.SetResult();
        socket.Hold = null;
        Assert.True(entry.TrySend(socket, Request(ChaserCommandKind.Modify), 3, out _));
        Assert.Equal(2, socket.Frames.Count);
        Assert.Equal(2, entry.Sent);
    }

    [Fact]
    public async Task The_send_path_allocates_nothing_per_request_once_its_table_has_grown()
    {
        var time = new FakeTimeProvider();
        var options = Options(time, Hmac);
        await using var connector = new BinanceConnector(options);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));
        var socket = new RecordingSocket(time) { CopyOnly = true };
        var request = Request(ChaserCommandKind.Modify);
        var sent = 0;

        // Ten requests a run, none answered: the table of pending requests outgrows its first 64 entries once, in one
        // run; the smallest run shows what a request itself costs.
        var allocated = Allocations.Minimum(() =>
        {
            for (var i = 0; i < 10; i++)
            {
                sent += entry.TrySend(socket, request, 1_764_000_000_000 + i, out _) ? 1 : 0;
            }
        });

        Assert.Equal(80, sent);
        Assert.Equal(0, allocated);
        Assert.StartsWith("{\"id\":\"80\",\"method\":\"order.modify\"", Encoding.ASCII.GetString(socket.Copied), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_sent_at_once_from_many_threads_go_one_at_a_time_each_with_its_own_id()
    {
        var time = new FakeTimeProvider();
        var options = Options(time, Hmac);
        await using var connector = new BinanceConnector(options);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));
        var socket = new RecordingSocket(time) { Yield = true };
        var request = Request(ChaserCommandKind.Modify);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            var sent = 0;
            for (var i = 0; i < 50; i++)
            {
                sent += entry.TrySend(socket, request, 1_764_000_000_000 + i, out _) ? 1 : 0;
            }

            return sent;
        }, TestContext.Current.CancellationToken)));

        Assert.Equal(0, socket.Overlaps);
        List<byte[]> frames;
        lock (socket.Frames)
        {
            frames = [.. socket.Frames];
        }

        Assert.Equal(results.Sum(), frames.Count);
        Assert.Equal(frames.Count, entry.Sent);
        var ids = frames.Select(f =>
        {
            using var json = JsonDocument.Parse(f);
            return json.RootElement.GetProperty("id").GetString();
        }).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task An_answer_straddling_a_window_reset_brings_the_old_windows_counts_which_do_not_fill_the_new_one()
    {
        // One minute window of the exchange ends at 1_764_000_000_000 ms (a multiple of 60,000); the clock has no offset.
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000 - 10));
        var options = Options(time, Hmac);
        await using var connector = new BinanceConnector(options);
        var sink = new RejectionCountingSink();
        connector.UseSink(sink);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));
        var socket = new RecordingSocket(time);

        // Sent 10 ms before the reset, answered 10 ms after it with the old minute's near-full count.
        Assert.True(entry.TrySend(socket, Request(ChaserCommandKind.Place), time.GetUtcNow().ToUnixTimeMilliseconds(), out _));
        time.Advance(TimeSpan.FromMilliseconds(20));
        entry.OnMessage(Answer(IdOf(socket.Frames[^1]), orders1m: 1_150, orders10s: 290), time.GetTimestamp());

        Assert.Equal(1, sink.Rejections);
        Assert.Equal(1m, connector.RateGuard.AvailableFraction());
        Assert.True(connector.RateGuard.TryAcquire(1, 0, out var refusal), refusal);

        // Sent and answered within the new window: its counts are the truth for it.
        Assert.True(entry.TrySend(socket, Request(ChaserCommandKind.Place), time.GetUtcNow().ToUnixTimeMilliseconds(), out _));
        time.Advance(TimeSpan.FromMilliseconds(5));
        entry.OnMessage(Answer(IdOf(socket.Frames[^1]), orders1m: 1_000, orders10s: 100), time.GetTimestamp());

        Assert.Equal(2, sink.Rejections);
        Assert.Equal(1m - (1_000m / 1_080m), connector.RateGuard.AvailableFraction());

        static string IdOf(byte[] frame)
        {
            using var json = JsonDocument.Parse(frame);
            return json.RootElement.GetProperty("id").GetString()!;
        }

        static byte[] Answer(string id, int orders1m, int orders10s) => Encoding.UTF8.GetBytes(
            "{\"id\":\"" + id + "\",\"status\":400,\"error\":{\"code\":-5022,\"msg\":\"Due to the order could not be executed as maker, the Post Only order will be rejected.\"},"
            + "\"rateLimits\":[{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,\"limit\":300,\"count\":" + orders10s + "},"
            + "{\"rateLimitType\":\"ORDERS\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":1200,\"count\":" + orders1m + "}]}");
    }

    [Fact]
    public async Task An_answer_reaches_the_engine_stamped_with_when_its_frame_was_read()
    {
        // The answer's input carried no receive stamp: what the chaser decided on it (a re-post after a reject) had
        // no hop, or one measured from when the engine got to it, hiding the time the answer waited.
        var time = new FakeTimeProvider();
        var options = Options(time, Hmac);
        await using var connector = new BinanceConnector(options);
        var sink = new RejectionCountingSink();
        connector.UseSink(sink);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));
        var socket = new RecordingSocket(time);
        Assert.True(entry.TrySend(socket, Request(ChaserCommandKind.Place), time.GetUtcNow().ToUnixTimeMilliseconds(), out _));
        string id;
        using (var json = JsonDocument.Parse(socket.Frames[^1]))
        {
            id = json.RootElement.GetProperty("id").GetString()!;
        }

        var read = time.GetTimestamp();
        time.Advance(TimeSpan.FromMilliseconds(3));
        entry.OnMessage(Encoding.UTF8.GetBytes("{\"id\":\"" + id + "\",\"status\":400,\"error\":{\"code\":-5022,\"msg\":\"post only\"}}"), read);

        Assert.Equal([read], sink.ReceivedTimestamps);
    }

    [Fact]
    public async Task A_query_or_a_closed_socket_is_not_sent_this_way()
    {
        var time = new FakeTimeProvider();
        var options = Options(time, Hmac);
        await using var connector = new BinanceConnector(options);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));

        Assert.False(entry.TrySend(new RecordingSocket(time), Request(ChaserCommandKind.Query), 1, out _));
        Assert.False(entry.TrySend(new RecordingSocket(time) { Closed = true }, Request(ChaserCommandKind.Place), 1, out _));
        Assert.Equal(0, entry.Sent);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_logged_on_frame_has_the_signed_frames_parameters_without_api_key_and_signature(string kind)
    {
        var signed = Write(kind, Signing);
        var unsigned = WriteLoggedOn(kind, Signing);

        using var signedJson = JsonDocument.Parse(signed);
        using var unsignedJson = JsonDocument.Parse(unsigned);
        Assert.Equal(signedJson.RootElement.GetProperty("method").GetString(), unsignedJson.RootElement.GetProperty("method").GetString());
        Assert.Equal("7", unsignedJson.RootElement.GetProperty("id").GetString());
        var expected = signedJson.RootElement.GetProperty("params").EnumerateObject().Where(p => p.Name is not ("apiKey" or "signature")).Select(p => p.Name + ":" + p.Value.GetRawText());
        Assert.Equal(expected, unsignedJson.RootElement.GetProperty("params").EnumerateObject().Select(p => p.Name + ":" + p.Value.GetRawText()));
        Assert.Equal(JsonValueKind.Number, unsignedJson.RootElement.GetProperty("params").GetProperty("timestamp").ValueKind);
    }

    [Theory]
    [InlineData("quote\"d")]
    [InlineData("tab\tnew\nline\u0001\u007f")]
    public void A_logged_on_frame_escapes_any_text_and_refuses_non_ascii_naming_the_parameter(string clientOrderId)
    {
        var frame = new byte[WsApiRequests.MaxFrameLength];
        var length = WsApiRequests.OrderCancelLoggedOn(frame, 1, "BTCUSDT", clientOrderId, Signing);
        using var json = JsonDocument.Parse(frame.AsMemory(0, length));
        Assert.Equal(clientOrderId, json.RootElement.GetProperty("params").GetProperty("origClientOrderId").GetString());

        var e = Assert.Throws<ArgumentException>(() => WsApiRequests.OrderCancelLoggedOn(frame, 1, "BTCUSDT", "chs-ü", Signing));
        Assert.Contains("origClientOrderId", e.Message, StringComparison.Ordinal);
        var order = Assert.Throws<InvalidOperationException>(() =>
        {
            Span<byte> small = stackalloc byte[512];
            var writer = new WsApiFrameWriter(small, 1, "order.cancel"u8);
            writer.Add("symbol"u8, "BTCUSDT");
            writer.Add("origClientOrderId"u8, "chs-1");
        });
        Assert.Contains("'origClientOrderId' came after 'symbol'", order.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_logon_frame_is_signed_with_the_ed25519_key_over_api_key_recv_window_and_timestamp()
    {
        var seed = new byte[32];
        new Random(3).NextBytes(seed);
        var signer = Ed25519Signer.FromSeed(Secret.FromBytes(seed));
        var frame = new byte[WsApiRequests.MaxFrameLength];
        var length = WsApiRequests.SessionLogon(frame, 5, Key, Signing with { Signer = signer });

        using var json = JsonDocument.Parse(frame.AsMemory(0, length));
        Assert.Equal("session.logon", json.RootElement.GetProperty("method").GetString());
        var parameters = json.RootElement.GetProperty("params");
        Assert.Equal(["apiKey", "recvWindow", "timestamp", "signature"], parameters.EnumerateObject().Select(p => p.Name));
        var payload = Encoding.UTF8.GetBytes(SortedPayload(parameters));
        Assert.Equal($"apiKey={Key}&recvWindow=5000&timestamp=1591702613943", Encoding.UTF8.GetString(payload));
        var signature = Convert.FromBase64String(parameters.GetProperty("signature").GetString()!);
        Assert.True(Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Verify(signature, 0, signer.PublicKey(), 0, payload, 0, payload.Length));
        Assert.True(signer.SupportsSessionLogon);
        Assert.False(((IRequestSigner)Hmac).SupportsSessionLogon);
    }

    [Fact]
    public async Task Once_the_logon_is_accepted_that_connections_orders_go_unsigned_and_allocate_nothing_and_another_connections_stay_signed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000));
        var options = Options(time, Ed25519Signer.FromSeed(Secret.FromBytes(new byte[32])));
        await using var connector = new BinanceConnector(options);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));
        var socket = new RecordingSocket(time);

        entry.SendLogon(socket);
        using (var logon = JsonDocument.Parse(socket.Frames.Single()))
        {
            Assert.Equal("session.logon", logon.RootElement.GetProperty("method").GetString());
            var id = logon.RootElement.GetProperty("id").GetString();

            // Before the answer: signed.
            Assert.True(entry.TrySend(socket, Request(ChaserCommandKind.Place), 1_764_000_000_000, out _));
            Assert.Contains("\"signature\"", Encoding.ASCII.GetString(socket.Frames[^1]), StringComparison.Ordinal);

            entry.OnMessage(Encoding.UTF8.GetBytes("{\"id\":\"" + id + "\",\"status\":200,\"result\":{\"apiKey\":\"" + Key + "\",\"authorizedSince\":1,\"connectedSince\":1,\"returnRateLimits\":false,\"serverTime\":1,\"userDataStream\":false}}"), time.GetTimestamp());
        }

        Assert.Null(entry.LogonFailure);
        Assert.True(entry.TrySend(socket, Request(ChaserCommandKind.Modify), 1_764_000_000_001, out _));
        using (var modify = JsonDocument.Parse(socket.Frames[^1]))
        {
            var parameters = modify.RootElement.GetProperty("params");
            Assert.False(parameters.TryGetProperty("apiKey", out _));
            Assert.False(parameters.TryGetProperty("signature", out _));
            Assert.Equal(1_764_000_000_001, parameters.GetProperty("timestamp").GetInt64());
        }

        // Another connection (a replacement not yet logged on) gets signed requests.
        var other = new RecordingSocket(time);
        Assert.True(entry.TrySend(other, Request(ChaserCommandKind.Cancel), 1_764_000_000_002, out _));
        Assert.Contains("\"signature\"", Encoding.ASCII.GetString(other.Frames.Single()), StringComparison.Ordinal);

        var copying = new RecordingSocket(time) { CopyOnly = true };
        entry.SendLogon(copying);
        entry.OnMessage(Encoding.UTF8.GetBytes("""{"id":"5","status":200,"result":{}}"""), time.GetTimestamp());
        var request = Request(ChaserCommandKind.Modify);
        var sent = 0;
        var allocated = Allocations.Minimum(() =>
        {
            for (var i = 0; i < 10; i++)
            {
                sent += entry.TrySend(copying, request, 1_764_000_000_000 + i, out _) ? 1 : 0;
            }
        });

        Assert.Equal(0, allocated);
        Assert.True(sent > 0);
        Assert.DoesNotContain("signature", Encoding.ASCII.GetString(copying.Copied), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_logon_names_the_exchanges_reason_and_the_connection_stays_signed()
    {
        var time = new FakeTimeProvider();
        var diagnostics = new List<string>();
        var options = Options(time, Ed25519Signer.FromSeed(Secret.FromBytes(new byte[32]))) with { Diagnostics = diagnostics.Add };
        await using var connector = new BinanceConnector(options);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));
        var socket = new RecordingSocket(time);

        entry.SendLogon(socket);
        entry.OnMessage("""{"id":"1","status":400,"error":{"code":-4056,"msg":"HMAC_SHA256 API key is not supported."}}"""u8, time.GetTimestamp());

        Assert.Equal("-4056 HMAC_SHA256 API key is not supported.", entry.LogonFailure);
        Assert.Contains(diagnostics, d => d.Contains("session.logon refused: -4056 HMAC_SHA256 API key is not supported.", StringComparison.Ordinal));
        Assert.True(entry.TrySend(socket, Request(ChaserCommandKind.Modify), 2, out _));
        Assert.Contains("\"signature\"", Encoding.ASCII.GetString(socket.Frames[^1]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_logon_without_an_answer_is_reported_once_the_request_timeout_passes()
    {
        var time = new FakeTimeProvider();
        var options = Options(time, Ed25519Signer.FromSeed(Secret.FromBytes(new byte[32])));
        await using var connector = new BinanceConnector(options);
        await using var entry = new WsApiOrderEntry(connector, options, new Uri("ws://127.0.0.1:9/ws-fapi/v1"));

        entry.SendLogon(new RecordingSocket(time));
        time.Advance(options.RequestTimeout);
        Assert.Null(entry.LogonFailure);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("no answer in time", entry.LogonFailure);
    }

    private static BinanceConnectorOptions Options(TimeProvider time, IRequestSigner signer) => new()
    {
        RestBaseUrl = new Uri("http://127.0.0.1:9"),
        StreamBaseUrl = new Uri("ws://127.0.0.1:9"),
        ApiKey = new ApiKey(Key),
        Signer = signer,
        Time = time,
    };

    private static OrderRequest Request(ChaserCommandKind kind) =>
        new(new ChaserCommand(kind, "chs-abc123-1-1", Side.Buy, ChildOrderType.PostOnly, 65000.1m, 0.01m, default, default), "BTCUSDT", TestRules.Btc, false);

    private static byte[] Write(string kind, in SigningContext signing)
    {
        var frame = new byte[WsApiRequests.MaxFrameLength];
        var length = kind switch
        {
            "place" => WsApiRequests.OrderPlace(frame, 7, new NewOrder("BTCUSDT", Side.Buy, ChildOrderType.PostOnly, 65000.1m, 0.01m, "chs-42-1", ResultResponse: true), TestRules.Btc, Key, signing),
            "place-market" => WsApiRequests.OrderPlace(frame, 7, new NewOrder("BTCUSDT", Side.Sell, ChildOrderType.Market, 0m, 0.005m, "chs-42-9", ReduceOnly: true), TestRules.Btc, Key, signing),
            "modify" => WsApiRequests.OrderModify(frame, 7, new ModifyOrder("BTCUSDT", Side.Buy, "chs-42-1", 64999.9m, 0.02m), TestRules.Btc, Key, signing),
            _ => WsApiRequests.OrderCancel(frame, 7, "BTCUSDT", "chs-42-1", Key, signing),
        };
        return frame[..length];
    }

    private static byte[] WriteLoggedOn(string kind, in SigningContext signing)
    {
        var frame = new byte[WsApiRequests.MaxFrameLength];
        var length = kind switch
        {
            "place" => WsApiRequests.OrderPlaceLoggedOn(frame, 7, new NewOrder("BTCUSDT", Side.Buy, ChildOrderType.PostOnly, 65000.1m, 0.01m, "chs-42-1", ResultResponse: true), TestRules.Btc, signing),
            "place-market" => WsApiRequests.OrderPlaceLoggedOn(frame, 7, new NewOrder("BTCUSDT", Side.Sell, ChildOrderType.Market, 0m, 0.005m, "chs-42-9", ReduceOnly: true), TestRules.Btc, signing),
            "modify" => WsApiRequests.OrderModifyLoggedOn(frame, 7, new ModifyOrder("BTCUSDT", Side.Buy, "chs-42-1", 64999.9m, 0.02m), TestRules.Btc, signing),
            _ => WsApiRequests.OrderCancelLoggedOn(frame, 7, "BTCUSDT", "chs-42-1", signing),
        };
        return frame[..length];
    }

    /// <summary>What the server signs: every param but signature, sorted by name, as k=v joined by &amp;.</summary>
    private static string SortedPayload(JsonElement parameters) => string.Join('&', parameters.EnumerateObject()
        .Where(p => p.Name != "signature")
        .OrderBy(p => p.Name, StringComparer.Ordinal)
        .Select(p => p.Name + "=" + (p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())));

    /// <summary>A signer that only implements the URL-encoded form.</summary>
    private sealed class EscapingSigner : IRequestSigner
    {
        public int MaxSignatureLength => 32;

        public int Sign(ReadOnlySpan<byte> totalParams, Span<byte> destination)
        {
            "a%2Bb%2fc%3D%zz%2"u8.CopyTo(destination);
            return "a%2Bb%2fc%3D%zz%2"u8.Length;
        }
    }

    private sealed class ClockMovingSigner(IRequestSigner inner, FakeTimeProvider time, TimeSpan cost) : IRequestSigner
    {
        public int MaxSignatureLength => inner.MaxSignatureLength;

        public int Sign(ReadOnlySpan<byte> totalParams, Span<byte> destination)
        {
            time.Advance(cost);
            return inner.Sign(totalParams, destination);
        }

        public int SignPlain(ReadOnlySpan<byte> payload, Span<byte> destination)
        {
            time.Advance(cost);
            return inner.SignPlain(payload, destination);
        }
    }

    /// <summary>Counts the rejections the answers bring, and when each was received; every other event is ignored.</summary>
    private sealed class RejectionCountingSink : IExchangeEventSink
    {
        public int Rejections { get; private set; }

        public List<long> ReceivedTimestamps { get; } = [];

        public void OnInput(in ChaserInput input)
        {
            if (input.Kind == EventKind.Rejected)
            {
                Rejections++;
                ReceivedTimestamps.Add(input.ReceivedTimestamp);
            }
        }
    }

    /// <summary>A socket stand-in: copies each frame and notes the clock when SendAsync is called.</summary>
    private sealed class RecordingSocket(TimeProvider time) : WebSocket
    {
        public List<byte[]> Frames { get; } = [];

        public List<long> SendTimestamps { get; } = [];

        public TaskCompletionSource? Hold { get; set; }

        /// <summary>Only copy the last frame into a reused buffer: nothing allocated per send.</summary>
        public bool CopyOnly { get; init; }

        private readonly byte[] _copy = new byte[WsApiRequests.MaxFrameLength];
        private int _copied;

        public ReadOnlySpan<byte> Copied => _copy.AsSpan(0, _copied);

        public bool Closed { get; init; }

        /// <summary>Complete each send a moment later on another thread, as a busy socket does.</summary>
        public bool Yield { get; init; }

        /// <summary>Sends begun while another was still in flight: a WebSocket allows one at a time.</summary>
        public int Overlaps => Volatile.Read(ref _overlaps);

        private int _inFlight;
        private int _overlaps;

        public override WebSocketCloseStatus? CloseStatus => null;

        public override string? CloseStatusDescription => null;

        public override WebSocketState State => Closed ? WebSocketState.Closed : WebSocketState.Open;

        public override string? SubProtocol => null;

        public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            if (CopyOnly)
            {
                buffer.Span.CopyTo(_copy);
                _copied = buffer.Length;
                return ValueTask.CompletedTask;
            }

            if (Yield)
            {
                return SendLaterAsync(buffer.ToArray());
            }

            SendTimestamps.Add(time.GetTimestamp());
            Frames.Add(buffer.ToArray());
            return Hold is { } hold ? new ValueTask(hold.Task) : ValueTask.CompletedTask;
        }

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
            SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        private async ValueTask SendLaterAsync(byte[] frame)
        {
            if (Interlocked.Increment(ref _inFlight) > 1)
            {
                Interlocked.Increment(ref _overlaps);
            }

            lock (Frames)
            {
                Frames.Add(frame);
            }

            await Task.Yield();
            Interlocked.Decrement(ref _inFlight);
        }

        public override void Abort()
        {
        }

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Dispose()
        {
        }
    }
}
