using Chaser.Binance.Connector;
using Chaser.Binance.Signing;
using Chaser.Engine;
using Chaser.Simulator.Server;

namespace Chaser.EndToEnd.Tests;

/// <summary>The simulator on an ephemeral loopback port and an engine connected to it over real sockets.</summary>
internal sealed class SimulatedVenue : IAsyncDisposable
{
    private SimulatedVenue(SimulatorServer simulator, BinanceConnector connector, ExecutionEngine engine, List<string> diagnostics)
    {
        Simulator = simulator;
        Connector = connector;
        Engine = engine;
        Diagnostics = diagnostics;
    }

    public SimulatorServer Simulator { get; }

    public BinanceConnector Connector { get; }

    public ExecutionEngine Engine { get; }

    public List<string> Diagnostics { get; }

    // restOrderEntry: orders over REST only; by default over the WebSocket API with REST as the fallback.
    public static async Task<SimulatedVenue> StartAsync(SimulatorOptions? options = null, EngineOptions? engineOptions = null, IExecutionRecorder? recorder = null, bool restOrderEntry = false)
    {
        var simulator = await SimulatorServer.StartAsync(options ?? new SimulatorOptions());
        var diagnostics = new List<string>();
        var connector = new BinanceConnector(new BinanceConnectorOptions
        {
            RestBaseUrl = simulator.RestBaseUrl,
            StreamBaseUrl = simulator.WebSocketBaseUrl,
            OrderEntryWebSocketUrl = restOrderEntry ? null : simulator.WebSocketApiUrl,
            ApiKey = new ApiKey(simulator.ApiKey),
            Signer = new HmacSha256Signer(Secret.FromText(simulator.ApiSecret)),
            Diagnostics = message =>
            {
                lock (diagnostics)
                {
                    diagnostics.Add(message);
                }
            },
        });
        var engine = new ExecutionEngine(connector, recorder, options: engineOptions);
        await engine.ConnectAsync(CancellationToken.None);
        return new SimulatedVenue(simulator, connector, engine, diagnostics);
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}
