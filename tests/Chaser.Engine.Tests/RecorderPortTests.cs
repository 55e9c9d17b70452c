using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>What crosses the recorder port is what was true when it was said, whatever the recorder does with it later.</summary>
public class RecorderPortTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_child_record_keeps_the_state_the_child_had_when_it_was_recorded()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var exchange = new InMemoryExchange(ExecutionEngineTests.Btc);
        var recorder = new ChildKeepingRecorder();
        await using var engine = new ExecutionEngine(exchange, recorder, time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var run = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), Ct);
        await ExecutionEngineTests.Until(() => exchange.Orders.Values.Any(o => o.Live));
        exchange.TradeAgainstUs("BTCUSDT", 0.004m);
        await ExecutionEngineTests.Until(() => recorder.Count >= 3);
        exchange.TradeAgainstUs("BTCUSDT", 0.006m);
        await run.WaitAsync(ExecutionEngineTests.Patience, Ct);

        // A recorder that writes later (a background queue) must see the child as it was at each change: sent,
        // resting, partly filled, filled; not four times its final state.
        Assert.Equal(
            [(ChildState.PendingNew, 0m), (ChildState.Live, 0m), (ChildState.Live, 0.004m), (ChildState.Final, 0.01m)],
            recorder.States());
    }

    /// <summary>Keeps what it is given, as a recorder that writes on another thread later does.</summary>
    private sealed class ChildKeepingRecorder : IExecutionRecorder
    {
        private readonly List<ChildOrderSnapshot> _children = [];

        public int Count
        {
            get
            {
                lock (_children)
                {
                    return _children.Count;
                }
            }
        }

        public (ChildState State, decimal Filled)[] States()
        {
            lock (_children)
            {
                return [.. _children.Select(c => (c.State, c.FilledQuantity))];
            }
        }

        public void Child(ChildOrderSnapshot child)
        {
            lock (_children)
            {
                _children.Add(child);
            }
        }

        public void OrderStarted(ParentOrderSpec spec, DateTimeOffset time)
        {
        }

        public void ArrivalMid(long parentId, decimal mid, DateTimeOffset time)
        {
        }

        public void Mid(MidSample sample)
        {
        }

        public void Decision(DecisionRecord decision)
        {
        }

        public void Fill(FillRecord fill)
        {
        }

        public void OrderCompleted(ExecutionResult result)
        {
        }
    }
}
