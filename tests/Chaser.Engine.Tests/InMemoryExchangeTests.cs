using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;

namespace Chaser.Engine.Tests;

/// <summary>The test exchange itself: the tests poll it from their own thread while runners send on theirs.</summary>
public class InMemoryExchangeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Its_orders_and_requests_can_be_polled_while_orders_are_placed()
    {
        // ForgetFinishedTests failed at random under load: its wait for the next live buy enumerated the orders while
        // the next runner placed one, and a plain dictionary's enumerator threw "collection was modified".
        var exchange = new InMemoryExchange(ExecutionEngineTests.Btc);
        await exchange.ConnectAsync(new IgnoringSink(), Ct);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var placing = Task.Run(
            () =>
            {
                for (var i = 0; i < 5_000; i++)
                {
                    var command = new ChaserCommand(ChaserCommandKind.Place, $"c{i}", Side.Buy, ChildOrderType.PostOnly, 65_000.0m, 0.001m, FinishReason.Filled, new DecisionCause(EventKind.BookTop, DecisionRule.PostAtBest));
                    exchange.Submit(new OrderRequest(command, "BTCUSDT", ExecutionEngineTests.Btc, ReduceOnly: false));
                }
            },
            Ct);

        while (!placing.IsCompleted)
        {
            _ = exchange.Orders.Values.Any(o => !o.Live);
            _ = exchange.Requests.Any(r => r.Command.Kind != ChaserCommandKind.Place);
        }

        await placing;
        Assert.Equal(5_000, exchange.Orders.Count);
        Assert.Equal(5_000, exchange.Requests.Count);
    }

    private sealed class IgnoringSink : IExchangeEventSink
    {
        public void OnInput(in ChaserInput input)
        {
        }
    }
}
