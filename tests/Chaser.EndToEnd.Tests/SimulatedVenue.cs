using Chaser.Binance.Connector;
using Chaser.Binance.Signing;
using Chaser.Core.Ports;
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
    // time: the connector's and the engine's clock (a test on fake time gives the simulator the same one).
    // connector: adjusts the connector's options (timeouts, a proxy's stream address).
    public static async Task<SimulatedVenue> StartAsync(SimulatorOptions? options = null, EngineOptions? engineOptions = null, IExecutionRecorder? recorder = null, bool restOrderEntry = false, TimeProvider? time = null, Func<BinanceConnectorOptions, BinanceConnectorOptions>? connector = null)
    {
        var simulator = await SimulatorServer.StartAsync(options ?? new SimulatorOptions());
        return await ConnectCoreAsync(simulator, engineOptions, recorder, restOrderEntry, time ?? TimeProvider.System, sharesSimulator: false, connector);
    }

    /// <summary>Another engine on the same simulator account (another process or database of the same user).</summary>
    public static Task<SimulatedVenue> ConnectAsync(SimulatorServer simulator, EngineOptions? engineOptions = null, IExecutionRecorder? recorder = null, bool restOrderEntry = false, TimeProvider? time = null, Func<BinanceConnectorOptions, BinanceConnectorOptions>? connector = null) =>
        ConnectCoreAsync(simulator, engineOptions, recorder, restOrderEntry, time ?? TimeProvider.System, sharesSimulator: true, connector);

    private static async Task<SimulatedVenue> ConnectCoreAsync(SimulatorServer simulator, EngineOptions? engineOptions, IExecutionRecorder? recorder, bool restOrderEntry, TimeProvider time, bool sharesSimulator, Func<BinanceConnectorOptions, BinanceConnectorOptions>? configure = null)
    {
        var diagnostics = new List<string>();
        var options = new BinanceConnectorOptions
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
            Time = time,
        };
        var connector = new BinanceConnector(configure is null ? options : configure(options));
        var engine = new ExecutionEngine(connector, recorder, time, engineOptions);
        await engine.ConnectAsync(CancellationToken.None);
        return new SimulatedVenue(simulator, connector, engine, diagnostics) { SharesSimulator = sharesSimulator };
    }

    /// <summary>Set for a second engine on a shared simulator: disposing it leaves the simulator running.</summary>
    public bool SharesSimulator { get; private init; }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        if (!SharesSimulator)
        {
            await Simulator.DisposeAsync();
        }
    }
}
