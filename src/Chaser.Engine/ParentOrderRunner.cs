using System.Threading.Channels;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Replay;
using Chaser.Core.Rules;

namespace Chaser.Engine;

internal enum InboxKind
{
    Book,
    Depth,
    Trade,
    Accepted,
    Rejected,
    Fill,
    Finished,
    Unknown,
    Status,
    Lost,
    Restored,
    Timer,
    Budget,
    UserCancel,
}

/// <summary>One event for a parent order's loop. A struct so that queueing a market-data frame allocates nothing.</summary>
internal readonly struct InboxItem
{
    public InboxKind Kind { get; init; }

    public long ReceivedTimestamp { get; init; }

    public BookTop Book { get; init; }

    public DepthLevels? Depth { get; init; }

    public TradePrint Trade { get; init; }

    public OrderAccepted Accepted { get; init; }

    public OrderRejected Rejected { get; init; }

    public Fill Fill { get; init; }

    public OrderFinished Finished { get; init; }

    public RequestOutcomeUnknown Unknown { get; init; }

    public OrderStatusReport Status { get; init; }

    public ConnectionScope Scope { get; init; }

    public decimal Budget { get; init; }
}

/// <summary>
/// Works one parent order: feeds its chaser the events routed to it, one at a time on its own loop, hands the
/// resulting requests to the connector, records everything, and keeps the chaser's timer.
/// </summary>
internal sealed class ParentOrderRunner : IDisposable
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);

    private readonly ChaserStateMachine _machine;
    private readonly IExchangeConnector _connector;
    private readonly IExecutionRecorder _recorder;
    private readonly TimeProvider _time;
    private readonly ChaserOptions _options;
    private readonly string _clientIdTag;
    private readonly Channel<InboxItem> _inbox = Channel.CreateUnbounded<InboxItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<double> _latencies = [];
    private readonly List<FillRecord> _fills = [];
    private readonly Dictionary<string, (ChildState State, decimal Price, decimal Quantity, decimal Filled)> _childSnapshots = new(StringComparer.Ordinal);
    private readonly Lock _completion = new();
    private readonly ITimer _wakeTimer;
    private readonly ITimer _heartbeat;
    private decimal _arrivalMid;
    private decimal _lastMid;
    private decimal _lastBest;
    private DateTimeOffset _startedAt;
    private bool _completed;

    public ParentOrderRunner(ParentOrderSpec spec, SymbolRules rules, ChaserOptions options, CancellationRatioTracker tracker, IExchangeConnector connector, IExecutionRecorder recorder, TimeProvider time, string clientIdTag)
    {
        _machine = new ChaserStateMachine(spec, rules, options, tracker, clientIdTag);
        _connector = connector;
        _recorder = recorder;
        _time = time;
        _options = options;
        _clientIdTag = clientIdTag;
        _wakeTimer = time.CreateTimer(_ => Post(new InboxItem { Kind = InboxKind.Timer }), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _heartbeat = time.CreateTimer(_ => Post(new InboxItem { Kind = InboxKind.Timer }), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public ParentOrderSpec Spec => _machine.Spec;

    public SymbolRules Rules => _machine.Rules;

    /// <summary>A snapshot for progress displays: filled quantity, notional, resting price, status.</summary>
    public ExecutionProgress Progress { get; private set; } = new(0m, 0m, null, 0m, 0m, ParentStatus.Working);

    /// <summary>Queues an event; after the loop ended, late fills are still counted (never lost), the rest dropped.</summary>
    public void Post(in InboxItem item)
    {
        lock (_completion)
        {
            if (!_completed)
            {
                _inbox.Writer.TryWrite(item);
                return;
            }

            if (item.Kind == InboxKind.Fill)
            {
                CountFill(item.Fill);
            }
        }
    }

    public async Task<ExecutionResult> RunAsync(decimal initialBudget)
    {
        _startedAt = _time.GetUtcNow();
        _recorder.OrderStarted(Spec, _startedAt);
        _recorder.MachineStarted(new ReplayStart(Spec, Rules, _options, _clientIdTag, _startedAt, initialBudget));
        _heartbeat.Change(Heartbeat, Heartbeat);
        if (initialBudget < 1m)
        {
            _machine.OnRateBudget(initialBudget, _startedAt);
        }

        Execute(_machine.Start(_startedAt), receivedTimestamp: 0);
        while (_machine.Status != ParentStatus.Finished && await _inbox.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (_machine.Status != ParentStatus.Finished && _inbox.Reader.TryRead(out var item))
            {
                Handle(item);
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
                if (late.Kind == InboxKind.Fill)
                {
                    CountFill(late.Fill);
                }
            }
        }

        var result = Result();
        _recorder.OrderCompleted(result);
        return result;
    }

    /// <summary>The result as it stands (used again after late fills).</summary>
    public ExecutionResult Result() => new()
    {
        Spec = Spec,
        Status = _machine.FinishReason,
        Detail = _machine.FinishDetail,
        FilledQuantity = _machine.FilledQuantity,
        FilledNotional = _machine.FilledNotional,
        Fees = _machine.Fees,
        ArrivalMid = _arrivalMid,
        StartedAt = _startedAt,
        CompletedAt = _time.GetUtcNow(),
        ChildOrders = _machine.Children.Count(c => !c.WasRejected),
        Modifies = _machine.Modifies,
        Cancels = _machine.Cancels,
        PostOnlyRejects = _machine.PostOnlyRejects,
        Fills = _fills.ToArray(),
        Latency = LatencySummary.Of(_latencies),
    };

    public void Dispose()
    {
        _wakeTimer.Dispose();
        _heartbeat.Dispose();
    }

    private void Handle(in InboxItem item)
    {
        var now = _time.GetUtcNow();
        _recorder.MachineInput(Spec.Id, Recorded(item, now));
        string? clientOrderId = null;
        ChaserDecisions decisions;
        switch (item.Kind)
        {
            case InboxKind.Book:
                RecordBook(item.Book, now);
                decisions = _machine.OnBookTop(item.Book, now);
                break;
            case InboxKind.Depth:
                decisions = _machine.OnDepth(item.Depth!, now);
                break;
            case InboxKind.Trade:
                _recorder.MarketTrade(new MarketTradeSample(Spec.Id, item.Trade.Price, item.Trade.Quantity, item.Trade.BuyerIsMaker, item.Trade.ExchangeTime, now));
                decisions = _machine.OnTrade(item.Trade with { Time = now });
                break;
            case InboxKind.Accepted:
                clientOrderId = item.Accepted.ClientOrderId;
                decisions = _machine.OnAccepted(item.Accepted with { Time = now });
                break;
            case InboxKind.Rejected:
                clientOrderId = item.Rejected.ClientOrderId;
                decisions = _machine.OnRejected(item.Rejected with { Time = now });
                break;
            case InboxKind.Fill:
                clientOrderId = item.Fill.ClientOrderId;
                decisions = CountFill(item.Fill with { Time = now });
                break;
            case InboxKind.Finished:
                clientOrderId = item.Finished.ClientOrderId;
                decisions = _machine.OnOrderFinished(item.Finished with { Time = now });
                break;
            case InboxKind.Unknown:
                clientOrderId = item.Unknown.ClientOrderId;
                decisions = _machine.OnOutcomeUnknown(item.Unknown with { Time = now });
                break;
            case InboxKind.Status:
                clientOrderId = item.Status.ClientOrderId;
                decisions = _machine.OnStatusReport(item.Status with { Time = now });
                break;
            case InboxKind.Lost:
                decisions = _machine.OnConnectivityLost(item.Scope, now);
                break;
            case InboxKind.Restored:
                decisions = _machine.OnConnectivityRestored(item.Scope, now);
                break;
            case InboxKind.Budget:
                decisions = _machine.OnRateBudget(item.Budget, now);
                break;
            case InboxKind.UserCancel:
                decisions = _machine.OnUserCancel(now);
                break;
            default:
                decisions = _machine.OnTimer(now);
                break;
        }

        Execute(decisions, item.ReceivedTimestamp);
        RecordChildren(clientOrderId, now);
        Progress = new ExecutionProgress(
            _machine.FilledQuantity,
            _machine.FilledNotional,
            _machine.OpenChild?.Price,
            _lastMid,
            _arrivalMid,
            _machine.Status)
        {
            BestPrice = _lastBest,
            Fills = _fills.Count,
        };
        ScheduleWake(now);
    }

    /// <summary>The input as the machine is handed it below, for <c>chaser replay</c>.</summary>
    private static RecordedInput Recorded(in InboxItem item, DateTimeOffset now) => new()
    {
        Kind = item.Kind switch
        {
            InboxKind.Book => EventKind.BookTop,
            InboxKind.Depth => EventKind.Depth,
            InboxKind.Trade => EventKind.Trade,
            InboxKind.Accepted => EventKind.Accepted,
            InboxKind.Rejected => EventKind.Rejected,
            InboxKind.Fill => EventKind.Fill,
            InboxKind.Finished => EventKind.OrderFinished,
            InboxKind.Unknown => EventKind.OutcomeUnknown,
            InboxKind.Status => EventKind.StatusReport,
            InboxKind.Lost => EventKind.ConnectivityLost,
            InboxKind.Restored => EventKind.ConnectivityRestored,
            InboxKind.Budget => EventKind.RateBudget,
            InboxKind.UserCancel => EventKind.UserCancel,
            _ => EventKind.Timer,
        },
        Time = now,
        Book = item.Book,
        Depth = item.Depth,
        Trade = item.Trade,
        Accepted = item.Accepted,
        Rejected = item.Rejected,
        Fill = item.Fill,
        Finished = item.Finished,
        Unknown = item.Unknown,
        Status = item.Status,
        Scope = item.Scope,
        Budget = item.Budget,
    };

    private ChaserDecisions CountFill(in Fill fill)
    {
        var before = _machine.FillCount;
        var decisions = _machine.OnFill(fill);
        if (_machine.FillCount != before)
        {
            var record = new FillRecord(Spec.Id, fill.ClientOrderId, fill.TradeId, fill.Price, fill.Quantity, fill.Fee, fill.FeeAsset, fill.IsMaker, fill.ExchangeTime, fill.Time);
            _fills.Add(record);
            _recorder.Fill(record);
        }

        return decisions;
    }

    private void RecordBook(in BookTop book, DateTimeOffset now)
    {
        if (!book.IsSane)
        {
            return;
        }

        var mid = book.Mid;
        _lastBest = Spec.Side == Side.Buy ? book.Bid : book.Ask;
        if (_arrivalMid == 0)
        {
            _arrivalMid = mid;
            _recorder.ArrivalMid(Spec.Id, mid, now);
        }

        if (mid != _lastMid)
        {
            _lastMid = mid;
            _recorder.Mid(new MidSample(Spec.Id, book.Bid, book.Ask, book.ExchangeTime, now));
        }
    }

    private void Execute(ChaserDecisions decisions, long receivedTimestamp)
    {
        foreach (var command in decisions)
        {
            double? latency = null;
            if (command.Kind != ChaserCommandKind.Finish)
            {
                var sentTimestamp = _connector.Submit(new OrderRequest(command, Spec.Symbol, Rules, Spec.ReduceOnly));
                if (receivedTimestamp != 0)
                {
                    latency = _time.GetElapsedTime(receivedTimestamp, sentTimestamp).TotalMicroseconds;
                    _latencies.Add(latency.Value);
                }
            }

            _recorder.Decision(new DecisionRecord(Spec.Id, _time.GetUtcNow(), command, latency));
        }
    }

    private void RecordChildren(string? clientOrderId, DateTimeOffset now)
    {
        // Only the children this event can have touched: the one it names, the open one, the newest.
        var children = _machine.Children;
        if (children.Count == 0)
        {
            return;
        }

        RecordChild(children[^1], now);
        if (_machine.OpenChild is { } open && !ReferenceEquals(open, children[^1]))
        {
            RecordChild(open, now);
        }

        if (clientOrderId is not null)
        {
            foreach (var child in children)
            {
                if (string.Equals(child.ClientOrderId, clientOrderId, StringComparison.Ordinal))
                {
                    RecordChild(child, now);
                    break;
                }
            }
        }
    }

    private void RecordChild(ChildOrder child, DateTimeOffset now)
    {
        var snapshot = (child.State, child.Price, child.Quantity, child.FilledQuantity);
        if (_childSnapshots.TryGetValue(child.ClientOrderId, out var previous) && previous == snapshot)
        {
            return;
        }

        _childSnapshots[child.ClientOrderId] = snapshot;
        _recorder.Child(Spec.Id, child, now);
    }

    private void ScheduleWake(DateTimeOffset now)
    {
        if (_machine.NextWakeUp is { } wake)
        {
            var due = wake - now;
            _wakeTimer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }
}

/// <summary>Where a parent order stands, for progress displays.</summary>
public sealed record ExecutionProgress(decimal FilledQuantity, decimal FilledNotional, decimal? RestingPrice, decimal Mid, decimal ArrivalMid, ParentStatus Status)
{
    /// <summary>The best price on our side (bid for a buy, ask for a sell): where the child should rest.</summary>
    public decimal BestPrice { get; init; }

    public int Fills { get; init; }
}
