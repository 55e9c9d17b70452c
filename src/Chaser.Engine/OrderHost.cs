using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Replay;
using Chaser.Core.Rules;

namespace Chaser.Engine;

/// <summary>
/// One parent order's handling, the same live and in a backtest: it owns the order's chaser, takes one input at a
/// time (on the time of the <see cref="TimeProvider"/> it is given), hands the commands to its gateway, records
/// everything, keeps the progress and builds the result. Synchronous and single-threaded: the live
/// <c>ParentOrderRunner</c> calls it from its loop, the backtester from its virtual-time scheduler; neither may
/// call it from inside the gateway's <see cref="IOrderGateway.Submit"/>.
/// </summary>
public sealed class OrderHost
{
    private readonly ChaserStateMachine _machine;
    private readonly IOrderGateway _gateway;
    private readonly IExecutionRecorder _recorder;
    private readonly TimeProvider _time;
    private readonly List<double> _latencies = [];
    private readonly List<double> _hops = [];
    private readonly List<FillRecord> _fills = [];
    private readonly Dictionary<string, (ChildState State, decimal Price, decimal Quantity, decimal Filled)> _childSnapshots = new(StringComparer.Ordinal);
    private readonly Lock _progressLock = new();
    private ProgressState _progress = new(0m, 0m, null, 0m, 0m, ParentStatus.Working, 0m, 0);
    private decimal _arrivalMid;
    private decimal _lastMid;
    private decimal _lastBest;
    private DateTimeOffset _startedAt;
    private DateTimeOffset? _completedAt;

    // The received timestamp of the price frame after which the open child stopped being where the chaser wants it
    // (0: it is there, or no frame said so): the re-price that follows, whenever it goes out (a timer's included), is
    // measured from it.
    private long _staleSince;
    private bool _repriceSent;

    public OrderHost(ChaserStateMachine machine, IOrderGateway gateway, IExecutionRecorder recorder, TimeProvider time)
    {
        _machine = machine ?? throw new ArgumentNullException(nameof(machine));
        _gateway = gateway ?? throw new ArgumentNullException(nameof(gateway));
        _recorder = recorder ?? throw new ArgumentNullException(nameof(recorder));
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    public ParentOrderSpec Spec => _machine.Spec;

    public SymbolRules Rules => _machine.Rules;

    /// <summary>The chaser is final (late fills are still counted by <see cref="Handle"/>).</summary>
    public bool IsFinished => _machine.Status == ParentStatus.Finished;

    /// <summary>When the chaser wants a <see cref="ChaserInput.Timer"/> (null: only events matter).</summary>
    public DateTimeOffset? NextWakeUp => _machine.NextWakeUp;

    /// <summary>A snapshot for progress displays: filled quantity, notional, resting price, status.</summary>
    public ExecutionProgress Progress
    {
        get
        {
            // Made when asked (a display, the API, a few times a second), not for every input: read across threads,
            // kept as one value under a lock so it is never seen half-updated.
            ProgressState state;
            lock (_progressLock)
            {
                state = _progress;
            }

            return new ExecutionProgress(state.FilledQuantity, state.FilledNotional, state.RestingPrice, state.Mid, state.ArrivalMid, state.Status)
            {
                BestPrice = state.BestPrice,
                Fills = state.Fills,
            };
        }
    }

    /// <summary>
    /// Starts the order now: recorded (with what its chaser was built from, for a replay), given the account's rate
    /// budget as it stands, then the chaser's start.
    /// </summary>
    public void Start(decimal initialBudget)
    {
        _startedAt = _time.GetUtcNow();
        _recorder.OrderStarted(Spec, _startedAt);
        _recorder.MachineStarted(ReplayStart.Of(_machine, _startedAt, initialBudget));
        // The start is an input like any other: the first child's hop is measured from it.
        if (initialBudget < 1m)
        {
            Apply(ChaserInput.OfRateBudget(initialBudget).ReceivedAt(_time.GetTimestamp()), _startedAt);
        }

        Apply(ChaserInput.Start.ReceivedAt(_time.GetTimestamp()), _startedAt);
    }

    /// <summary>
    /// The one entry point for every input: recorded as the chaser's input (while it works: a replay feeds a
    /// finished chaser nothing), applied to the chaser, its commands sent and recorded.
    /// </summary>
    public void Handle(in ChaserInput input)
    {
        var now = _time.GetUtcNow();
        if (!IsFinished)
        {
            _recorder.MachineInput(Spec.Id, now, input);
        }

        Apply(input, now);
    }

    private void Apply(in ChaserInput input, DateTimeOffset now)
    {
        Observe(input, now);
        var fillsBefore = _machine.FillCount;
        var decisions = _machine.Apply(input, now);
        if (input.Kind == EventKind.Fill && _machine.FillCount != fillsBefore)
        {
            // Counted once by trade id: a duplicate delivery changes nothing and is not recorded again.
            var fill = input.Fill;
            var record = new FillRecord(Spec.Id, fill.ClientOrderId, fill.TradeId, fill.Price, fill.Quantity, fill.Fee, fill.FeeAsset, fill.IsMaker, fill.ExchangeTime, now);
            _fills.Add(record);
            _recorder.Fill(record);
        }

        Execute(decisions, input);
        TrackStaleness(input);
        RecordChildren(input.ClientOrderId, now);
        var progress = new ProgressState(_machine.FilledQuantity, _machine.FilledNotional, _machine.OpenChild?.Price, _lastMid, _arrivalMid, _machine.Status, _lastBest, _fills.Count);
        lock (_progressLock)
        {
            _progress = progress;
        }
    }

    /// <summary>
    /// The result as it stands, recorded as the order's end (again after a late fill: the same end time, new totals).
    /// A host that stops before the chaser finished (a backtest whose data ran out) ends the order expired, with
    /// <paramref name="stoppedBecause"/> as the detail.
    /// </summary>
    public ExecutionResult Complete(string? stoppedBecause = null)
    {
        var unfinished = !IsFinished;
        var result = new ExecutionResult
        {
            Spec = Spec,
            Status = unfinished ? FinishReason.Expired : _machine.FinishReason,
            Detail = unfinished ? stoppedBecause ?? "stopped" : _machine.FinishDetail,
            FilledQuantity = _machine.FilledQuantity,
            FilledNotional = _machine.FilledNotional,
            Fees = _machine.Fees,
            ArrivalMid = _arrivalMid,
            StartedAt = _startedAt,
            CompletedAt = _completedAt ??= _time.GetUtcNow(), // completed again (a late fill): when it first did
            ChildOrders = _machine.Children.Count(c => !c.WasRejected),
            Modifies = _machine.Modifies,
            Cancels = _machine.Cancels,
            PostOnlyRejects = _machine.PostOnlyRejects,
            Fills = _fills.ToArray(),
            Latency = LatencySummary.Of(_latencies),
            Hop = LatencySummary.Of(_hops),
        };
        _recorder.OrderCompleted(result);
        return result;
    }

    /// <summary>What an input says about the market, recorded before the chaser sees it.</summary>
    private void Observe(in ChaserInput input, DateTimeOffset now)
    {
        if (input.Kind == EventKind.BookTop)
        {
            RecordBook(input.Book, now);
        }
        else if (input.Kind == EventKind.Trade)
        {
            var trade = input.Trade;
            _recorder.MarketTrade(new MarketTradeSample(Spec.Id, trade.Price, trade.Quantity, trade.BuyerIsMaker, trade.ExchangeTime, now));
        }
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

    /// <summary>
    /// Sends the commands and records each with its tick-to-order latency (a re-price from the frame that made the
    /// order stale, anything else a price frame caused from that frame) and its hop (from this input's arrival); a
    /// request refused before it left has neither.
    /// </summary>
    private void Execute(ChaserDecisions decisions, in ChaserInput input)
    {
        var frame = input.IsPriceFrame ? input.ReceivedTimestamp : 0;
        foreach (var command in decisions)
        {
            double? latency = null;
            double? hop = null;
            if (command.Kind != ChaserCommandKind.Finish)
            {
                var submission = _gateway.Submit(new OrderRequest(command, Spec.Symbol, Rules, Spec.ReduceOnly));
                var reprice = command.Cause.Rule is DecisionRule.RepriceBehindBest or DecisionRule.RepriceAloneAtTop;
                var from = reprice && _staleSince != 0 ? _staleSince : frame;
                if (submission.Sent && from != 0)
                {
                    latency = _time.GetElapsedTime(from, submission.HandedOffTimestamp).TotalMicroseconds;
                    _latencies.Add(latency.Value);
                }

                if (submission.Sent && input.ReceivedTimestamp != 0)
                {
                    hop = _time.GetElapsedTime(input.ReceivedTimestamp, submission.HandedOffTimestamp).TotalMicroseconds;
                    _hops.Add(hop.Value);
                }

                if (reprice)
                {
                    // Sent, the order is on its way to the best; refused, it stays stale since the same frame.
                    _staleSince = submission.Sent ? 0 : from;
                    _repriceSent |= submission.Sent;
                }
            }

            _recorder.Decision(new DecisionRecord(Spec.Id, _time.GetUtcNow(), command, latency, hop));
        }
    }

    private void TrackStaleness(in ChaserInput input)
    {
        if (_repriceSent)
        {
            // Only a frame after the re-price can make the order stale again.
            _repriceSent = false;
        }
        else if (!_machine.RestingIsStale)
        {
            _staleSince = 0;
        }
        else if (_staleSince == 0 && input.IsPriceFrame)
        {
            _staleSince = input.ReceivedTimestamp;
        }
    }

    private void RecordChildren(string? clientOrderId, DateTimeOffset now)
    {
        // Only the children this input can have touched: the one it names, the open one, the newest.
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
            // By index: a foreach over the read-only list would box its enumerator for every order event.
            for (var i = 0; i < children.Count; i++)
            {
                if (string.Equals(children[i].ClientOrderId, clientOrderId, StringComparison.Ordinal))
                {
                    RecordChild(children[i], now);
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
        _recorder.Child(ChildOrderSnapshot.Of(Spec.Id, child, now));
    }
}

/// <summary>What <see cref="OrderHost.Progress"/> is made from, kept for every input.</summary>
internal readonly record struct ProgressState(decimal FilledQuantity, decimal FilledNotional, decimal? RestingPrice, decimal Mid, decimal ArrivalMid, ParentStatus Status, decimal BestPrice, int Fills);

/// <summary>Where a parent order stands, for progress displays.</summary>
public sealed record ExecutionProgress(decimal FilledQuantity, decimal FilledNotional, decimal? RestingPrice, decimal Mid, decimal ArrivalMid, ParentStatus Status)
{
    /// <summary>The best price on our side (bid for a buy, ask for a sell): where the child should rest.</summary>
    public decimal BestPrice { get; init; }

    public int Fills { get; init; }
}
