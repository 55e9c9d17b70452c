using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;

namespace Chaser.EndToEnd.Tests;

/// <summary>The real engine, adapter and simulator over loopback sockets.</summary>
public class LiveEngineTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_buy_and_a_sell_complete_with_maker_fills_matching_the_exchange()
    {
        await using var venue = await SimulatedVenue.StartAsync();
        var results = await venue.Engine.ExecuteAllAsync(
        [
            new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 2_000m),
            new ParentOrderSpec(2, "ETHUSDT", Side.Sell, SizeType.Quantity, 0.5m),
        ], TestContext.Current.CancellationToken).WaitAsync(Patience, TestContext.Current.CancellationToken);

        foreach (var result in results)
        {
            Assert.True(result.Status == FinishReason.Filled, $"{result.Spec.Symbol}: {result.Status} {result.Detail}; diagnostics: {string.Join(" | ", venue.Diagnostics)}");
            Assert.All(result.Fills, f => Assert.True(f.IsMaker, $"taker fill {f.TradeId}"));
        }

        Assert.True(results[0].FilledNotional <= 2_000m);
        Assert.Equal(0.5m, results[1].FilledQuantity);
        Assert.True(venue.Connector.WebSocketOrderRequests >= 2, "orders should go over the WebSocket API");
        AssertMatchesExchange(venue, results);
    }

    [Fact]
    public async Task Orders_over_rest_only_complete_the_same()
    {
        await using var venue = await SimulatedVenue.StartAsync(restOrderEntry: true);
        var results = await venue.Engine.ExecuteAllAsync(
        [
            new ParentOrderSpec(1, "SOLUSDT", Side.Buy, SizeType.Notional, 1_000m),
            new ParentOrderSpec(2, "BNBUSDT", Side.Sell, SizeType.Quantity, 2m),
        ], TestContext.Current.CancellationToken).WaitAsync(Patience, TestContext.Current.CancellationToken);

        Assert.All(results, r => Assert.True(r.Status == FinishReason.Filled, $"{r.Spec.Symbol}: {r.Status} {r.Detail}"));
        Assert.Equal(0, venue.Connector.WebSocketOrderRequests);
        AssertMatchesExchange(venue, results);
    }

    [Fact]
    public async Task Twenty_parent_orders_over_five_symbols_complete_without_a_429()
    {
        var recorder = new DecisionRecorder();
        await using var venue = await SimulatedVenue.StartAsync(recorder: recorder);
        var symbols = new[] { "BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT" };
        var specs = Enumerable.Range(0, 20)
            .Select(i => new ParentOrderSpec(100 + i, symbols[i % 5], i % 2 == 0 ? Side.Buy : Side.Sell, SizeType.Notional, 300m + (i * 25m)))
            .ToArray();
        var results = await venue.Engine.ExecuteAllAsync(specs, TestContext.Current.CancellationToken).WaitAsync(Patience, TestContext.Current.CancellationToken);

        Assert.All(results, r => Assert.True(r.Status == FinishReason.Filled, $"{r.Spec.Id} {r.Spec.Symbol}: {r.Status} {r.Detail}"));
        // The documented bound: never more than the rounding of one child order (one quantity step at the fill price)
        // over the target; a re-price up can leave a fill at the old price plus a full lot at the new one.
        var steps = new Dictionary<string, decimal> { ["BTCUSDT"] = 0.001m, ["ETHUSDT"] = 0.001m, ["SOLUSDT"] = 0.01m, ["BNBUSDT"] = 0.01m, ["XRPUSDT"] = 0.1m };
        Assert.All(results, r => Assert.True(r.FilledNotional <= r.Spec.Size + (steps[r.Spec.Symbol] * r.Fills.Max(f => f.Price)), $"{r.Spec.Id} overfilled: {r.FilledNotional} of {r.Spec.Size}: fills {string.Join(", ", r.Fills.Select(f => $"{f.ClientOrderId} {f.Quantity}@{f.Price}"))}; decisions {string.Join(" | ", recorder.Decisions.Where(d => d.ParentId == r.Spec.Id).Select(d => d.Command.ToString()))}"));
        Assert.Equal(0, venue.Connector.RateLimitedResponses);
        AssertMatchesExchange(venue, results);
    }

    /// <summary>What we counted equals what the exchange's userTrades say, and nothing of ours is left open.</summary>
    private static void AssertMatchesExchange(SimulatedVenue venue, IReadOnlyList<ExecutionResult> results)
    {
        foreach (var symbol in results.Select(r => r.Spec.Symbol).Distinct())
        {
            var exchangeTrades = venue.Simulator.Engine.GetUserTrades(symbol, limit: 100_000);
            var ours = results.Where(r => r.Spec.Symbol == symbol).SelectMany(r => r.Fills).ToArray();
            Assert.Equal(exchangeTrades.Count, ours.Length);
            Assert.Equal(exchangeTrades.Sum(t => t.Qty), ours.Sum(f => f.Quantity));
            Assert.Equal(exchangeTrades.Select(t => t.TradeId).Order(), ours.Select(f => f.TradeId).Order());
            Assert.Empty(venue.Simulator.Engine.GetOpenOrders(symbol));
        }
    }
}
