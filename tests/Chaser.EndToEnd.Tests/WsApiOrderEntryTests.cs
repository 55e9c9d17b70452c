using System.Collections.Concurrent;
using Chaser.Binance.Connector;
using Chaser.Binance.Signing;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Simulator.Server;
using Microsoft.Extensions.Time.Testing;
using BookLevel = Chaser.Simulator.Engine.BookLevel;

namespace Chaser.EndToEnd.Tests;

/// <summary>
/// Order entry over the WebSocket API against the simulator, which verifies each frame's signature over the sorted
/// params as Binance does: place, modify and cancel are accepted, and each request's latency stamp is taken when its
/// bytes are handed to the socket, after the frame was signed.
/// </summary>
public class WsApiOrderEntryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Place_modify_and_cancel_frames_are_accepted_and_stamped_at_the_socket_hand_off()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Source = MarketSourceKind.Manual, TimeProvider = time }, Ct);
        simulator.Engine.ReplaceBook("BTCUSDT", [new BookLevel(64_999.9m, 5m)], [new BookLevel(65_000.0m, 5m)]);

        // Signing takes 2 ms on this clock, so a stamp read before the frame was signed shows.
        using var hmac = new HmacSha256Signer(Secret.FromText(simulator.ApiSecret));
        var signer = new SlowSigner(hmac, time, TimeSpan.FromMilliseconds(2));
        var sink = new RecordingSink();
        await using var connector = new BinanceConnector(ConnectorOptions(simulator, simulator.ApiKey, signer, time));
        await connector.ConnectAsync(sink, Ct).WaitAsync(Patience, Ct);
        var rules = await connector.GetSymbolRulesAsync("BTCUSDT", Ct);

        var place = Submit(connector, signer, new OrderRequest(Command(ChaserCommandKind.Place, 64_999.0m, 0.010m), "BTCUSDT", rules, false));
        var accepted = await sink.Next<OrderAccepted>(a => a.ClientOrderId == ClientId);
        Assert.False(accepted.IsModify);
        Assert.Equal(64_999.0m, accepted.Price);

        var modify = Submit(connector, signer, new OrderRequest(Command(ChaserCommandKind.Modify, 64_999.5m, 0.020m), "BTCUSDT", rules, false));
        var modified = await sink.Next<OrderAccepted>(a => a.ClientOrderId == ClientId && a.IsModify);
        Assert.Equal(64_999.5m, modified.Price);
        Assert.Equal(0.020m, modified.Quantity);

        var cancel = Submit(connector, signer, new OrderRequest(Command(ChaserCommandKind.Cancel, 0m, 0m), "BTCUSDT", rules, false));
        var finished = await sink.Next<OrderFinished>(f => f.ClientOrderId == ClientId);
        Assert.Equal(ExchangeOrderStatus.Canceled, finished.Status);

        Assert.Equal(3, connector.WebSocketOrderRequests);
        Assert.Empty(simulator.Engine.GetOpenOrders("BTCUSDT"));
        Assert.Empty(sink.Events.OfType<OrderRejected>());
        Assert.Empty(sink.Events.OfType<RequestOutcomeUnknown>());

        // One signature per request, and the stamps are after it, in order.
        Assert.Equal(3, signer.Signatures);
        Assert.True(place < modify && modify < cancel);
    }

    [Fact]
    public async Task An_ed25519_key_logs_on_and_its_orders_go_unsigned_also_after_a_reconnect()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var ed25519 = TestEd25519Key();
        await using var simulator = await StartWithEd25519KeyAsync(time, ed25519);

        var signer = new SlowSigner(ed25519, time, TimeSpan.Zero);
        var diagnostics = new ConcurrentQueue<string>();
        var sink = new RecordingSink();
        await using var connector = new BinanceConnector(ConnectorOptions(simulator, Ed25519ApiKey, signer, time) with
        {
            MaxReconnectDelay = TimeSpan.FromMilliseconds(1),
            Diagnostics = diagnostics.Enqueue,
        });
        await connector.ConnectAsync(sink, Ct).WaitAsync(Patience, Ct);
        var rules = await connector.GetSymbolRulesAsync("BTCUSDT", Ct);
        Assert.True(connector.WebSocketLoggedOn, string.Join(" | ", diagnostics));
        Assert.Null(connector.WebSocketLogonFailure);

        // The simulator refuses an order without apiKey on a connection that is not logged on (-1102): accepted means
        // the logon came first, and no signature was made for it.
        var signatures = signer.Signatures;
        Assert.True(connector.Submit(new OrderRequest(Command(ChaserCommandKind.Place, 64_999.0m, 0.010m), "BTCUSDT", rules, false)).Sent);
        await sink.Next<OrderAccepted>(a => a.ClientOrderId == ClientId && !a.IsModify);
        Assert.True(connector.Submit(new OrderRequest(Command(ChaserCommandKind.Modify, 64_999.5m, 0.020m), "BTCUSDT", rules, false)).Sent);
        await sink.Next<OrderAccepted>(a => a.ClientOrderId == ClientId && a.IsModify);
        Assert.Equal(signatures, signer.Signatures);
        Assert.Equal(2, connector.WebSocketOrderRequests);

        // A new connection is a new session: it logs on again before orders go unsigned on it.
        Assert.Equal(1, simulator.DropWebSocketApiConnections());
        await Eventually(time, () => connector.WebSocketLoggedOn && signer.Signatures > signatures, "logged on again after the reconnect");
        var afterReconnect = signer.Signatures;
        Assert.True(connector.Submit(new OrderRequest(Command(ChaserCommandKind.Cancel, 0m, 0m), "BTCUSDT", rules, false)).Sent);
        var finished = await sink.Next<OrderFinished>(f => f.ClientOrderId == ClientId);
        Assert.Equal(ExchangeOrderStatus.Canceled, finished.Status);
        Assert.Equal(afterReconnect, signer.Signatures);
        Assert.Equal(3, connector.WebSocketOrderRequests);
        Assert.Empty(sink.Events.OfType<OrderRejected>());
        Assert.Empty(sink.Events.OfType<RequestOutcomeUnknown>());
        Assert.DoesNotContain(diagnostics, d => d.Contains("refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refused_logon_is_reported_with_the_exchanges_reason_and_orders_are_then_signed_one_by_one()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var ed25519 = TestEd25519Key();
        await using var simulator = await StartWithEd25519KeyAsync(time, ed25519);

        // The logon's signature is spoilt (the simulator answers -1022); every other signature is the key's.
        var signer = new SpoilingSigner(ed25519, spoil: payload => payload.IndexOf("apiKey="u8) == 0 && payload.IndexOf("symbol="u8) < 0);
        var diagnostics = new ConcurrentQueue<string>();
        var sink = new RecordingSink();
        await using var connector = new BinanceConnector(ConnectorOptions(simulator, Ed25519ApiKey, signer, time) with { Diagnostics = diagnostics.Enqueue });
        await connector.ConnectAsync(sink, Ct).WaitAsync(Patience, Ct);
        var rules = await connector.GetSymbolRulesAsync("BTCUSDT", Ct);

        Assert.False(connector.WebSocketLoggedOn);
        Assert.Equal("-1022 Signature for this request is not valid.", connector.WebSocketLogonFailure);
        Assert.Contains(diagnostics, d => d.Contains("session.logon refused: -1022 Signature for this request is not valid.", StringComparison.Ordinal));

        var signatures = signer.Signatures;
        Assert.True(connector.Submit(new OrderRequest(Command(ChaserCommandKind.Place, 64_999.0m, 0.010m), "BTCUSDT", rules, false)).Sent);
        await sink.Next<OrderAccepted>(a => a.ClientOrderId == ClientId);
        Assert.Equal(signatures + 1, signer.Signatures);
        Assert.Equal(1, connector.WebSocketOrderRequests);
        Assert.Empty(sink.Events.OfType<OrderRejected>());

        // Nothing secret in what was reported.
        var pem = Convert.ToBase64String(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        Assert.DoesNotContain(diagnostics, d => d.Contains(pem, StringComparison.Ordinal) || d.Contains("9d61b19d", StringComparison.Ordinal));
    }

    private const string Ed25519ApiKey = "chaser-ed25519-test-key";

    private static Ed25519Signer TestEd25519Key() =>
        Ed25519Signer.FromSeed(Secret.FromBytes(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")));

    /// <summary>A connector to <paramref name="simulator"/>'s REST, streams and WebSocket API, signing with <paramref name="signer"/>.</summary>
    private static BinanceConnectorOptions ConnectorOptions(SimulatorServer simulator, string apiKey, IRequestSigner signer, TimeProvider time) => new()
    {
        RestBaseUrl = simulator.RestBaseUrl,
        StreamBaseUrl = simulator.WebSocketBaseUrl,
        OrderEntryWebSocketUrl = simulator.WebSocketApiUrl,
        ApiKey = new ApiKey(apiKey),
        Signer = signer,
        Time = time,
    };

    /// <summary>A simulator on <paramref name="time"/> with <paramref name="key"/>'s public key registered and a BTCUSDT book.</summary>
    private static async Task<SimulatorServer> StartWithEd25519KeyAsync(FakeTimeProvider time, Ed25519Signer key)
    {
        var simulator = await SimulatorServer.StartAsync(new SimulatorOptions
        {
            Source = MarketSourceKind.Manual,
            TimeProvider = time,
            Ed25519PublicKeys = new Dictionary<string, byte[]> { [Ed25519ApiKey] = key.PublicKey() },
        }, Ct);
        simulator.Engine.ReplaceBook("BTCUSDT", [new BookLevel(64_999.9m, 5m)], [new BookLevel(65_000.0m, 5m)]);
        return simulator;
    }

    /// <summary>Waits for <paramref name="condition"/>, moving the fake clock on a millisecond a turn (the reconnect's backoff runs on it).</summary>
    private static async Task Eventually(FakeTimeProvider time, Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not {what} in time");
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Task.Delay(10, Ct);
        }
    }

    /// <summary>An Ed25519 signer that spoils the signatures of the payloads <paramref name="spoil"/> picks.</summary>
    private sealed class SpoilingSigner(Ed25519Signer inner, SpoilingSigner.Picker spoil) : IRequestSigner
    {
        public delegate bool Picker(ReadOnlySpan<byte> payload);

        private int _signatures;

        public int Signatures => Volatile.Read(ref _signatures);

        public int MaxSignatureLength => inner.MaxSignatureLength;

        public bool SupportsSessionLogon => true;

        public int Sign(ReadOnlySpan<byte> totalParams, Span<byte> destination)
        {
            Interlocked.Increment(ref _signatures);
            return inner.Sign(totalParams, destination);
        }

        public int SignPlain(ReadOnlySpan<byte> payload, Span<byte> destination)
        {
            Interlocked.Increment(ref _signatures);
            var length = inner.SignPlain(payload, destination);
            if (spoil(payload))
            {
                // Still valid base64 of 64 bytes, but not the signature of this payload.
                destination[0] = destination[0] == (byte)'A' ? (byte)'B' : (byte)'A';
            }

            return length;
        }
    }

    private const string ClientId = "chs-wsapi1-1-1";

    /// <summary>Submits and checks the returned stamp is not older than the request's signature.</summary>
    private static long Submit(BinanceConnector connector, SlowSigner signer, in OrderRequest request)
    {
        var before = signer.Signatures;
        var submission = connector.Submit(request);
        Assert.True(submission.Sent, $"{request.Command.Kind} was not sent");
        var stamp = submission.HandedOffTimestamp;
        Assert.True(stamp >= signer.LastSignedTimestamp, $"{request.Command.Kind}: stamp {stamp} was taken before the frame was signed at {signer.LastSignedTimestamp}");
        Assert.Equal(before + 1, signer.Signatures);
        return stamp;
    }

    private static ChaserCommand Command(ChaserCommandKind kind, decimal price, decimal quantity) =>
        new(kind, ClientId, Side.Buy, ChildOrderType.PostOnly, price, quantity, default, default);

    /// <summary>Signs with the real key, moving the fake clock on as a signature's cost would.</summary>
    private sealed class SlowSigner(IRequestSigner inner, FakeTimeProvider time, TimeSpan cost) : IRequestSigner
    {
        private int _signatures;
        private long _lastSigned;

        public int Signatures => Volatile.Read(ref _signatures);

        public long LastSignedTimestamp => Interlocked.Read(ref _lastSigned);

        public int MaxSignatureLength => inner.MaxSignatureLength;

        public bool SupportsSessionLogon => inner.SupportsSessionLogon;

        public int Sign(ReadOnlySpan<byte> totalParams, Span<byte> destination)
        {
            var length = inner.Sign(totalParams, destination);
            Signed();
            return length;
        }

        public int SignPlain(ReadOnlySpan<byte> payload, Span<byte> destination)
        {
            var length = inner.SignPlain(payload, destination);
            Signed();
            return length;
        }

        private void Signed()
        {
            time.Advance(cost);
            Interlocked.Exchange(ref _lastSigned, time.GetTimestamp());
            Interlocked.Increment(ref _signatures);
        }
    }

    private sealed class RecordingSink : IExchangeEventSink
    {
        public ConcurrentQueue<object> Events { get; } = new();

        public async Task<T> Next<T>(Func<T, bool> match)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (DateTime.UtcNow < deadline)
            {
                foreach (var e in Events)
                {
                    if (e is T typed && match(typed))
                    {
                        return typed;
                    }
                }

                await Task.Delay(10, Ct);
            }

            Assert.Fail($"no {typeof(T).Name} in time; events: {string.Join(" | ", Events)}");
            return default!;
        }

        public void OnInput(in ChaserInput input)
        {
            object? order = input.Kind switch
            {
                EventKind.Accepted => input.Accepted,
                EventKind.Rejected => input.Rejected,
                EventKind.Fill => input.Fill,
                EventKind.OrderFinished => input.Finished,
                EventKind.OutcomeUnknown => input.Unknown,
                EventKind.StatusReport => input.Status,
                _ => null,
            };
            if (order is not null)
            {
                Events.Enqueue(order);
            }
        }
    }
}
