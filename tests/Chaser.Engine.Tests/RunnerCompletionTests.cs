using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Rules;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>The live runner's result against a late fill posted from the stream while the order is being completed.</summary>
public class RunnerCompletionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_late_fill_posted_while_the_result_is_built_is_either_in_it_whole_or_not_at_all()
    {
        // Completing ran outside the lock a late fill is handled under: the fill landed between the totals and the
        // fill list, and the result said 0.010 filled over fills summing to 0.011.
        var time = new GatedTime(new FakeTimeProvider(T0));
        var recorder = new FinishGatingRecorder(time);
        var connector = new SendingConnector(time);
        var options = new ChaserOptions();
        using var budget = new SymbolCancelBudget(options, time, _ => { });
        using var runner = new ParentOrderRunner(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.010m), ExecutionEngineTests.Btc, options, budget, connector, recorder, time, "host01");

        var run = runner.RunAsync(initialBudget: 1m);
        runner.Post(ChaserInput.OfBook("BTCUSDT", new BookTop(65_000.0m, 3m, 65_000.5m, 3m, 1, T0), time.GetTimestamp()));
        var child = await connector.FirstPlaced.Task.WaitAsync(Patience, Ct);
        runner.Post(ChaserInput.OfAccepted(new OrderAccepted(child, 1, 65_000.0m, 0.010m, false, T0, T0)));
        // Posted from a stream's thread: the runner handles it there (the order is idle), and completes there.
        var finishing = Task.Run(() => runner.Post(ChaserInput.OfFill(new Fill(child, 7, 65_000.0m, 0.010m, 0m, "USDT", true, 0.010m, true, T0, T0))), Ct);

        // The runner is inside Complete (its first clock read after the finish); the stream delivers a late fill.
        Assert.True(time.Entered.Wait(Patience, Ct), "the runner never completed");
        var late = Task.Run(() => runner.Post(ChaserInput.OfFill(new Fill(child, 9, 65_000.0m, 0.001m, 0m, "USDT", true, 0.011m, true, T0, T0))), Ct);
        await Task.WhenAny(late, Task.Delay(TimeSpan.FromMilliseconds(300), Ct));
        time.Release.Set();
        var result = await run.WaitAsync(Patience, Ct);
        await late.WaitAsync(Patience, Ct);
        await finishing.WaitAsync(Patience, Ct);

        Assert.Equal(result.FilledQuantity, result.Fills.Sum(f => f.Quantity));
        Assert.Equal(result.FilledNotional, result.Fills.Sum(f => f.Price * f.Quantity));

        // Whichever side of the result it fell on, the late fill is recorded, once.
        Assert.Equal([7L, 9L], recorder.FillTradeIds());
    }

    [Fact]
    public async Task A_fill_after_the_order_completed_is_recorded_in_its_completion_too()
    {
        // The fill reached the fills table but the order's stored totals stayed at the completion: 0.010 filled on
        // the order, 0.011 in its fills and at the exchange.
        var time = new GatedTime(new FakeTimeProvider(T0));
        time.Release.Set();
        var recorder = new FinishGatingRecorder(time);
        var connector = new SendingConnector(time);
        var options = new ChaserOptions();
        using var budget = new SymbolCancelBudget(options, time, _ => { });
        using var runner = new ParentOrderRunner(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.010m), ExecutionEngineTests.Btc, options, budget, connector, recorder, time, "host01");
        var run = runner.RunAsync(initialBudget: 1m);
        runner.Post(ChaserInput.OfBook("BTCUSDT", new BookTop(65_000.0m, 3m, 65_000.5m, 3m, 1, T0), time.GetTimestamp()));
        var child = await connector.FirstPlaced.Task.WaitAsync(Patience, Ct);
        runner.Post(ChaserInput.OfAccepted(new OrderAccepted(child, 1, 65_000.0m, 0.010m, false, T0, T0)));
        var fill = new Fill(child, 7, 65_000.0m, 0.010m, 0m, "USDT", true, 0.010m, true, T0, T0);
        runner.Post(ChaserInput.OfFill(fill));
        var result = await run.WaitAsync(Patience, Ct);

        time.Inner.Advance(TimeSpan.FromSeconds(5));
        runner.Post(ChaserInput.OfFill(fill with { TradeId = 9, Quantity = 0.001m, CumulativeQuantity = 0.011m }));
        runner.Post(ChaserInput.OfFill(fill with { TradeId = 9, Quantity = 0.001m, CumulativeQuantity = 0.011m }));

        var completions = recorder.Completions();
        Assert.Equal(2, completions.Length); // the duplicate changed nothing, and is not recorded again
        Assert.Equal((0.010m, 1), (result.FilledQuantity, result.Fills.Count));
        Assert.Equal((FinishReason.Filled, 0.011m, 65_000.0m * 0.011m, 2), (completions[^1].Status, completions[^1].FilledQuantity, completions[^1].FilledNotional, completions[^1].Fills.Count));
        Assert.Equal(result.CompletedAt, completions[^1].CompletedAt); // it completed when it did; only its totals moved
    }

    /// <summary>A clock whose first read on the armed thread, once armed, waits until released.</summary>
    private sealed class GatedTime(FakeTimeProvider inner) : TimeProvider
    {
        private int _armedThread;

        public FakeTimeProvider Inner => inner;

        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

        /// <summary>Arms the gate for the calling thread's next clock read.</summary>
        public void ArmOnThisThread() => Volatile.Write(ref _armedThread, Environment.CurrentManagedThreadId);

        public override DateTimeOffset GetUtcNow()
        {
            if (Environment.CurrentManagedThreadId == Volatile.Read(ref _armedThread)
                && Interlocked.CompareExchange(ref _armedThread, 0, Environment.CurrentManagedThreadId) == Environment.CurrentManagedThreadId)
            {
                Entered.Set();
                Release.Wait(Patience);
            }

            return inner.GetUtcNow();
        }

        public override long GetTimestamp() => inner.GetTimestamp();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            inner.CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>Arms the clock's gate when the finish is recorded: the runner's next clock read is in Complete.</summary>
    private sealed class FinishGatingRecorder(GatedTime time) : IExecutionRecorder
    {
        private readonly List<long> _fills = [];
        private readonly List<ExecutionResult> _completions = [];

        public ExecutionResult[] Completions()
        {
            lock (_completions)
            {
                return [.. _completions];
            }
        }

        public long[] FillTradeIds()
        {
            lock (_fills)
            {
                return [.. _fills];
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
            if (decision.Command.Kind == ChaserCommandKind.Finish)
            {
                time.ArmOnThisThread();
            }
        }

        public void Child(ChildOrderSnapshot child)
        {
        }

        public void Fill(FillRecord fill)
        {
            lock (_fills)
            {
                _fills.Add(fill.TradeId);
            }
        }

        public void OrderCompleted(ExecutionResult result)
        {
            lock (_completions)
            {
                _completions.Add(result);
            }
        }
    }

    /// <summary>Sends every request at once; says which child the first placement was.</summary>
    private sealed class SendingConnector(TimeProvider time) : IExchangeConnector
    {
        public TaskCompletionSource<string> FirstPlaced { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Submission Submit(in OrderRequest request)
        {
            if (request.Command.Kind == ChaserCommandKind.Place)
            {
                FirstPlaced.TrySetResult(request.Command.ClientOrderId);
            }

            return Submission.HandedOffAt(time.GetTimestamp());
        }

        public Task ConnectAsync(IExchangeEventSink sink, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<SymbolRules> GetSymbolRulesAsync(string symbol, CancellationToken cancellationToken) => Task.FromResult(ExecutionEngineTests.Btc);

        public Task SubscribeAsync(string symbol, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task CancelAllAsync(string symbol, string clientIdTag, CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
