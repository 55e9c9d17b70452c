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
        await using var connector = new BinanceConnector(new BinanceConnectorOptions
        {
            RestBaseUrl = simulator.RestBaseUrl,
            StreamBaseUrl = simulator.WebSocketBaseUrl,
            OrderEntryWebSocketUrl = simulator.WebSocketApiUrl,
            ApiKey = new ApiKey(simulator.ApiKey),
            Signer = signer,
            Time = time,
        });
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
