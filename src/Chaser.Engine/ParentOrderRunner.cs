using System.Collections.Concurrent;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Core.Rules;

namespace Chaser.Engine;

/// <summary>
/// Works one parent order live: its <see cref="OrderHost"/> behind an inbox, so that the inputs routed to it are
/// handled one at a time and in the order they were posted, and the timers that wake its chaser. An input posted while
/// nobody is handling this order's inputs is handled at once on the posting thread (the socket's receive loop, a
/// timer): waking a thread-pool loop for each input costs 10 µs to milliseconds on a busy machine, the larger part of
/// the engine's hop. Whoever handles takes the drain flag; an input posted meanwhile waits in the inbox and the holder
/// handles it before letting go, so the host is never entered twice at once (nor from inside its gateway's
/// <see cref="IOrderGateway.Submit"/>, whose own inputs queue behind the one being handled). What a thread posts while
/// it handles some order's input (a rate or cancel budget change reaching every order of the symbol) goes to the
/// thread pool instead: no order is worked inside another's request.
/// </summary>
internal sealed class ParentOrderRunner : IDisposable
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);

    private readonly OrderHost _host;
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<ChaserInput> _inbox = new();
    private readonly Lock _completion = new();
    private readonly ITimer _wakeTimer;
    private readonly ITimer _heartbeat;
    private readonly TaskCompletionSource<ExecutionResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _completed;
    private bool _failed;

    // Whether this thread is handling an order's input now (any order's): what it posts is not handled inline.
    [ThreadStatic]
    private static bool t_handling;

    // 1 while a thread handles this order's inputs (or before the start, or for good after the end), 0 when idle.
    private int _draining = 1;

    public ParentOrderRunner(ParentOrderSpec spec, SymbolRules rules, ChaserOptions options, SymbolCancelBudget cancelBudget, IExchangeConnector connector, IExecutionRecorder recorder, TimeProvider time, string clientIdTag)
    {
        _host = new OrderHost(new ChaserStateMachine(spec, rules, options, clientIdTag), new CancelBudgetedGateway(connector, cancelBudget), recorder, time);
        _time = time;
        // A timer's input is received when it fires: what it decides is measured from then.
        _wakeTimer = time.CreateTimer(_ => Post(ChaserInput.Timer.ReceivedAt(time.GetTimestamp())), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _heartbeat = time.CreateTimer(_ => Post(ChaserInput.Timer.ReceivedAt(time.GetTimestamp())), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public ParentOrderSpec Spec => _host.Spec;

    public SymbolRules Rules => _host.Rules;

    /// <inheritdoc cref="OrderHost.Progress"/>
    public ExecutionProgress Progress => _host.Progress;

    /// <summary>
    /// Queues an input and, when no one is handling this order's inputs, handles it (and what queued meanwhile) on
    /// this thread. After the order ended, late fills are still counted (never lost) and the order's completion
    /// recorded again with them, the rest dropped.
    /// </summary>
    public void Post(in ChaserInput input) => Post(input, handleHere: !t_handling);

    /// <summary>
    /// As <c>Post</c>, but never handled on this thread: an idle order is woken on the thread pool. For a change a
    /// publisher hands every order while it holds its own lock (a symbol's cancel budget, the account's rate budget):
    /// handled here, an order's request would publish the next change from inside this one's delivery, and the orders
    /// after it in the loop would get the older value last.
    /// </summary>
    public void PostQueued(in ChaserInput input) => Post(input, handleHere: false);

    private void Post(in ChaserInput input, bool handleHere)
    {
        lock (_completion)
        {
            if (_failed)
            {
                return;
            }

            if (!_completed)
            {
                _inbox.Enqueue(input);
            }
            else
            {
                if (input.Kind == EventKind.Fill)
                {
                    var counted = _host.Progress.Fills;
                    _host.Handle(input);
                    if (_host.Progress.Fills != counted)
                    {
                        // The fill is in the order's fills: its recorded totals follow, or they would say less than was filled.
                        _host.Complete();
                    }
                }

                return;
            }
        }

        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            if (handleHere)
            {
                Drain();
            }
            else
            {
                // Posted from inside another order's handling (its gateway's rate budget or cancel budget reaching
                // every order), or by a publisher under its lock: handled here, this order would run inside that
                // one's Submit and publish.
                ThreadPool.UnsafeQueueUserWorkItem(static runner => runner.Drain(), this, preferLocal: false);
            }
        }
    }

    /// <summary>Starts the order on this thread, then handles its inputs as they come; the task ends with its result.</summary>
    public Task<ExecutionResult> RunAsync(decimal initialBudget)
    {
        _heartbeat.Change(Heartbeat, Heartbeat);
        var outer = t_handling;
        t_handling = true;
        try
        {
            _host.Start(initialBudget);
            ScheduleWake();
        }
        catch (Exception e)
        {
            Fail(e);
            return _result.Task;
        }
        finally
        {
            t_handling = outer;
        }

        // Held since construction: what was posted before the start (the latest book, a cancel) is handled now, after it.
        Drain();
        return _result.Task;
    }

    /// <summary>
    /// Handles what is queued, holding the drain flag; lets go only when the inbox is empty, and takes it back when an
    /// input slipped in between the last read and the letting go (its poster saw the flag still held and left it).
    /// </summary>
    private void Drain()
    {
        var outer = t_handling;
        t_handling = true;
        try
        {
            do
            {
                while (true)
                {
                    // Checked before each input too: an order can end at its start, with nothing more to come.
                    if (_host.IsFinished)
                    {
                        Finish();
                        return; // the flag stays held: nothing is handled on the loop any more
                    }

                    if (!_inbox.TryDequeue(out var input))
                    {
                        break;
                    }

                    _host.Handle(input);
                    ScheduleWake();
                }

                // A full fence, not a plain store: the emptiness check below must not be read before the flag is let go.
                Interlocked.Exchange(ref _draining, 0);
            }
            while (!_inbox.IsEmpty && Interlocked.CompareExchange(ref _draining, 1, 0) == 0);
        }
        catch (Exception e)
        {
            // A fault of the order's handling ends this order, never the socket or timer thread that posted.
            Fail(e);
        }
        finally
        {
            t_handling = outer;
        }
    }

    private void Finish()
    {
        _heartbeat.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _wakeTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        ExecutionResult result;
        lock (_completion)
        {
            _completed = true;
            // Fills already queued behind the finish are counted, not lost.
            while (_inbox.TryDequeue(out var late))
            {
                if (late.Kind == EventKind.Fill)
                {
                    _host.Handle(late);
                }
            }

            // Built under the lock a late fill is handled under: its totals and its fills are of the same fills.
            result = _host.Complete();
        }

        _result.TrySetResult(result);
    }

    private void Fail(Exception e)
    {
        _heartbeat.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _wakeTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        lock (_completion)
        {
            // The order's state can't be trusted after a fault: nothing more is handled, not even a late fill.
            _failed = true;
            _inbox.Clear();
        }

        Volatile.Write(ref _draining, 1);
        _result.TrySetException(e);
    }

    public void Dispose()
    {
        _wakeTimer.Dispose();
        _heartbeat.Dispose();
    }

    private void ScheduleWake()
    {
        if (_host.NextWakeUp is { } wake)
        {
            var due = wake - _time.GetUtcNow();
            _wakeTimer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }
}

/// <summary>
/// The connector, with every request recorded to the symbol's cancel budget just before it leaves (a restriction it
/// causes reaches every order on the symbol ahead of the request's answer) and taken back when it was refused.
/// </summary>
internal sealed class CancelBudgetedGateway(IOrderGateway connector, SymbolCancelBudget budget) : IOrderGateway
{
    public Submission Submit(in OrderRequest request)
    {
        // Recorded before it leaves, taken back when the rate guard refused it: a placement never sent would count in
        // our ratio's denominator and not in Binance's, letting ours understate it.
        var recordedAt = budget.Record(request.Command);
        var submission = connector.Submit(request);
        if (recordedAt is { } at)
        {
            budget.Settle(request.Command, at, submission.Sent);
        }

        return submission;
    }
}
