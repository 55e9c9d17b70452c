using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Core.Rules;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>A long-running engine keeps nothing per order once the order's markout tail passed; a graceful stop waits StopTimeout.</summary>
public class ForgetFinishedTests
{
    private static readonly SymbolRules Btc = ExecutionEngineTests.Btc;

    private static readonly TimeSpan Patience = ExecutionEngineTests.Patience;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Finished_orders_are_sampled_through_their_tail_then_nothing_of_them_is_kept()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        var recorder = new ListRecorder();
        await using var engine = new ExecutionEngine(exchange, recorder, time, new EngineOptions { MarkoutTail = TimeSpan.FromSeconds(60) });
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);

        // Three buys in one queue, a sell beside them, and a buy canceled while it waited: every way an order ends.
        var buys = new[] { Buy(1), Buy(2), Buy(3) }.Select(spec => engine.ExecuteAsync(spec, Ct)).ToList();
        var sell = engine.ExecuteAsync(new ParentOrderSpec(4, "BTCUSDT", Side.Sell, SizeType.Quantity, 0.01m), Ct);
        var canceled = engine.ExecuteAsync(Buy(5), Ct);
        await Until(() => exchange.Orders.Count == 2);
        engine.Cancel(5);
        Assert.Equal(FinishReason.Canceled, (await canceled.WaitAsync(Patience, Ct)).Status);
        for (var filled = 0; filled < 3; filled++)
        {
            await Until(() => exchange.Orders.Values.Any(o => o.Live && o.Side == Side.Buy));
            exchange.TradeAgainstUs("BTCUSDT", 1m);
        }

        await Task.WhenAll([.. buys, sell]).WaitAsync(Patience, Ct);
        Assert.Empty(engine.Queued);

        // Within the tail: still held (refused a second time) and still sampled for markouts.
        time.Advance(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<OrderAlreadyHeldException>(() => engine.ExecuteAsync(Buy(1), Ct));
        exchange.SetBook("BTCUSDT", 65_010.0m, 65_010.1m);
        Assert.Equal([1L, 2L, 3L, 4L], Samples(recorder, 65_010.05m));
        Assert.True(engine.PerOrderEntries > 0);

        // Past it: each tail closed with the quote that held, and the engine keeps nothing of any order.
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal([1L, 1L, 2L, 2L, 3L, 3L, 4L, 4L], Samples(recorder, 65_010.05m));
        Assert.Equal(0, engine.PerOrderEntries);
        Assert.False(engine.Holds(1));
        Assert.False(engine.Holds(5));
        Assert.Empty(engine.Progress);

        // A book after that samples nobody.
        var mids = Count(recorder);
        exchange.SetBook("BTCUSDT", 65_020.0m, 65_020.1m);
        Assert.Equal(mids, Count(recorder));
    }

    [Fact]
    public async Task A_fill_reported_after_the_finish_is_still_counted_when_markouts_are_off()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc);
        var recorder = new ListRecorder();
        var diagnostics = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var engine = new ExecutionEngine(exchange, recorder, time, new EngineOptions { MarkoutTail = TimeSpan.Zero, Diagnostics = diagnostics.Enqueue });
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var run = engine.ExecuteAsync(Buy(1), Ct);
        await Until(() => exchange.Orders.Count == 1);
        var child = exchange.Orders.Values.Single();
        engine.Cancel(1);
        Assert.Equal(FinishReason.Canceled, (await run.WaitAsync(Patience, Ct)).Status);

        // A fill the user stream reports half a minute after the cancel's answer: the finished order still counts it.
        time.Advance(TimeSpan.FromSeconds(30));
        exchange.ReplayFill(new Fill(child.ClientOrderId, 999, child.Price, 0.004m, 0m, "USDT", true, 0.004m, false, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));
        Assert.Contains(Fills(recorder), f => f.TradeId == 999);

        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(0, engine.PerOrderEntries);

        // Forgotten: a fill later still is not counted here, and the engine says so rather than drop it unseen.
        exchange.ReplayFill(new Fill(child.ClientOrderId, 1000, child.Price, 0.002m, 0m, "USDT", true, 0.006m, false, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));
        Assert.DoesNotContain(Fills(recorder), f => f.TradeId == 1000);
        Assert.Contains(diagnostics, d => d.Contains("fill 1000 of", StringComparison.Ordinal) && d.Contains("order 1,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_graceful_stop_waits_the_engines_stop_timeout_for_children_that_do_not_answer()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(Btc) { IgnoreCancels = true };
        await using var engine = new ExecutionEngine(exchange, time: time, options: new EngineOptions { StopTimeout = TimeSpan.FromSeconds(5) });
        exchange.SetBook("BTCUSDT", 65_000.0m, 65_000.1m);
        var run = engine.ExecuteAsync(Buy(1), Ct);
        await Until(() => exchange.Orders.Count == 1);

        var stop = engine.StopAsync();
        await Until(() => exchange.Requests.Any(r => r.Command.Kind == ChaserCommandKind.Cancel));
        // A timeout that fired early would have completed the stop inside the advance (its timer runs there).
        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(stop.IsCompleted, "the stop gave up before its timeout");

        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal([1L], await stop.WaitAsync(Patience, Ct));

        exchange.TradeAgainstUs("BTCUSDT", 1m);
        Assert.Equal(FinishReason.Filled, (await run.WaitAsync(Patience, Ct)).Status);
    }

    private static long[] Samples(ListRecorder recorder, decimal mid)
    {
        return [.. recorder.Mids.ToArray().Where(m => m.Mid == mid).Select(m => m.ParentId).Order()];
    }

    private static int Count(ListRecorder recorder) => recorder.Mids.ToArray().Length;

    private static FillRecord[] Fills(ListRecorder recorder) => recorder.Fills.ToArray();

    private static ParentOrderSpec Buy(long id) => new(id, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m);

    private static Task Until(Func<bool> condition) => ExecutionEngineTests.Until(condition);
}
