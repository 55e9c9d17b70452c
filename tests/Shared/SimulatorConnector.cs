using Chaser.Binance.Connector;
using Chaser.Binance.Signing;
using Chaser.Simulator.Server;

namespace Chaser.Tests.Shared;

/// <summary>A connector to an in-process simulator with its own keys, as the tests that talk to one build it.</summary>
internal static class SimulatorConnector
{
    /// <summary>REST and streams, with order entry over the WebSocket API unless <paramref name="webSocketOrderEntry"/> is false (REST).</summary>
    public static BinanceConnector For(SimulatorServer simulator, bool webSocketOrderEntry = true) => new(new BinanceConnectorOptions
    {
        RestBaseUrl = simulator.RestBaseUrl,
        StreamBaseUrl = simulator.WebSocketBaseUrl,
        OrderEntryWebSocketUrl = webSocketOrderEntry ? simulator.WebSocketApiUrl : null,
        ApiKey = new ApiKey(simulator.ApiKey),
        Signer = new HmacSha256Signer(Secret.FromText(simulator.ApiSecret)),
    });
}
