namespace Chaser.Simulator.Engine;

/// <summary>How the matching engine advances the queue ahead of one of our resting orders.</summary>
public enum QueueModel
{
    /// <summary>Trades at our price consume the queue ahead; other participants' cancels shrink it in proportion.</summary>
    Proportional,

    /// <summary>
    /// hftbacktest's risk-averse model: only printed trades advance us; cancels never do, except that the queue
    /// ahead cannot exceed what the level still shows. Under both models a modify goes to the back, as on Binance.
    /// </summary>
    RiskAverse,
}

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

    public QueueModel QueueModel { get; init; } = QueueModel.Proportional;
}
