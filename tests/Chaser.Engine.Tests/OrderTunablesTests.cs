using Chaser.Core.Domain;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>What an order sets for itself (its re-price interval) applies to that order only, on an engine shared with others.</summary>
public class OrderTunablesTests
{
    private static readonly TimeSpan Patience = ExecutionEngineTests.Patience;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_order_with_its_own_one_second_reprice_interval_reprices_no_sooner_while_another_keeps_the_engines_default()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(ExecutionEngineTests.Btc, ExecutionEngineTests.Eth);
        await using var engine = new ExecutionEngine(exchange, time: time);
        Assert.Equal(TimeSpan.FromMilliseconds(200), engine.Options.Chaser.MinRepriceInterval);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        exchange.SetBook("ETHUSDT", 3_400.00m, 3_400.01m);
        var slow = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m) { MinRepriceInterval = TimeSpan.FromSeconds(1) }, Ct);
        var paced = engine.ExecuteAsync(new ParentOrderSpec(2, "ETHUSDT", Side.Buy, SizeType.Quantity, 0.1m), Ct);
        await Until(() => exchange.Orders.Count == 2);
        var btc = Child("BTCUSDT");
        var eth = Child("ETHUSDT");

        // 300 ms after both placed, both books move up: past the default 200 ms, within the order's own second.
        time.Advance(TimeSpan.FromMilliseconds(300));
        exchange.SetBook("BTCUSDT", 65_000.5m, 65_000.6m);
        exchange.SetBook("ETHUSDT", 3_400.05m, 3_400.06m);
        await Until(() => eth.Price == 3_400.05m);
        await Until(() => MidOf(1) == 65_000.55m); // decided on that book
        Assert.Equal(65_000.0m, btc.Price);

        // A frame 999 ms after the placement still finds it within its second.
        time.Advance(TimeSpan.FromMilliseconds(699));
        exchange.SetBook("BTCUSDT", 65_000.5m, 65_000.7m);
        await Until(() => MidOf(1) == 65_000.6m);
        Assert.Equal(65_000.0m, btc.Price);

        // One second after its placement: the order's own timer re-prices it, with no new book needed.
        time.Advance(TimeSpan.FromMilliseconds(1));
        await Until(() => btc.Price == 65_000.5m);

        engine.Cancel(1);
        engine.Cancel(2);
        Assert.Equal(1, (await slow.WaitAsync(Patience, Ct)).Modifies);
        Assert.Equal(1, (await paced.WaitAsync(Patience, Ct)).Modifies);

        InMemoryExchange.RestingOrder Child(string symbol) => exchange.Orders.Values.Single(o => o.Symbol == symbol);
        decimal MidOf(long id) => engine.Progress.TryGetValue(id, out var progress) ? progress.Mid : 0m;
    }

    [Fact]
    public async Task Taking_the_remainder_without_a_deadline_or_time_limit_is_refused_before_anything_is_sent()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(ExecutionEngineTests.Btc);
        await using var engine = new ExecutionEngine(exchange, time: time);
        var take = new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m) { OnDeadline = DeadlineAction.TakeRemainder };

        Assert.Equal(new OrderProblem("deadline_action", "taking the remainder needs a deadline or a time limit: it happens when one is reached"), await engine.CheckAsync(take, 0m, Ct));
        Assert.Null(await engine.CheckAsync(take with { TimeLimit = TimeSpan.FromMinutes(1) }, 0m, Ct));
        Assert.Null(await engine.CheckAsync(take with { Deadline = DateTimeOffset.UtcNow.AddMinutes(1) }, 0m, Ct));
        Assert.Empty(exchange.Requests);
    }

    [Fact]
    public async Task Taking_the_remainder_of_an_order_whose_deadline_has_passed_is_refused_rather_than_taking_it_all_at_market()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var exchange = new InMemoryExchange(ExecutionEngineTests.Btc);
        await using var engine = new ExecutionEngine(exchange, time: time);
        var take = new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m) { OnDeadline = DeadlineAction.TakeRemainder, Deadline = time.GetUtcNow().AddMinutes(1) };
        Assert.Null(await engine.CheckAsync(take, 0m, Ct));

        time.Advance(TimeSpan.FromMinutes(1));
        var problem = await engine.CheckAsync(take, 0m, Ct);
        Assert.Equal(new OrderProblem("deadline", "2026-12-01T12:01:00.0000000+00:00 has passed: taking the remainder now would take the whole order with a market order"), problem);

        // Canceling at a passed deadline only ends the order: nothing to refuse.
        Assert.Null(await engine.CheckAsync(take with { OnDeadline = DeadlineAction.CancelAndExpire }, 0m, Ct));
    }

    private static Task Until(Func<bool> condition) => ExecutionEngineTests.Until(condition);
}
