using System.Threading.Channels;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Core.Rules;

namespace Chaser.Engine;

/// <summary>
/// Works one parent order live: its <see cref="OrderHost"/> behind an inbox, so that the inputs routed to it are
/// handled one at a time on its own loop, and the timers that wake its chaser.
/// </summary>
internal sealed class ParentOrderRunner : IDisposable
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);

    private readonly OrderHost _host;
    private readonly TimeProvider _time;
    private readonly Channel<ChaserInput> _inbox = Channel.CreateUnbounded<ChaserInput>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _completion = new();
    private readonly ITimer _wakeTimer;
    private readonly ITimer _heartbeat;
    private bool _completed;

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
    /// Queues an input; after the loop ended, late fills are still counted (never lost) and the order's completion
    /// recorded again with them, the rest dropped.
    /// </summary>
    public void Post(in ChaserInput input)
    {
        lock (_completion)
        {
            if (!_completed)
            {
                _inbox.Writer.TryWrite(input);
                return;
            }

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
        }
    }

    public async Task<ExecutionResult> RunAsync(decimal initialBudget)
    {
        _heartbeat.Change(Heartbeat, Heartbeat);
        _host.Start(initialBudget);
        ScheduleWake();
        while (!_host.IsFinished && await _inbox.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (!_host.IsFinished && _inbox.Reader.TryRead(out var input))
            {
                _host.Handle(input);
                ScheduleWake();
            }
        }

        _heartbeat.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _wakeTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        lock (_completion)
        {
            _completed = true;
            // Fills already queued behind the finish are counted, not lost.
            while (_inbox.Reader.TryRead(out var late))
            {
                if (late.Kind == EventKind.Fill)
                {
                    _host.Handle(late);
                }
            }

            // Built under the lock a late fill is handled under: its totals and its fills are of the same fills.
            return _host.Complete();
        }
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
