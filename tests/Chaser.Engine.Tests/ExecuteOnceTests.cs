using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Rules;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>One parent order is worked once; queued orders keep their order, can be canceled, and start their clock when they start.</summary>
public class ExecuteOnceTests
{
    private static readonly SymbolRules Btc = ExecutionEngineTests.Btc;

    private static readonly TimeSpan Patience = ExecutionEngineTests.Patience;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_id_the_engine_holds_is_refused_while_queued_working_or_finished()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        await using var engine = new ExecutionEngine(exchange, time: time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var first = engine.ExecuteAsync(Buy(1, 0.01m), Ct);
        var second = engine.ExecuteAsync(Buy(2, 0.01m), Ct);
        await Until(() => exchange.Orders.Count == 1);

        // Working, and queued behind it: a second execute of either id is refused at once, nothing more is sent.
        Assert.Equal(1, (await Assert.ThrowsAsync<OrderAlreadyHeldException>(() => engine.ExecuteAsync(Buy(1, 0.01m), Ct))).ParentId);
        Assert.Equal(2, (await Assert.ThrowsAsync<OrderAlreadyHeldException>(() => engine.ExecuteAsync(Buy(2, 0.01m), Ct))).ParentId);
        Assert.Single(exchange.Orders);

        exchange.TradeAgainstUs("BTCUSDT", 1m);
        await Until(() => exchange.Orders.Count == 2);
        exchange.TradeAgainstUs("BTCUSDT", 1m);
        var results = await Task.WhenAll(first, second).WaitAsync(Patience, Ct);
        Assert.All(results, r => Assert.Equal(FinishReason.Filled, r.Status));

        // Finished: its client order ids are spent, so it is not worked again either.
        await Assert.ThrowsAsync<OrderAlreadyHeldException>(() => engine.ExecuteAsync(Buy(1, 0.01m), Ct));
        Assert.Equal(2, exchange.Orders.Count);
        Assert.Equal(0.02m, results.Sum(r => r.FilledQuantity));
    }

    [Fact]
    public async Task A_queued_order_is_canceled_at_once_without_waiting_for_its_turn()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        var recorder = new ListRecorder();
        await using var engine = new ExecutionEngine(exchange, recorder, time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var working = engine.ExecuteAsync(Buy(1, 0.01m), Ct);
        var queued = engine.ExecuteAsync(Buy(2, 0.01m), Ct);
        await Until(() => exchange.Orders.Count == 1);

        engine.Cancel(2);
        var result = await queued.WaitAsync(Patience, Ct);

        Assert.Equal(FinishReason.Canceled, result.Status);
        Assert.Equal("canceled before it started working", result.Detail);
        Assert.False(working.IsCompleted);
        Assert.Single(exchange.Orders);
        Assert.Contains(recorder.Completed, c => c.Spec.Id == 2 && c.Status == FinishReason.Canceled);

        engine.Cancel(1);
        Assert.Equal(FinishReason.Canceled, (await working.WaitAsync(Patience, Ct)).Status);
        Assert.Single(exchange.Orders);
    }

    [Fact]
    public async Task The_engine_says_which_orders_wait_in_a_queue_and_behind_which_order()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        await using var engine = new ExecutionEngine(exchange, time: time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var runs = new[] { Buy(1, 0.01m), Buy(2, 0.01m), Buy(3, 0.01m) }.Select(spec => engine.ExecuteAsync(spec, Ct)).ToList();
        var sell = engine.ExecuteAsync(new ParentOrderSpec(4, "BTCUSDT", Side.Sell, SizeType.Quantity, 0.01m), Ct);
        await Until(() => exchange.Orders.Count == 2);

        // 1 works, 2 and 3 wait behind it in line; the sell, on the other side, works beside them and waits for nothing.
        Assert.Equal(new Dictionary<long, QueuedOrder> { [2] = new(1, 1), [3] = new(2, 2) }, engine.Queued);

        // A queued order canceled leaves the line: the one behind it moves up.
        engine.Cancel(2);
        Assert.Equal(FinishReason.Canceled, (await runs[1].WaitAsync(Patience, Ct)).Status);
        Assert.Equal(new Dictionary<long, QueuedOrder> { [3] = new(1, 1) }, engine.Queued);

        // Its turn: working, no longer queued.
        exchange.TradeAgainstUs("BTCUSDT", 1m);
        await runs[0].WaitAsync(Patience, Ct);
        await Until(() => exchange.Orders.Count == 3);
        Assert.Empty(engine.Queued);
        Assert.Contains(3L, engine.Progress.Keys);

        engine.Cancel(3);
        engine.Cancel(4);
        await Task.WhenAll(runs[2], sell).WaitAsync(Patience, Ct);
        Assert.Empty(engine.Queued);
    }

    [Fact]
    public async Task Same_side_orders_start_in_the_order_they_were_submitted_however_long_their_setup_takes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // The first order's subscription answers last: a queue entered after the setup would let the others jump it.
        var exchange = new InMemoryExchange(Btc) { Time = time, SubscribeDelay = call => TimeSpan.FromMilliseconds(call switch { 0 => 300, 1 => 150, _ => 0 }) };
        await using var engine = new ExecutionEngine(exchange, time: time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var runs = Enumerable.Range(1, 4).Select(id => engine.ExecuteAsync(Buy(id, 0.01m), Ct)).ToArray();
        await Until(() => exchange.SubscribeCalls == 4); // every setup's delay runs on the test's clock
        time.Advance(TimeSpan.FromMilliseconds(150));
        time.Advance(TimeSpan.FromMilliseconds(150));

        var started = new List<long>();
        for (var n = 1; n <= 4; n++)
        {
            await Until(() => exchange.Orders.Count == n);
            var child = exchange.Orders.Values.Single(o => o.Live);
            Assert.True(ClientOrderIds.TryParse(child.ClientOrderId, out _, out var parent, out _));
            started.Add(parent);
            exchange.TradeAgainstUs("BTCUSDT", 1m);
        }

        await Task.WhenAll(runs).WaitAsync(Patience, Ct);
        Assert.Equal([1L, 2L, 3L, 4L], started);
    }

    [Fact]
    public async Task A_time_limit_counts_from_when_the_order_starts_working_not_while_it_waited()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        await using var engine = new ExecutionEngine(exchange, time: time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var first = engine.ExecuteAsync(Buy(1, 0.01m), Ct);
        var limited = engine.ExecuteAsync(Buy(2, 0.01m) with { TimeLimit = TimeSpan.FromMinutes(1) }, Ct);
        await Until(() => exchange.Orders.Count == 1);

        // It waits five minutes behind the first order: longer than its own limit.
        time.Advance(TimeSpan.FromMinutes(5));
        exchange.TradeAgainstUs("BTCUSDT", 1m);
        Assert.Equal(FinishReason.Filled, (await first.WaitAsync(Patience, Ct)).Status);

        // It starts now and works: its minute begins here.
        await Until(() => exchange.Orders.Count == 2);
        time.Advance(TimeSpan.FromSeconds(59));

        // A book behind the timer ticks the advance queued: once the order has it, it has decided on them too.
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.2m);
        await Until(() => engine.Progress.TryGetValue(2, out var progress) && progress.Mid == 65_000.1m);
        Assert.False(limited.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(2));
        var result = await limited.WaitAsync(Patience, Ct);
        Assert.Equal(FinishReason.Expired, result.Status);
        Assert.Equal(time.GetUtcNow() - TimeSpan.FromSeconds(61), result.StartedAt);
    }

    [Fact]
    public async Task An_unknown_symbol_ends_that_order_failed_with_the_reason_and_the_others_run()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        var recorder = new ListRecorder();
        await using var engine = new ExecutionEngine(exchange, recorder, time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var runs = engine.ExecuteAllAsync([Buy(1, 0.01m), new ParentOrderSpec(2, "NOPEUSDT", Side.Buy, SizeType.Quantity, 1m)], Ct);
        await Until(() => exchange.Orders.Count == 1);
        exchange.TradeAgainstUs("BTCUSDT", 1m);
        var results = await runs.WaitAsync(Patience, Ct);

        Assert.Equal(FinishReason.Filled, results[0].Status);
        Assert.Equal(FinishReason.Failed, results[1].Status);
        Assert.Equal("symbol NOPEUSDT is not traded on this exchange", results[1].Detail);
        Assert.Contains(recorder.Completed, c => c.Spec.Id == 2 && c.Status == FinishReason.Failed);
    }

    [Fact]
    public async Task An_order_given_after_a_graceful_stop_began_ends_canceled_without_sending_anything()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // SIGTERM: the host stops the engine while a request that claimed an order is still handing it over.
        var exchange = new InMemoryExchange(Btc);
        var recorder = new ListRecorder();
        await using var engine = new ExecutionEngine(exchange, recorder, time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        Assert.Empty(await engine.StopAsync(Patience));

        var late = engine.ExecuteAsync(Buy(1, 0.01m), Ct);
        var result = await late.WaitAsync(Patience, Ct);

        Assert.Equal(FinishReason.Canceled, result.Status);
        Assert.Equal("canceled before it started working: the engine is stopping", result.Detail);
        Assert.Empty(exchange.Orders);
        Assert.Contains(recorder.Completed, c => c.Spec.Id == 1 && c.Status == FinishReason.Canceled);
    }

    [Fact]
    public async Task A_setup_fault_of_any_kind_ends_the_order_failed_with_the_reason_instead_of_throwing()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // HttpClient reports its own timeout as a TaskCanceledException that nobody asked for; a malformed answer
        // throws a JsonException. Either one thrown out of ExecuteAsync leaves a claimed order working for good.
        foreach (var fault in new Exception[] { new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 10 seconds elapsing."), new System.Text.Json.JsonException("'<' is an invalid start of a value.") })
        {
            var exchange = new InMemoryExchange(Btc) { SubscribeFault = fault };
            var recorder = new ListRecorder();
            await using var engine = new ExecutionEngine(exchange, recorder, time);

            var result = await engine.ExecuteAsync(Buy(1, 0.01m), Ct).WaitAsync(Patience, Ct);

            Assert.Equal(FinishReason.Failed, result.Status);
            Assert.Equal($"could not start: {fault.Message}", result.Detail);
            Assert.Contains(recorder.Completed, c => c.Spec.Id == 1 && c.Status == FinishReason.Failed);
            Assert.Empty(exchange.Orders);
        }
    }

    [Fact]
    public async Task Canceling_an_order_while_its_symbol_rules_load_does_not_fail_later_orders_on_the_symbol()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc) { Time = time, RulesDelay = TimeSpan.FromMilliseconds(300) };
        await using var engine = new ExecutionEngine(exchange, time: time);
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var first = engine.ExecuteAsync(Buy(1, 0.01m), Ct);
        engine.Cancel(1);
        Assert.Equal(FinishReason.Canceled, (await first.WaitAsync(Patience, Ct)).Status);

        // The fetch the first order started answers while the second one waits on it.
        var second = engine.ExecuteAsync(Buy(2, 0.01m), Ct);
        time.Advance(TimeSpan.FromMilliseconds(300));
        await Until(() => exchange.Orders.Count == 1 || second.IsCompleted);
        Assert.False(second.IsCompleted, "the second order ended before it worked (a canceled rules fetch was cached)");
        exchange.TradeAgainstUs("BTCUSDT", 1m);
        Assert.Equal(FinishReason.Filled, (await second.WaitAsync(Patience, Ct)).Status);
    }

    [Fact]
    public async Task A_rules_request_that_failed_once_is_asked_again_once_the_venue_answers()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // The API checks every order before claiming it: a venue that failed one request must not refuse the symbol
        // (503) for the rest of the host's life.
        var exchange = new InMemoryExchange(Btc) { RulesFault = new HttpRequestException("connection refused") };
        await using var engine = new ExecutionEngine(exchange, time: time);
        await Assert.ThrowsAsync<HttpRequestException>(() => engine.CheckAsync(Buy(1, 0.01m), 0m, Ct));

        exchange.RulesFault = null;
        Assert.Null(await engine.CheckAsync(Buy(1, 0.01m), 0m, Ct));
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var run = engine.ExecuteAsync(Buy(1, 0.01m), Ct);
        await Until(() => exchange.Orders.Count == 1 || run.IsCompleted);
        Assert.False(run.IsCompleted, "the order ended before it worked");
        exchange.TradeAgainstUs("BTCUSDT", 1m);
        Assert.Equal(FinishReason.Filled, (await run.WaitAsync(Patience, Ct)).Status);
    }

    [Fact]
    public async Task The_engine_says_every_interval_which_orders_it_still_holds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        var recorder = new ListRecorder();
        await using var engine = new ExecutionEngine(exchange, recorder, time, new EngineOptions { HeartbeatInterval = TimeSpan.FromSeconds(2) });
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var working = engine.ExecuteAsync(Buy(1, 0.01m), Ct);
        var queued = engine.ExecuteAsync(Buy(2, 0.01m), Ct);
        await Until(() => exchange.Orders.Count == 1);

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal([1L, 2L], recorder.AliveSnapshot()[^1].Order());

        exchange.TradeAgainstUs("BTCUSDT", 1m);
        await working.WaitAsync(Patience, Ct);
        engine.Cancel(2);
        await queued.WaitAsync(Patience, Ct);
        var said = recorder.AliveSnapshot().Count;
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(said, recorder.AliveSnapshot().Count); // nothing held, nothing said
    }

    private static ParentOrderSpec Buy(long id, decimal quantity) => new(id, "BTCUSDT", Side.Buy, SizeType.Quantity, quantity);

    private static Task Until(Func<bool> condition) => ExecutionEngineTests.Until(condition);
}
