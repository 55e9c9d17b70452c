using System.Reflection;
using Chaser.Binance.Signing;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Engine;
using Chaser.Simulator.Server;

namespace Chaser.EndToEnd.Tests;

/// <summary>
/// The path warmer on against the real simulator: while it rehearses every millisecond, the exchange sees exactly the
/// requests the engine decided and recorded — its own order history and amendments are the arbiter — and none of the
/// shadow's, over the WebSocket API signed (HMAC), logged on (Ed25519) and over REST.
/// </summary>
public class PathWarmerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private const string Ed25519ApiKey = "chaser-ed25519-warm-key";

    [Theory]
    [InlineData("hmac")]
    [InlineData("ed25519")]
    [InlineData("rest")]
    public async Task With_the_warmer_on_the_exchange_sees_exactly_the_recorded_requests_and_none_of_the_shadows(string entry)
    {
        var ct = TestContext.Current.CancellationToken;
        var ed25519 = Ed25519Signer.FromSeed(Secret.FromBytes(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")));
        var recorder = new DecisionRecorder();
        await using var venue = await SimulatedVenue.StartAsync(
            new SimulatorOptions { Ed25519PublicKeys = new Dictionary<string, byte[]> { [Ed25519ApiKey] = ed25519.PublicKey() } },
            new EngineOptions { PathWarmInterval = TimeSpan.FromMilliseconds(1) },
            recorder,
            restOrderEntry: entry == "rest",
            connector: entry == "ed25519" ? o => o with { ApiKey = new ApiKey(Ed25519ApiKey), Signer = ed25519 } : null);
        Assert.Equal(entry == "ed25519", venue.Connector.WebSocketLoggedOn);

        var specs = new[]
        {
            new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 2_000m),
            new ParentOrderSpec(2, "ETHUSDT", Side.Sell, SizeType.Quantity, 0.5m),
            new ParentOrderSpec(3, "XRPUSDT", Side.Buy, SizeType.Notional, 500m),
        };
        var results = await venue.Engine.ExecuteAllAsync(specs, ct).WaitAsync(Patience, ct);

        Assert.All(results, r => Assert.True(r.Status == FinishReason.Filled, $"{r.Spec.Symbol}: {r.Status} {r.Detail}; diagnostics: {string.Join(" | ", venue.Diagnostics)}"));
        Assert.True(Rehearsals(venue.Engine) > 0, "the warmer never rehearsed");
        Assert.DoesNotContain(venue.Diagnostics, d => d.Contains("path warmer", StringComparison.Ordinal));
        Assert.Equal(0, venue.Connector.RateLimitedResponses);
        var decisions = recorder.Decisions;
        foreach (var spec in specs)
        {
            var orders = venue.Simulator.Engine.GetAllOrders(spec.Symbol, fromOrderId: null, limit: 100_000);
            var placed = decisions.Where(d => d.ParentId == spec.Id && d.Command.Kind == ChaserCommandKind.Place).Select(d => d.Command.ClientOrderId).Order().ToArray();
            Assert.Equal(placed, orders.Select(o => o.ClientOrderId).Order().ToArray());
            var amendments = orders.Sum(o => venue.Simulator.Engine.GetOrderAmendments(spec.Symbol, o.OrderId, null, null, null, 100_000).Count);
            Assert.Equal(decisions.Count(d => d.ParentId == spec.Id && d.Command.Kind == ChaserCommandKind.Modify), amendments);

            var result = results.Single(r => r.Spec.Id == spec.Id);
            var trades = venue.Simulator.Engine.GetUserTrades(spec.Symbol, limit: 100_000);
            Assert.Equal(trades.Select(t => t.TradeId).Order(), result.Fills.Select(f => f.TradeId).Order());
            Assert.Empty(venue.Simulator.Engine.GetOpenOrders(spec.Symbol));
        }
    }

    // The warmer is the engine's own (internal) part: its count read as the engine keeps it, without a seam for tests.
    private static long Rehearsals(ExecutionEngine engine)
    {
        var warmer = typeof(ExecutionEngine).GetField("_warmer", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(engine)!;
        return (long)warmer.GetType().GetProperty("Rehearsals")!.GetValue(warmer)!;
    }
}
