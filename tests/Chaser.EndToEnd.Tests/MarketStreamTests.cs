using Chaser.Binance.Connector;
using Chaser.Binance.Signing;
using Chaser.Core.Chasing;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Simulator.Server;

namespace Chaser.EndToEnd.Tests;

/// <summary>The connector's market data over real sockets: a local book synchronised from diffs, and the tape.</summary>
public class MarketStreamTests
{
    [Fact]
    public async Task The_local_book_from_diffs_matches_the_exchange_and_the_tape_arrives()
    {
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), TestContext.Current.CancellationToken);
        var sink = new CapturingSink();
        await using var connector = new BinanceConnector(new BinanceConnectorOptions
        {
            RestBaseUrl = simulator.RestBaseUrl,
            StreamBaseUrl = simulator.WebSocketBaseUrl,
            ApiKey = new ApiKey(simulator.ApiKey),
            Signer = new HmacSha256Signer(Secret.FromText(simulator.ApiSecret)),
        });
        await connector.ConnectAsync(sink, TestContext.Current.CancellationToken);
        await connector.SubscribeAsync("BTCUSDT", TestContext.Current.CancellationToken);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline && (sink.DepthCount < 20 || sink.TradeCount < 3))
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.True(sink.DepthCount >= 20, $"only {sink.DepthCount} depth views arrived");
        Assert.True(sink.TradeCount >= 3, $"only {sink.TradeCount} trades arrived");
        Assert.Equal(0, sink.LostCount);

        // Freeze the market, let the last diffs arrive, and compare our book with the exchange's.
        simulator.Market!.Stalled = true;
        await Task.Delay(500, TestContext.Current.CancellationToken);
        var exchange = simulator.Engine.GetDepth("BTCUSDT", 5);
        var ours = sink.LastDepth!;
        Assert.Equal(exchange.Bids.Select(l => (l.Price, l.Qty)), ours.Bids.Select(l => (l.Price, l.Quantity)));
        Assert.Equal(exchange.Asks.Select(l => (l.Price, l.Qty)), ours.Asks.Select(l => (l.Price, l.Quantity)));
        Assert.True(ours.Bids[0].Price < ours.Asks[0].Price);
    }

    private sealed class CapturingSink : IExchangeEventSink
    {
        private int _depthCount;
        private int _tradeCount;
        private int _lostCount;

        public int DepthCount => Volatile.Read(ref _depthCount);

        public int TradeCount => Volatile.Read(ref _tradeCount);

        public int LostCount => Volatile.Read(ref _lostCount);

        public DepthLevels? LastDepth { get; private set; }

        public void OnInput(in ChaserInput input)
        {
            switch (input.Kind)
            {
                case EventKind.Depth:
                    LastDepth = input.Depth;
                    Interlocked.Increment(ref _depthCount);
                    break;
                case EventKind.Trade:
                    Assert.True(input.Trade.Price > 0 && input.Trade.Quantity > 0);
                    Interlocked.Increment(ref _tradeCount);
                    break;
                case EventKind.ConnectivityLost:
                    Interlocked.Increment(ref _lostCount);
                    break;
            }
        }
    }
}
