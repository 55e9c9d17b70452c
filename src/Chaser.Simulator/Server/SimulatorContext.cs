using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Server;

/// <summary>What the REST API, the streams and the WebSocket API share inside one simulator.</summary>
internal sealed class SimulatorContext(SimulatorOptions options, ExchangeEngine engine)
{
    public SimulatorOptions Options => options;

    public ExchangeEngine Engine => engine;

    public TimeProvider Clock => options.TimeProvider;

    public RateLimiter RateLimits { get; } = new(options.RateLimits, options.TimeProvider);

    public ListenKeys ListenKeys { get; } = new(options.TimeProvider, options.ListenKeyValidity);

    public FaultInjector Faults { get; } = new(options.Faults);

    public ApiCredentials Credentials { get; } = new(options);
}
