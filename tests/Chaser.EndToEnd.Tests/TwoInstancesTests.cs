using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Engine;

namespace Chaser.EndToEnd.Tests;

/// <summary>
/// Two databases (or processes) on one Binance account: each engine has its own instance tag, both work parent orders
/// with the same ids at the same time, and neither takes the other's orders or fills for its own.
/// </summary>
public class TwoInstancesTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Two_engines_on_one_account_with_the_same_parent_ids_each_record_exactly_their_own_trades()
    {
        var ct = TestContext.Current.CancellationToken;
        var recorderA = new DecisionRecorder();
        var recorderB = new DecisionRecorder();
        await using var a = await SimulatedVenue.StartAsync(engineOptions: new EngineOptions { ClientIdTag = "inst0a" }, recorder: recorderA);
        await using var b = await SimulatedVenue.ConnectAsync(a.Simulator, new EngineOptions { ClientIdTag = "inst0b" }, recorderB);

        // The very same parent orders on both, at once: before the tag both sent chs-1-1 (-4116 for the second).
        ParentOrderSpec[] Orders() =>
        [
            new ParentOrderSpec(1, "ETHUSDT", Side.Buy, SizeType.Quantity, 0.5m),
            new ParentOrderSpec(2, "SOLUSDT", Side.Sell, SizeType.Notional, 600m),
        ];
        var results = await Task.WhenAll(a.Engine.ExecuteAllAsync(Orders(), ct), b.Engine.ExecuteAllAsync(Orders(), ct)).WaitAsync(Patience, ct);

        var diagnostics = string.Join(" | ", a.Diagnostics.Concat(b.Diagnostics));
        Assert.DoesNotContain("-4116", diagnostics, StringComparison.Ordinal);
        foreach (var (venue, recorder, tag, ownResults) in new[] { (a, recorderA, "inst0a", results[0]), (b, recorderB, "inst0b", results[1]) })
        {
            Assert.All(ownResults, r => Assert.True(r.Status == FinishReason.Filled, $"{tag} #{r.Spec.Id} {r.Spec.Symbol}: {r.Status} {r.Detail}; {diagnostics}"));
            Assert.DoesNotContain(recorder.Decisions, d => d.Command.Kind != ChaserCommandKind.Finish && !d.Command.ClientOrderId.StartsWith($"chs-{tag}-", StringComparison.Ordinal));
            foreach (var symbol in new[] { "ETHUSDT", "SOLUSDT" })
            {
                // The exchange's trades of this instance: those of orders whose client id carries its tag.
                var ours = venue.Simulator.Engine.GetAllOrders(symbol, null, 10_000)
                    .Where(o => ClientOrderIds.IsOurs(o.ClientOrderId, tag, out _))
                    .Select(o => o.OrderId)
                    .ToHashSet();
                var exchangeTrades = venue.Simulator.Engine.GetUserTrades(symbol, limit: 100_000).Where(t => ours.Contains(t.OrderId)).ToArray();
                var recorded = recorder.Fills.Where(f => ownResults.Any(r => r.Spec.Id == f.ParentId && r.Spec.Symbol == symbol)).ToArray();
                Assert.NotEmpty(exchangeTrades);
                Assert.Equal(exchangeTrades.Select(t => t.TradeId).Order(), recorded.Select(f => f.TradeId).Order());
                Assert.Equal(exchangeTrades.Sum(t => t.Qty), recorded.Sum(f => f.Quantity));
                Assert.Equal(exchangeTrades.Sum(t => t.Qty), ownResults.Single(r => r.Spec.Symbol == symbol).FilledQuantity);
                Assert.All(recorded, f => Assert.StartsWith($"chs-{tag}-", f.ClientOrderId, StringComparison.Ordinal));
            }
        }

        // Between them, every trade of the account is someone's, and no trade was recorded by both. Trade ids count
        // per symbol, so a trade is its symbol (here: the parent id, the same symbol in both instances) and its id.
        Assert.Empty(recorderA.Fills.Select(f => (f.ParentId, f.TradeId)).Intersect(recorderB.Fills.Select(f => (f.ParentId, f.TradeId))));
        Assert.Empty(a.Simulator.Engine.GetOpenOrders(null));
    }
}
