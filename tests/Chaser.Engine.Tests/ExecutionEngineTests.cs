using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Core.Rules;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

public class ExecutionEngineTests
{
    internal static readonly SymbolRules Btc = new()
    {
        Symbol = "BTCUSDT",
        TickSize = 0.1m,
        StepSize = 0.001m,
        MinQty = 0.001m,
        MaxQty = 1000m,
        MinNotional = 100m,
    };

    internal static readonly SymbolRules Eth = new()
    {
        Symbol = "ETHUSDT",
        TickSize = 0.01m,
        StepSize = 0.001m,
        MinQty = 0.001m,
        MaxQty = 10000m,
        MinNotional = 20m,
    };

    internal static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_buy_is_worked_at_the_best_bid_to_its_target()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        var recorder = new ListRecorder();
        await using var engine = new ExecutionEngine(exchange, recorder, time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var run = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 15_000m), TestContext.Current.CancellationToken);

        await Until(() => exchange.Orders.Count == 1);
        // Past the minimum re-price interval, so that the book frame itself triggers the modify.
        time.Advance(TimeSpan.FromMilliseconds(300));
        exchange.SetBook("BTCUSDT", 65_000.5m, 65_000.6m);
        await Until(() => exchange.Orders.Values.Single().Price == 65_000.5m);
        exchange.TradeAgainstUs("BTCUSDT", 0.1m);
        exchange.TradeAgainstUs("BTCUSDT", 0.2m);
        var result = await run.WaitAsync(Patience, TestContext.Current.CancellationToken);

        Assert.Equal(FinishReason.Filled, result.Status);
        Assert.Equal(0.230m, result.FilledQuantity);
        Assert.Equal(65_000.5m, result.AveragePrice);
        Assert.Equal(65_000.05m, result.ArrivalMid);
        // A buy above the arrival mid is a cost: positive slippage.
        Assert.Equal((65_000.5m - 65_000.05m) / 65_000.05m, result.Slippage);
        Assert.Equal(1, result.ChildOrders);
        Assert.Equal(1, result.Modifies);
        Assert.Equal(2, result.Fills.Count);
        Assert.All(result.Fills, f => Assert.True(f.IsMaker));
        Assert.True(result.Latency.Count >= 1, "book-driven decisions carry a tick-to-order latency");
        Assert.Equal(result.Fills.Count, recorder.Fills.Count);
        Assert.Contains(recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Finish);
        Assert.Single(recorder.Completed);
    }

    [Fact]
    public async Task Orders_on_the_same_symbol_and_side_take_turns()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        await using var engine = new ExecutionEngine(exchange, time: time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var first = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), TestContext.Current.CancellationToken);
        var second = engine.ExecuteAsync(new ParentOrderSpec(2, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), TestContext.Current.CancellationToken);

        await Until(() => exchange.Orders.Count == 1);
        // The second waits in line (it has no runner to send anything) while the first works.
        Assert.Equal([2L], engine.Queued.Keys);
        Assert.Single(exchange.Orders);
        exchange.TradeAgainstUs("BTCUSDT", 1m);
        await Until(() => exchange.Orders.Count == 2);
        exchange.TradeAgainstUs("BTCUSDT", 1m);
        var results = await Task.WhenAll(first, second).WaitAsync(Patience, TestContext.Current.CancellationToken);

        Assert.All(results, r => Assert.Equal(FinishReason.Filled, r.Status));
        Assert.Equal(1, exchange.MaxLive[("BTCUSDT", Side.Buy)]);
    }

    [Fact]
    public async Task Orders_on_different_symbols_and_sides_run_at_once()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc, Eth);
        await using var engine = new ExecutionEngine(exchange, time: time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        exchange.SetBook("ETHUSDT", 3_000.00m, 3_000.01m);
        var runs = engine.ExecuteAllAsync(
        [
            new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m),
            new ParentOrderSpec(2, "BTCUSDT", Side.Sell, SizeType.Quantity, 0.01m),
            new ParentOrderSpec(3, "ETHUSDT", Side.Buy, SizeType.Quantity, 0.1m),
        ], TestContext.Current.CancellationToken);

        await Until(() => exchange.Orders.Count == 3);
        Assert.Equal(2, exchange.MaxLiveBySymbol["BTCUSDT"]);
        exchange.TradeAgainstUs("BTCUSDT", 1m);
        exchange.TradeAgainstUs("ETHUSDT", 1m);
        var results = await runs.WaitAsync(Patience, TestContext.Current.CancellationToken);
        Assert.Equal([1L, 2L, 3L], results.Select(r => r.Spec.Id));
        Assert.All(results, r => Assert.Equal(FinishReason.Filled, r.Status));
        Assert.Equal(65_000.1m, results[1].AveragePrice);
    }

    [Fact]
    public async Task A_canceled_parent_order_cancels_its_child_and_ends_canceled()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        await using var engine = new ExecutionEngine(exchange, time: time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var run = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), TestContext.Current.CancellationToken);
        await Until(() => exchange.Orders.Count == 1);
        exchange.TradeAgainstUs("BTCUSDT", 0.004m);
        engine.Cancel(1);
        var result = await run.WaitAsync(Patience, TestContext.Current.CancellationToken);

        Assert.Equal(FinishReason.Canceled, result.Status);
        Assert.Equal(0.004m, result.FilledQuantity);
        Assert.False(exchange.Orders.Values.Single().Live);
        Assert.Equal(ChaserCommandKind.Cancel, exchange.Requests[^1].Command.Kind);
    }

    [Fact]
    public async Task Stopping_the_run_cancels_the_child_before_returning()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        await using var engine = new ExecutionEngine(exchange, time: time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        using var stop = new CancellationTokenSource();
        var run = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Sell, SizeType.Quantity, 0.01m), stop.Token);
        await Until(() => exchange.Orders.Count == 1);
        await stop.CancelAsync();
        var result = await run.WaitAsync(Patience, TestContext.Current.CancellationToken);
        Assert.Equal(FinishReason.Canceled, result.Status);
        Assert.DoesNotContain(exchange.Orders.Values, o => o.Live);
    }

    [Fact]
    public async Task A_fill_after_the_finish_is_still_recorded_once()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        var recorder = new ListRecorder();
        await using var engine = new ExecutionEngine(exchange, recorder, time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var run = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), TestContext.Current.CancellationToken);
        await Until(() => exchange.Orders.Count == 1);
        engine.Cancel(1);
        await run.WaitAsync(Patience, TestContext.Current.CancellationToken);

        var late = new Fill(ClientOrderIds.For(engine.ClientIdTag, 1, 1), 999, 65_000.0m, 0.002m, 0m, "USDT", true, 0.002m, false, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
        exchange.ReplayFill(late);
        exchange.ReplayFill(late);
        Assert.Single(recorder.Fills, f => f.TradeId == 999);
    }

    [Fact]
    public async Task Events_of_another_instance_with_the_same_parent_id_are_neither_routed_nor_recorded()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        var recorder = new ListRecorder();
        await using var engine = new ExecutionEngine(exchange, recorder, time, new EngineOptions { ClientIdTag = "ours01" });
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var run = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), TestContext.Current.CancellationToken);
        await Until(() => exchange.Orders.Count == 1);
        Assert.Equal("chs-ours01-1-1", exchange.Orders.Keys.Single());

        // Another database on the account works its parent order 1 too: its child 1 fills and finishes.
        var theirs = ClientOrderIds.For("other1", 1, 1);
        var now = DateTimeOffset.UtcNow;
        exchange.ReplayFill(new Fill(theirs, 4242, 65_000.0m, 0.01m, 0.13m, "USDT", true, 0.01m, true, now, now));
        exchange.ReplayFinished(new OrderFinished(theirs, ExchangeOrderStatus.Filled, 0.01m, now, now));

        // A book behind them: once our order has it, it has had whatever of theirs was routed to it.
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.2m);
        await Until(() => engine.Progress.TryGetValue(1, out var progress) && progress.Mid == 65_000.1m);
        Assert.Empty(recorder.Fills);
        Assert.False(run.IsCompleted, "another instance's fill must not finish our order");

        exchange.TradeAgainstUs("BTCUSDT", 0.01m);
        var result = await run.WaitAsync(Patience, TestContext.Current.CancellationToken);
        Assert.Equal(FinishReason.Filled, result.Status);
        Assert.Equal(0.01m, result.FilledQuantity);
        Assert.DoesNotContain(recorder.Fills, f => f.TradeId == 4242);
        Assert.All(recorder.Fills, f => Assert.Equal("chs-ours01-1-1", f.ClientOrderId));
    }

    [Fact]
    public async Task Each_engine_without_a_tag_draws_its_own_and_a_bad_tag_is_refused_naming_the_option()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new EngineOptions();
        await using var first = new ExecutionEngine(new InMemoryExchange(Btc), time: time, options: options);
        await using var second = new ExecutionEngine(new InMemoryExchange(Btc), time: time, options: options);
        Assert.True(ClientOrderIds.IsValidTag(first.ClientIdTag));
        Assert.NotEqual(first.ClientIdTag, second.ClientIdTag);

        var refused = Assert.Throws<ArgumentException>(() => new ExecutionEngine(new InMemoryExchange(Btc), time: time, options: new EngineOptions { ClientIdTag = "chs-1" }));
        Assert.Equal(nameof(EngineOptions.ClientIdTag), refused.ParamName);
    }

    [Fact]
    public async Task An_unknown_symbol_is_refused_before_anything_is_sent()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        await using var engine = new ExecutionEngine(exchange, time: time);
        var reason = await engine.ValidateAsync(new ParentOrderSpec(1, "NOPEUSDT", Side.Buy, SizeType.Notional, 1_000m), 0m, TestContext.Current.CancellationToken);
        Assert.Equal("symbol: NOPEUSDT is not traded on this exchange", reason);
        var tooSmall = await engine.ValidateAsync(new ParentOrderSpec(2, "BTCUSDT", Side.Buy, SizeType.Notional, 50m), 65_000m, TestContext.Current.CancellationToken);
        Assert.Equal("size: 50 USDT is below BTCUSDT's MIN_NOTIONAL of 100 USDT", tooSmall);
        Assert.Empty(exchange.Requests);
    }

    internal static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the condition did not become true in time");
            }

            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task After_the_order_ends_the_book_is_sampled_for_markouts_until_the_tail_runs_out()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        var recorder = new ListRecorder();
        var tail = TimeSpan.FromMilliseconds(600);
        await using var engine = new ExecutionEngine(exchange, recorder, time, new EngineOptions { MarkoutTail = tail });
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var run = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.1m), TestContext.Current.CancellationToken);
        await Until(() => exchange.Orders.Count == 1);
        exchange.PublishTrade("BTCUSDT", 65_000.1m, 0.5m);
        await Until(() => recorder.Trades.Count == 1);
        exchange.TradeAgainstUs("BTCUSDT", 0.1m);
        exchange.SetBook("BTCUSDT", 65_000.3m, 65_000.4m); // the move our fill caused, racing the order's finish
        var result = await run.WaitAsync(Patience, TestContext.Current.CancellationToken);
        Assert.Equal(FinishReason.Filled, result.Status);

        // Whether the finished order's loop still saw it or not, that move is on record without waiting for another.
        Assert.Equal(65_000.35m, recorder.Mids[^1].Mid);
        var duringOrder = recorder.Mids.Count;

        // Within the tail: a moved mid is sampled for the finished order, an unchanged one is not.
        exchange.SetBook("BTCUSDT", 65_000.5m, 65_000.6m);
        Assert.Equal(duringOrder + 1, recorder.Mids.Count);
        exchange.SetBook("BTCUSDT", 65_000.5m, 65_000.6m);
        Assert.Equal(duringOrder + 1, recorder.Mids.Count);
        Assert.Equal(65_000.55m, recorder.Mids[^1].Mid);

        // After it: the tail closes with one sample saying the last quote still held, then nothing more.
        time.Advance(tail + TimeSpan.FromMilliseconds(100));
        exchange.SetBook("BTCUSDT", 64_990.0m, 64_990.1m);
        Assert.Equal(duringOrder + 2, recorder.Mids.Count);
        var closing = recorder.Mids[^1];
        Assert.Equal((1L, 65_000.55m), (closing.ParentId, closing.Mid));
        Assert.Equal(result.CompletedAt + tail, closing.ReceivedAt); // stamped at the tail's end
        exchange.SetBook("BTCUSDT", 64_980.0m, 64_980.1m);
        Assert.Equal(duringOrder + 2, recorder.Mids.Count);

        var print = Assert.Single(recorder.Trades);
        Assert.Equal((1L, 65_000.1m, 0.5m), (print.ParentId, print.Price, print.Quantity));
    }

    [Fact]
    public async Task The_dead_man_switch_is_armed_before_the_first_child_renewed_while_working_and_disarmed_after_the_last()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        await using var engine = new ExecutionEngine(exchange, time: time, options: new EngineOptions { DeadManCountdown = TimeSpan.FromMilliseconds(400) });
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var buy = engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.1m), TestContext.Current.CancellationToken);
        var sell = engine.ExecuteAsync(new ParentOrderSpec(2, "BTCUSDT", Side.Sell, SizeType.Quantity, 0.1m), TestContext.Current.CancellationToken);
        await Until(() => exchange.Orders.Count == 2);
        string[] Log() => exchange.LogSnapshot();

        Assert.Equal("arm BTCUSDT 400", Log()[0]); // before any child is sent

        // Renewed every 100 ms while either order works; not disarmed while the other one still works.
        for (var renewals = 1; renewals <= 3; renewals++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Until(() => Log().Count(l => l == "arm BTCUSDT 400") == 1 + renewals);
        }

        engine.Cancel(1);
        Assert.Equal(FinishReason.Canceled, (await buy.WaitAsync(Patience, TestContext.Current.CancellationToken)).Status);
        Assert.DoesNotContain("arm BTCUSDT 0", Log());

        // The last one ends: disarmed, and nothing renews it afterwards.
        engine.Cancel(2);
        Assert.Equal(FinishReason.Canceled, (await sell.WaitAsync(Patience, TestContext.Current.CancellationToken)).Status);
        await Until(() => Log()[^1] == "arm BTCUSDT 0");
        time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Equal("arm BTCUSDT 0", Log()[^1]);
    }
}

internal sealed class ListRecorder : IExecutionRecorder
{
    private readonly Lock _lock = new();
    private readonly List<long[]> _alive = [];

    public List<FillRecord> Fills { get; } = [];

    public List<DecisionRecord> Decisions { get; } = [];

    public List<ExecutionResult> Completed { get; } = [];

    public void OrderStarted(ParentOrderSpec spec, DateTimeOffset time)
    {
    }

    public void ArrivalMid(long parentId, decimal mid, DateTimeOffset time)
    {
    }

    public List<MidSample> Mids { get; } = [];

    public List<MarketTradeSample> Trades { get; } = [];

    public void Mid(MidSample sample)
    {
        lock (_lock)
        {
            Mids.Add(sample);
        }
    }

    public void MarketTrade(MarketTradeSample trade)
    {
        lock (_lock)
        {
            Trades.Add(trade);
        }
    }

    public void Decision(DecisionRecord decision)
    {
        lock (_lock)
        {
            Decisions.Add(decision);
        }
    }

    public void Child(ChildOrderSnapshot child)
    {
    }

    public void Fill(FillRecord fill)
    {
        lock (_lock)
        {
            Fills.Add(fill);
        }
    }

    public void OrderCompleted(ExecutionResult result)
    {
        lock (_lock)
        {
            Completed.Add(result);
        }
    }

    public void Alive(IReadOnlyCollection<long> parentIds, DateTimeOffset time)
    {
        lock (_lock)
        {
            _alive.Add([.. parentIds]);
        }
    }

    public IReadOnlyList<long[]> AliveSnapshot()
    {
        lock (_lock)
        {
            return [.. _alive];
        }
    }
}
