using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>
/// The invalid-cancellation budget lives beside the chasers: the runners record what they send, and each change of the
/// allowance reaches every order on the symbol as an input.
/// </summary>
public class CancelBudgetTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly ChaserCommand YoungModify = new(
        ChaserCommandKind.Modify, "chs-tst001-1-1", Side.Buy, ChildOrderType.PostOnly, 65_000m, 0.01m, FinishReason.None, new DecisionCause(EventKind.BookTop, DecisionRule.RepriceBehindBest))
    {
        CountsAsYoungCancel = true,
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void A_change_is_published_when_a_request_spends_the_budget_and_again_when_it_leaves_the_cycle()
    {
        var time = new FakeTimeProvider(T0);
        var published = new List<bool>();
        using var budget = new SymbolCancelBudget(new ChaserOptions { MaxInvalidCancelRatio = 0.5m, InvalidCancelRatioMinOrders = 2 }, time, published.Add);

        budget.Record(YoungModify);
        Assert.Empty(published); // one placement: below the minimum, still allowed
        time.Advance(TimeSpan.FromMinutes(1));
        budget.Record(YoungModify);
        Assert.Equal([false], published);

        var joined = new List<bool>();
        budget.Join(joined.Add);
        Assert.Equal([false], joined); // an order joining now starts with the budget spent

        // Ten minutes after the first: it leaves the cycle and the allowance comes back, with nothing sent.
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal([false, true], published);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal([false, true], published);
        Assert.Equal((0, 0), budget.Tracker.Counts(time.GetUtcNow()));

        joined.Clear();
        budget.Join(joined.Add);
        Assert.Empty(joined); // allowed is every chaser's initial value: nothing to deliver
    }

    [Fact]
    public void Orders_recording_at_once_leave_every_order_with_the_trackers_last_value()
    {
        var time = new FakeTimeProvider(T0);
        var published = new List<bool>();
        var publishing = new Lock();
        using var budget = new SymbolCancelBudget(new ChaserOptions { MaxInvalidCancelRatio = 0.5m, InvalidCancelRatioMinOrders = 2 }, time, allowed =>
        {
            // Delivery takes a while (posting to every order on the symbol): two deliveries at once would overtake each other.
            Thread.SpinWait(Random.Shared.Next(500));
            lock (publishing)
            {
                published.Add(allowed);
            }
        });
        var place = YoungModify with { Kind = ChaserCommandKind.Place, CountsAsYoungCancel = false };

        // Two symbols' worth of orders racing: young modifies and fresh placements, so the allowance flips back and forth.
        Parallel.For(0, 20_000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var command = i % 2 == 0 ? place : YoungModify;
            budget.Settle(command, budget.Record(command)!.Value, sent: true);
        });

        Assert.True(published.Count > 1, "the allowance never flipped");
        Assert.Equal(budget.Tracker.YoungCancelsAllowed, published[^1]);
        Assert.All(published.Zip(published.Skip(1)), pair => Assert.NotEqual(pair.First, pair.Second)); // only changes, in order
    }

    [Fact]
    public void A_request_the_rate_guard_refused_counts_for_nothing_and_gives_no_order_a_passing_allowance()
    {
        // Counted anyway, refused placements swelled our ratio's denominator (Binance never saw them): ours said 1 in 5
        // where Binance's said 1 in 2, and the orders kept their young cancels past the bound.
        var time = new FakeTimeProvider(T0);
        var published = new List<bool>();
        using var budget = new SymbolCancelBudget(new ChaserOptions { MaxInvalidCancelRatio = 0.5m, InvalidCancelRatioMinOrders = 2 }, time, published.Add);
        var venue = new RateGuardedVenue();
        var gateway = new CancelBudgetedGateway(venue, budget);
        var place = YoungModify with { Kind = ChaserCommandKind.Place, CountsAsYoungCancel = false };

        gateway.Submit(Request(place));
        venue.Refusing = true;
        gateway.Submit(Request(place));
        gateway.Submit(Request(place));
        gateway.Submit(Request(YoungModify));
        Assert.Equal((1, 0), budget.Tracker.Counts(time.GetUtcNow()));

        // The young modify's restriction went out ahead of it, as any does, and was lifted when it was refused.
        Assert.Equal([false, true], published);

        venue.Refusing = false;
        gateway.Submit(Request(YoungModify));
        Assert.Equal((2, 1), budget.Tracker.Counts(time.GetUtcNow()));
        Assert.Equal([false, true, false], published);

        // A refused placement would have brought the ratio back within the bound for a moment: no order is told so.
        venue.Refusing = true;
        gateway.Submit(Request(place));
        Assert.Equal([false, true, false], published);
        Assert.False(budget.Tracker.YoungCancelsAllowed);

        // Sent, it does.
        venue.Refusing = false;
        gateway.Submit(Request(place));
        Assert.Equal([false, true, false, true], published);
    }

    // With the path warmer on as well: its shadow re-prices every millisecond on a budget of its own, and neither the
    // symbol's allowance nor what the orders do with it may change.
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task One_orders_young_cancels_reach_another_order_on_the_symbol_as_an_input(int pathWarmMs)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(ExecutionEngineTests.Btc);
        var options = new EngineOptions
        {
            Chaser = new ChaserOptions { MaxInvalidCancelRatio = 0.3m, InvalidCancelRatioMinOrders = 2, MinRepriceInterval = TimeSpan.Zero },
            PathWarmInterval = TimeSpan.FromMilliseconds(pathWarmMs),
        };
        await using var engine = new ExecutionEngine(exchange, time: time, options: options);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_001.0m);
        var buy = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), Ct);
        await Until(() => exchange.Orders.Count == 1);

        // The buy re-prices its 1 s old child: 2 placements, 1 young cancel, over the 0.3 bound from now on.
        time.Advance(TimeSpan.FromSeconds(1));
        exchange.SetBook("BTCUSDT", 65_000.1m, 65_001.0m);
        await Until(() => Child(Side.Buy).Price == 65_000.1m);

        // A sell starting now is told the budget is spent, and leaves its young child to age instead of re-pricing it.
        var sell = engine.ExecuteAsync(new ParentOrderSpec(2, "BTCUSDT", Side.Sell, SizeType.Quantity, 0.01m), Ct);
        await Until(() => exchange.Orders.Count == 2);
        time.Advance(TimeSpan.FromSeconds(1));
        exchange.SetBook("BTCUSDT", 65_000.1m, 65_000.9m);
        await Until(() => engine.Progress.TryGetValue(2, out var progress) && progress.Mid == 65_000.5m);
        Assert.Equal(65_001.0m, Child(Side.Sell).Price);

        // Aged five seconds: the re-price is no invalid cancellation, and goes out on the chaser's own timer.
        time.Advance(TimeSpan.FromSeconds(4));
        await Until(() => Child(Side.Sell).Price == 65_000.9m);
        var modify = exchange.Requests.Last(r => r.Command.Kind == ChaserCommandKind.Modify).Command;
        Assert.False(modify.CountsAsYoungCancel);
        Assert.Equal(4, exchange.Requests.Count(r => r.Command.Kind is ChaserCommandKind.Place or ChaserCommandKind.Modify));
        Assert.True(pathWarmMs == 0 ? exchange.Rehearsals == 0 : exchange.Rehearsals >= 5_000, $"{exchange.Rehearsals} rehearsals");

        engine.Cancel(1);
        engine.Cancel(2);
        await Task.WhenAll(buy, sell).WaitAsync(ExecutionEngineTests.Patience, Ct);

        InMemoryExchange.RestingOrder Child(Side side) => exchange.Orders.Values.Single(o => o.Side == side);
    }

    [Fact]
    public async Task An_allowance_that_comes_back_with_time_and_is_spent_at_once_leaves_every_order_restricted()
    {
        // The budget's expiry timer publishes under the budget's lock. Handled on the timer's thread, the first order
        // spent the allowance inside that delivery (its young modify published "restricted" to every order), and the
        // loop then handed the next order the older "allowed": its last word was allowed while the tracker said not.
        var time = new FakeTimeProvider(T0);
        var exchange = new InMemoryExchange(ExecutionEngineTests.Btc) { Time = time };
        var recorder = new BudgetRecorder();
        var options = new EngineOptions { Chaser = new ChaserOptions { MaxInvalidCancelRatio = 0.3m, InvalidCancelRatioMinOrders = 3, MinRepriceInterval = TimeSpan.Zero } };
        await using var engine = new ExecutionEngine(exchange, recorder, time, options);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_001.0m);

        // The buy is routed first, so it comes first in every delivery to the symbol; the sell only rests.
        var buy = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), Ct);
        await Until(() => exchange.Orders.Count == 1);
        var sell = engine.ExecuteAsync(new ParentOrderSpec(2, "BTCUSDT", Side.Sell, SizeType.Quantity, 0.01m), Ct);
        await Until(() => exchange.Orders.Count == 2);

        // A young modify: 3 placements, 1 young cancel (0.5 > 0.3), restricted.
        time.Advance(TimeSpan.FromSeconds(1));
        exchange.SetBook("BTCUSDT", 65_000.1m, 65_001.0m);
        await Until(() => recorder.CancelBudgets(2).Length == 1);

        // An old child re-priced (no young cancel: 2 in 5 is still over), then the book moves again at once: the
        // re-queued child is young, and waits.
        time.Advance(TimeSpan.FromSeconds(597));
        exchange.SetBook("BTCUSDT", 65_000.2m, 65_001.0m);
        time.Advance(TimeSpan.FromMilliseconds(500));
        exchange.SetBook("BTCUSDT", 65_000.3m, 65_001.0m);
        Assert.Equal(65_000.2m, Child(Side.Buy).Price);

        // Ten minutes after the start both first placements leave the cycle (2 placements: below the minimum, allowed);
        // the buy's waiting young modify spends it again at once (3 placements, 2 young cancels).
        time.Advance(TimeSpan.FromMilliseconds(1_500));
        await Until(() => Child(Side.Buy).Price == 65_000.3m && recorder.CancelBudgets(2).Length == 3 && recorder.CancelBudgets(1).Length == 3);

        Assert.Equal([false, true, false], recorder.CancelBudgets(1));
        Assert.Equal([false, true, false], recorder.CancelBudgets(2)); // the sell's last word is the tracker's

        await EndAll(engine, time, buy, sell);

        InMemoryExchange.RestingOrder Child(Side side) => exchange.Orders.Values.Single(o => o.Side == side && o.Live);
    }

    /// <summary>Cancels the orders and moves the clock on until they ended (a young child or a backoff may hold a cancel back).</summary>
    internal static async Task EndAll(ExecutionEngine engine, FakeTimeProvider time, params Task<ExecutionResult>[] runs)
    {
        foreach (var id in engine.Progress.Keys)
        {
            engine.Cancel(id);
        }

        var all = Task.WhenAll(runs);
        for (var step = 0; step < 100 && !all.IsCompleted; step++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10, Ct);
        }

        await all.WaitAsync(ExecutionEngineTests.Patience, Ct);
    }

    private static Task Until(Func<bool> condition) => ExecutionEngineTests.Until(condition);

    private static OrderRequest Request(in ChaserCommand command) => new(command, "BTCUSDT", ExecutionEngineTests.Btc, ReduceOnly: false);

    /// <summary>Sends, or refuses as the connector's rate guard does (nothing leaves).</summary>
    private sealed class RateGuardedVenue : IOrderGateway
    {
        public bool Refusing { get; set; }

        public Submission Submit(in OrderRequest request) => Refusing ? Submission.Refused : Submission.HandedOffAt(1);
    }
}

/// <summary>Keeps each order's budget inputs (cancel and rate), in the order its chaser was handed them.</summary>
internal sealed class BudgetRecorder : IExecutionRecorder
{
    private readonly List<(long ParentId, ChaserInput Input)> _budgets = [];

    public bool[] CancelBudgets(long parentId)
    {
        lock (_budgets)
        {
            return [.. _budgets.Where(b => b.ParentId == parentId && b.Input.Kind == EventKind.CancelBudget).Select(b => b.Input.YoungCancelsAllowed)];
        }
    }

    public decimal[] RateBudgets(long parentId)
    {
        lock (_budgets)
        {
            return [.. _budgets.Where(b => b.ParentId == parentId && b.Input.Kind == EventKind.RateBudget).Select(b => b.Input.Budget)];
        }
    }

    public void MachineInput(long parentId, DateTimeOffset time, in ChaserInput input)
    {
        if (input.Kind is EventKind.CancelBudget or EventKind.RateBudget)
        {
            lock (_budgets)
            {
                _budgets.Add((parentId, input));
            }
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

    public void Child(ChildOrderSnapshot child)
    {
    }

    public void Fill(FillRecord fill)
    {
    }

    public void OrderCompleted(ExecutionResult result)
    {
    }
}
