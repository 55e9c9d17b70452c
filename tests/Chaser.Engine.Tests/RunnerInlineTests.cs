using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Replay;
using Chaser.Core.Rules;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>
/// The live runner handles an input on the posting thread when the order is idle (no thread-pool wake-up between the
/// socket and the decision), and still one input at a time, in the order posted, none lost, never inside its gateway.
/// </summary>
public class RunnerInlineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void An_input_posted_while_the_order_is_idle_is_handled_on_the_posting_thread_before_Post_returns()
    {
        // Each input woke the order's loop on the thread pool: 10 µs to milliseconds between the socket and the
        // decision on a busy machine, the larger part of the engine's hop (p50 121 µs, p99 6 ms at 200 orders).
        var time = new FakeTimeProvider(T0);
        var connector = new Connector(time);
        using var runner = Runner(time, connector, new Recorder());
        _ = runner.RunAsync(initialBudget: 1m);

        runner.Post(Book(65_000.0m, 1, time));

        var place = Assert.Single(connector.Submitted);
        Assert.Equal((ChaserCommandKind.Place, Environment.CurrentManagedThreadId), (place.Kind, place.Thread));
    }

    [Fact]
    public async Task Many_threads_posting_at_once_have_every_input_handled_once_one_at_a_time_and_in_each_threads_order()
    {
        var time = new FakeTimeProvider(T0);
        var connector = new Connector(time);
        var recorder = new Recorder();
        using var runner = Runner(time, connector, recorder);
        _ = runner.RunAsync(initialBudget: 1m);
        runner.Post(Book(65_000.0m, 1, time));
        runner.Post(ChaserInput.OfAccepted(new OrderAccepted(connector.Submitted[0].ClientOrderId, 1, 65_000.0m, 0.010m, false, T0, T0)));

        const int Threads = 4;
        const int PerThread = 2_000;
        using var start = new Barrier(Threads);
        var posters = Enumerable.Range(1, Threads).Select(thread => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(Ct);
            for (var seq = 1; seq <= PerThread; seq++)
            {
                // A print says who sent it (price) and its place in that thread's sequence (quantity); every 50th a
                // book that re-prices, so the gateway is entered from whichever thread holds the order.
                runner.Post(ChaserInput.OfTrade("BTCUSDT", new TradePrint(thread, seq, false, T0, T0)));
                if (seq % 50 == 0)
                {
                    runner.Post(Book(65_000.0m + (thread * 0.1m), 1 + seq, time));
                }
            }
        }, Ct, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        await Task.WhenAll(posters).WaitAsync(Patience, Ct);

        Assert.Equal(0, recorder.Overlaps);
        Assert.Equal(0, connector.Overlaps);
        var prints = recorder.Prints();
        Assert.Equal(Threads * PerThread, prints.Count); // none lost, none twice
        for (var thread = 1; thread <= Threads; thread++)
        {
            Assert.Equal(Enumerable.Range(1, PerThread).Select(s => (decimal)s), prints.Where(p => p.Price == thread).Select(p => p.Quantity));
        }
    }

    [Fact]
    public void An_input_the_gateway_posts_from_inside_Submit_is_handled_after_the_submit_never_inside_it()
    {
        // The connector's rate guard answers a refused request with a retryable reject, posted from inside Submit.
        var time = new FakeTimeProvider(T0);
        var recorder = new Recorder();
        ParentOrderRunner? runner = null;
        var handledInside = false;
        var connector = new Connector(time)
        {
            Recorder = recorder,
            OnSubmit = (request, _) =>
            {
                runner!.Post(ChaserInput.OfRejected(new OrderRejected(request.Command.ClientOrderId, RequestKind.Place, RejectKind.Retryable, -1015, "order rate limit", T0)));
                handledInside |= recorder.Kinds().Contains(EventKind.Rejected);
            },
        };
        runner = Runner(time, connector, recorder);
        using (runner)
        {
            _ = runner.RunAsync(initialBudget: 1m);
            runner.Post(Book(65_000.0m, 1, time));

            Assert.Equal(0, connector.Overlaps);
            Assert.False(handledInside, "the host was entered again from inside its gateway's Submit");
            Assert.Equal(EventKind.BookTop, connector.Submitted[0].InputsHandled[^1]);
            Assert.Equal([EventKind.BookTop, EventKind.Rejected], recorder.Kinds().TakeLast(2)); // and was, right after
        }
    }

    [Fact]
    public async Task An_input_for_another_order_posted_from_inside_a_Submit_is_handled_off_that_thread_not_inside_it()
    {
        // The cancel budget and the rate budget reach every order from inside one order's Submit: handled inline,
        // the other order ran (and sent, and published) inside that request, the connector's Submit entered twice.
        var time = new FakeTimeProvider(T0);
        var otherRecorder = new Recorder();
        using var other = Runner(time, new Connector(time), otherRecorder);
        _ = other.RunAsync(initialBudget: 1m);
        var handledInside = true;
        var connector = new Connector(time)
        {
            OnSubmit = (_, _) =>
            {
                other.Post(ChaserInput.OfRateBudget(0.5m));
                handledInside = otherRecorder.Kinds().Contains(EventKind.RateBudget);
            },
        };
        using var runner = Runner(time, connector, new Recorder());
        _ = runner.RunAsync(initialBudget: 1m);

        runner.Post(Book(65_000.0m, 1, time));

        Assert.False(handledInside, "the other order was worked inside this one's Submit");
        var deadline = DateTime.UtcNow + Patience;
        while (!otherRecorder.Kinds().Contains(EventKind.RateBudget) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5, Ct);
        }

        Assert.Contains(EventKind.RateBudget, otherRecorder.Kinds()); // and it was handled, on the pool
    }

    [Fact]
    public async Task A_fill_posted_while_another_thread_hands_a_request_off_waits_in_the_inbox_and_that_thread_handles_it()
    {
        var time = new FakeTimeProvider(T0);
        var recorder = new Recorder();
        using var inSubmit = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var connector = new Connector(time)
        {
            OnSubmit = (request, _) =>
            {
                inSubmit.Set();
                release.Wait(Patience);
            },
        };
        using var runner = Runner(time, connector, recorder);
        _ = runner.RunAsync(initialBudget: 1m);
        var socket = Task.Factory.StartNew(() => runner.Post(Book(65_000.0m, 1, time)), Ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(inSubmit.Wait(Patience, Ct), "the place never reached the gateway");

        // Another stream's thread delivers a fill of it meanwhile: it must neither wait for the hand-off nor enter the host.
        var child = connector.Submitted[0].ClientOrderId;
        var poster = Task.Run(() => runner.Post(ChaserInput.OfFill(new Fill(child, 7, 65_000.0m, 0.004m, 0m, "USDT", true, 0.004m, false, T0, T0))), Ct);
        await poster.WaitAsync(Patience, Ct);
        Assert.Empty(recorder.FillIds());

        release.Set();
        await socket.WaitAsync(Patience, Ct);
        Assert.Equal([7L], recorder.FillIds()); // handled before the thread holding the order let go
    }

    [Fact]
    public void A_held_back_reprice_sent_by_the_wake_timer_has_its_hop_measured_from_the_timers_firing()
    {
        var time = new FakeTimeProvider(T0);
        var connector = new Connector(time);
        var recorder = new Recorder();
        using var runner = Runner(time, connector, recorder);
        _ = runner.RunAsync(initialBudget: 1m);
        runner.Post(Book(65_000.0m, 1, time));
        runner.Post(ChaserInput.OfAccepted(new OrderAccepted(connector.Submitted[0].ClientOrderId, 1, 65_000.0m, 0.010m, false, T0, T0)));
        time.Advance(TimeSpan.FromMilliseconds(50));
        runner.Post(Book(65_000.2m, 2, time)); // stale, but within the minimum re-price interval: held back

        time.Advance(TimeSpan.FromMilliseconds(150)); // the wake timer fires and the re-price goes out

        var modify = Assert.Single(recorder.Decisions(), d => d.Command.Kind == ChaserCommandKind.Modify);
        Assert.Equal(EventKind.Timer, modify.Command.Cause.Trigger);
        Assert.Equal((150_000d, 0d), (modify.TickToOrderMicroseconds, modify.HopMicroseconds)); // the wait is in the first only
    }

    [Fact]
    public async Task An_order_that_ends_at_its_start_completes_with_nothing_posted_to_it()
    {
        // Its deadline already passed: the chaser finishes at the start, and no input will ever come to end the loop.
        var time = new FakeTimeProvider(T0);
        using var runner = Runner(time, new Connector(time), new Recorder(), new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.010m) { Deadline = T0 });

        var result = await runner.RunAsync(initialBudget: 1m).WaitAsync(Patience, Ct);

        Assert.Equal(FinishReason.Expired, result.Status);
    }

    private static ParentOrderRunner Runner(FakeTimeProvider time, Connector connector, Recorder recorder, ParentOrderSpec? spec = null)
    {
        var options = new ChaserOptions();
        var budget = new SymbolCancelBudget(options, time, _ => { });
        return new ParentOrderRunner(spec ?? new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.010m), ExecutionEngineTests.Btc, options, budget, connector, recorder, time, "host01");
    }

    private static ChaserInput Book(decimal bid, long updateId, FakeTimeProvider time) =>
        ChaserInput.OfBook("BTCUSDT", new BookTop(bid, 3m, bid + 0.5m, 3m, updateId, time.GetUtcNow()), time.GetTimestamp());

    private sealed record Submitted(ChaserCommandKind Kind, string ClientOrderId, int Thread, EventKind[] InputsHandled);

    /// <summary>Sends at once (the hand-off at the clock's reading); notes any overlapping or re-entered Submit.</summary>
    private sealed class Connector(TimeProvider time) : IExchangeConnector
    {
        private int _inside;

        public Action<OrderRequest, int>? OnSubmit { get; init; }

        /// <summary>Whose inputs so far each submission notes (what the host had handled when it submitted).</summary>
        public Recorder? Recorder { get; init; }

        public List<Submitted> Submitted { get; } = [];

        public int Overlaps { get; private set; }

        public Submission Submit(in OrderRequest request)
        {
            if (Interlocked.Increment(ref _inside) != 1)
            {
                Overlaps++;
            }

            try
            {
                lock (Submitted)
                {
                    Submitted.Add(new Submitted(request.Command.Kind, request.Command.ClientOrderId, Environment.CurrentManagedThreadId, Recorder?.Kinds() ?? []));
                }

                OnSubmit?.Invoke(request, Submitted.Count);
                return Submission.HandedOffAt(time.GetTimestamp());
            }
            finally
            {
                Interlocked.Decrement(ref _inside);
            }
        }

        public Task ConnectAsync(IExchangeEventSink sink, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<SymbolRules> GetSymbolRulesAsync(string symbol, CancellationToken cancellationToken) => Task.FromResult(ExecutionEngineTests.Btc);

        public Task SubscribeAsync(string symbol, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task CancelAllAsync(string symbol, string clientIdTag, CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Keeps the inputs handed to the machine and the decisions; counts two inputs handled at once.</summary>
    private sealed class Recorder : IExecutionRecorder
    {
        private readonly List<ChaserInput> _inputs = [];
        private readonly List<DecisionRecord> _decisions = [];
        private readonly List<long> _fills = [];
        private int _inside;

        public int Overlaps { get; private set; }

        public List<TradePrint> Prints()
        {
            lock (_inputs)
            {
                return [.. _inputs.Where(i => i.Kind == EventKind.Trade).Select(i => i.Trade)];
            }
        }

        public EventKind[] Kinds()
        {
            lock (_inputs)
            {
                return [.. _inputs.Select(i => i.Kind)];
            }
        }

        public DecisionRecord[] Decisions()
        {
            lock (_decisions)
            {
                return [.. _decisions];
            }
        }

        public long[] FillIds()
        {
            lock (_fills)
            {
                return [.. _fills];
            }
        }

        public void MachineInput(long parentId, DateTimeOffset time, in ChaserInput input)
        {
            if (Interlocked.Increment(ref _inside) != 1)
            {
                Overlaps++;
            }

            lock (_inputs)
            {
                _inputs.Add(input);
            }

            Thread.SpinWait(20); // widen the window two handlers at once would share
            Interlocked.Decrement(ref _inside);
        }

        public void Decision(DecisionRecord decision)
        {
            lock (_decisions)
            {
                _decisions.Add(decision);
            }
        }

        public void Fill(FillRecord fill)
        {
            lock (_fills)
            {
                _fills.Add(fill.TradeId);
            }
        }

        public void OrderStarted(ParentOrderSpec spec, DateTimeOffset time)
        {
        }

        public void MachineStarted(ReplayStart start)
        {
        }

        public void ArrivalMid(long parentId, decimal mid, DateTimeOffset time)
        {
        }

        public void Mid(MidSample sample)
        {
        }

        public void Child(ChildOrderSnapshot child)
        {
        }

        public void OrderCompleted(ExecutionResult result)
        {
        }
    }
}
