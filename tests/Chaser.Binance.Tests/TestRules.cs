using Chaser.Core.Rules;

namespace Chaser.Binance.Tests;

/// <summary>The BTCUSDT rules the request-building tests round and check against, REST and WebSocket API alike.</summary>
internal static class TestRules
{
    public static SymbolRules Btc { get; } = new()
    {
        Symbol = "BTCUSDT",
        TickSize = 0.10m,
        StepSize = 0.001m,
        MinPrice = 261.10m,
        MinQty = 0.001m,
        MaxQty = 1000m,
        MarketStepSize = 0.001m,
        MinNotional = 100m,
    };
}
