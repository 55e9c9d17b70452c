namespace Chaser.Simulator.Engine;

public sealed record EngineOptions
{
    public IReadOnlyList<SymbolSpec> Symbols { get; init; } = SymbolSpec.Defaults;

    /// <summary>VIP0 perpetual fees: maker 0.02 %, taker 0.05 %.</summary>
    public decimal MakerFeeRate { get; init; } = 0.0002m;

    public decimal TakerFeeRate { get; init; } = 0.0005m;

    public decimal InitialBalance { get; init; } = 100_000m;

    public int DefaultLeverage { get; init; } = 20;

    /// <summary>Binance's quantitative rules count GTC/GTX/GTD cancels this soon after placement as invalid.</summary>
    public TimeSpan QuickCancelThreshold { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan CancellationCycle { get; init; } = TimeSpan.FromMinutes(10);
}
