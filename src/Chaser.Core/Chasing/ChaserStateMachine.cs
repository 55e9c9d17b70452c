using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Rules;

namespace Chaser.Core.Chasing;

/// <summary>Where the parent order is.</summary>
public enum ParentStatus
{
    /// <summary>Working towards the target.</summary>
    Working,

    /// <summary>
    /// Stopping (user cancel, deadline, fatal reject): waiting for the live child to be final; or taking what is left
    /// with market orders (at the deadline when asked, or from the start with <see cref="ChaserOptions.TakeAtArrival"/>).
    /// </summary>
    Stopping,

    /// <summary>Final: <see cref="ChaserStateMachine.FinishReason"/> says why. Late fills are still counted.</summary>
    Finished,
}

/// <summary>
/// The chaser: one per parent order. It works the order with one post-only child resting at the best price,
/// re-prices it when it goes stale, follows every fill and finishes when the remainder can no longer be posted.
/// <para>
/// Pure and deterministic: events in, commands out. It never blocks, does no I/O and reads no clock (time arrives
/// with each event). Each <c>On…</c> method returns the commands it decided; the buffer is reused: read it before the
/// next call. Invariants: at most one open child; at most one request in flight for it; a post-only buy is never
/// priced at or above the best ask (a sell never at or below the best bid); fills are counted once by trade id; the
/// filled quantity never exceeds the target by more than one child's rounding.
/// </para>
/// </summary>
public sealed class ChaserStateMachine
{
    private readonly ParentOrderSpec _spec;
    private readonly SymbolRules _rules;

    // The most a child may carry, MaxQty on the step grid: the rules never change, so this division is done once.
    private readonly decimal _maxLeaves;
    private readonly ChaserOptions _options;
    private readonly List<ChaserCommand> _output = new(4);
    private readonly List<ChildOrder> _children = [];
    private readonly Dictionary<string, ChildOrder> _childrenById = new(StringComparer.Ordinal);
    private readonly HashSet<long> _tradeIds = [];
    private readonly string _clientIdTag;

    private ChildOrder? _open;
    private BookTop _book;
    private long _bookGeneration;
    private DepthLevels? _depth;
    private bool _marketDataUp = true;
    private bool _awaitingFreshBook;
    private bool _orderEntryUp = true;
    private decimal _rateBudget = 1m;

    // The budget's two thresholds, read on every decision: kept with it when it changes rather than compared each time.
    private bool _rateBudgetSpent;
    private bool _rateBudgetFull = true;
    private bool _youngCancelsAllowed = true;

    private DateTimeOffset _backoffUntil = DateTimeOffset.MinValue;
    private DateTimeOffset _lastRepriceAt = DateTimeOffset.MinValue;
    private long _repostNeedsBookAfter = -1;
    private int _consecutivePostOnlyRejects;

    private FinishReason _stopReason;
    private DecisionRule _stopRule;
    private string? _stopDetail;
    private long _lastCloseBookGeneration = -1;
    private int _nextSequence = 1;

    /// <summary>
    /// A chaser for <paramref name="spec"/>. <paramref name="clientIdTag"/> is the instance tag inside every client
    /// order id (<see cref="ClientOrderIds"/>): the database's, so that fills of another database's orders on the same
    /// account are never taken for ours; null draws a fresh random one. The symbol's invalid-cancellation allowance
    /// arrives as an input (<see cref="OnCancelBudget"/>); until then young cancels are allowed.
    /// </summary>
    public ChaserStateMachine(ParentOrderSpec spec, SymbolRules rules, ChaserOptions? options = null, string? clientIdTag = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(rules);
        _clientIdTag = clientIdTag is null ? ClientOrderIds.NewTag() : ClientOrderIds.ValidateTag(clientIdTag, nameof(clientIdTag));
        if (!ClientOrderIds.Fits(spec.Id, 1))
        {
            throw new ArgumentOutOfRangeException(nameof(spec), spec.Id, "a parent order id must be positive and short enough for a client order id");
        }

        if (!string.Equals(spec.Symbol, rules.Symbol, StringComparison.Ordinal))
        {
            throw new ArgumentException($"rules are for {rules.Symbol}, the order is for {spec.Symbol}", nameof(rules));
        }

        _spec = spec;
        _rules = rules;
        _maxLeaves = MaxLeaves(rules);
        // The order's own re-price interval, when it has one, is the one this chaser is built with: every pacing
        // decision reads _options, so no caller (engine, backtester, a library user) can leave it out.
        var configured = options ?? new ChaserOptions();
        _options = spec.MinRepriceInterval is { } interval ? configured with { MinRepriceInterval = interval } : configured;
        _options.Validate();
    }

    public ParentOrderSpec Spec => _spec;

    /// <summary>The instance tag in this chaser's client order ids.</summary>
    public string ClientIdTag => _clientIdTag;

    public SymbolRules Rules => _rules;

    /// <summary>The options this chaser decides by (the order's own re-price interval applied).</summary>
    public ChaserOptions Options => _options;

    public ParentStatus Status { get; private set; } = ParentStatus.Working;

    public FinishReason FinishReason { get; private set; }

    public string? FinishDetail { get; private set; }

    /// <summary>Every child order, in the order they were placed.</summary>
    public IReadOnlyList<ChildOrder> Children => _children;

    /// <summary>The open child, if any (at most one).</summary>
    public ChildOrder? OpenChild => _open;

    /// <summary>Quantity filled, from fills seen (each trade once).</summary>
    public decimal FilledQuantity { get; private set; }

    /// <summary>Quote notional filled (Σ price × quantity).</summary>
    public decimal FilledNotional { get; private set; }

    public decimal Fees { get; private set; }

    public decimal AveragePrice => FilledQuantity == 0 ? 0m : FilledNotional / FilledQuantity;

    /// <summary>Executed quantity the exchange reported whose fills have not arrived (a host may fetch them).</summary>
    public decimal UnaccountedQuantity => _children.Sum(c => c.UnaccountedQuantity);

    public int FillCount => _tradeIds.Count;

    public int MakerFillCount { get; private set; }

    public int Modifies { get; private set; }

    public int Cancels { get; private set; }

    public int PostOnlyRejects { get; private set; }

    /// <summary>The earliest time at which the chaser wants a timer tick (a backoff, a young-order wait, a query timeout, the deadline); null when only events matter.</summary>
    public DateTimeOffset? NextWakeUp { get; private set; }

    /// <summary>First decision: post at the best price once a book is known. Call once, with the start time.</summary>
    public ChaserDecisions Start(DateTimeOffset time) => Evaluate(EventKind.Start, time);

    /// <summary>
    /// The one entry point of a host: applies any input at <paramref name="now"/> (the time the host handles it, which
    /// every order event is stamped with) and returns the commands it decided.
    /// </summary>
    public ChaserDecisions Apply(in ChaserInput input, DateTimeOffset now) => input.Kind switch
    {
        EventKind.Start => Start(now),
        EventKind.BookTop => OnBookTop(input.Book, now),
        EventKind.Depth => OnDepth(input.Depth!, now),
        EventKind.Trade => OnTrade(input.Trade with { Time = now }),
        EventKind.Accepted => OnAccepted(input.Accepted with { Time = now }),
        EventKind.Rejected => OnRejected(input.Rejected with { Time = now }),
        EventKind.Fill => OnFill(input.Fill with { Time = now }),
        EventKind.OrderFinished => OnOrderFinished(input.Finished with { Time = now }),
        EventKind.OutcomeUnknown => OnOutcomeUnknown(input.Unknown with { Time = now }),
        EventKind.StatusReport => OnStatusReport(input.Status with { Time = now }),
        EventKind.ConnectivityLost => OnConnectivityLost(input.Scope, now),
        EventKind.ConnectivityRestored => OnConnectivityRestored(input.Scope, now),
        EventKind.RateBudget => OnRateBudget(input.Budget, now),
        EventKind.UserCancel => OnUserCancel(now),
        EventKind.CancelBudget => OnCancelBudget(input.YoungCancelsAllowed, now),
        _ => OnTimer(now),
    };

    /// <summary>
    /// Whether the open child rests (or is being placed or modified) at a price the chaser no longer wants: the book
    /// moved past it, or left it alone at the top. Its price is the one the exchange confirmed (a modify in flight
    /// does not count until accepted). A host measures tick-to-order from the frame after which this became true.
    /// </summary>
    public bool RestingIsStale => _book.IsSane
        && _open is { State: ChildState.Live or ChildState.PendingNew or ChildState.PendingModify } child
        && DesiredPrice(child) != child.Price;

    public ChaserDecisions OnBookTop(in BookTop top, DateTimeOffset time)
    {
        // Out-of-order frames (a reconnect replays, or two connections) must not move the book backwards.
        if (_bookGeneration > 0 && top.UpdateId != 0 && top.UpdateId < _book.UpdateId)
        {
            return Nothing();
        }

        _book = top;
        _bookGeneration++;
        if (_marketDataUp)
        {
            _awaitingFreshBook = false;
        }

        return Evaluate(EventKind.BookTop, time);
    }

    public ChaserDecisions OnDepth(DepthLevels depth, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(depth);
        _depth = depth;
        return Evaluate(EventKind.Depth, time);
    }

    /// <summary>A print on the tape: no decision depends on it beyond the passage of time.</summary>
    public ChaserDecisions OnTrade(in TradePrint trade) => Evaluate(EventKind.Trade, trade.Time);

    public ChaserDecisions OnAccepted(in OrderAccepted accepted)
    {
        if (!TryFindChild(accepted.ClientOrderId, out var child))
        {
            return Nothing();
        }

        if (accepted.ExchangeOrderId != 0)
        {
            child.ExchangeOrderId = accepted.ExchangeOrderId;
        }

        var applies = child.State switch
        {
            ChildState.PendingNew => !accepted.IsModify,
            ChildState.PendingModify => accepted.IsModify && accepted.Price == child.PendingPrice,
            ChildState.Unknown => true,
            // A duplicate of the accept we already applied: refresh nothing but the ack time.
            ChildState.Live => accepted.Price == child.Price,
            _ => false,
        };
        if (!applies)
        {
            return Evaluate(EventKind.Accepted, accepted.Time);
        }

        var wasModify = child.State == ChildState.PendingModify || (child.State == ChildState.Unknown && accepted.IsModify);
        if (child.State != ChildState.Live)
        {
            if (wasModify && accepted.Price != child.Price)
            {
                child.VacatedPrice = child.Price;
            }

            child.Price = accepted.Price;
            child.Quantity = accepted.Quantity;
            // A modify re-queues the order on Binance: its age starts again for the invalid-cancellation rule.
            child.PlacedAt = accepted.Time;
            child.AcceptedExchangeTime = accepted.ExchangeTime;
            child.Enter(ChildState.Live, accepted.Time);
            if (wasModify)
            {
                child.Modifies++;
            }

            _consecutivePostOnlyRejects = 0;
        }

        return Evaluate(EventKind.Accepted, accepted.Time);
    }

    public ChaserDecisions OnRejected(in OrderRejected rejected)
    {
        if (!TryFindChild(rejected.ClientOrderId, out var child))
        {
            return Nothing();
        }

        var expected = rejected.Request switch
        {
            RequestKind.Place => ChildState.PendingNew,
            RequestKind.Modify => ChildState.PendingModify,
            _ => ChildState.PendingCancel,
        };
        if (child.State != expected && child.State != ChildState.Unknown)
        {
            // A late or duplicated answer to a request already resolved.
            return Evaluate(EventKind.Rejected, rejected.Time);
        }

        var time = rejected.Time;
        switch (rejected.Request)
        {
            case RequestKind.Place:
                child.WasRejected = true;
                child.Enter(ChildState.Final, time);
                CloseIfOpen(child);
                switch (rejected.Kind)
                {
                    case RejectKind.PostOnlyWouldCross:
                        NotePostOnlyReject(time);
                        break;
                    case RejectKind.Retryable:
                        _backoffUntil = time + _options.RetryableRejectBackoff;
                        break;
                    default:
                        // A refused taker ends the taking too, with the exchange's reason rather than "nothing to take".
                        var refused = $"order rejected by the exchange: {rejected.Code} {rejected.Message}";
                        StopTaking(FinishReason.Failed, DecisionRule.FatalReject, refused);
                        BeginStop(FinishReason.Failed, DecisionRule.FatalReject, refused);
                        break;
                }

                break;

            case RequestKind.Modify:
                switch (rejected.Kind)
                {
                    case RejectKind.PostOnlyWouldCross:
                        // Binance cancels a GTX order whose modify would cross; its final state follows on the stream.
                        child.Enter(ChildState.AwaitingFinal, time);
                        NotePostOnlyReject(time);
                        break;
                    case RejectKind.UnknownOrder:
                        child.Enter(ChildState.AwaitingFinal, time);
                        break;
                    case RejectKind.Retryable:
                        child.Enter(ChildState.Live, time);
                        _backoffUntil = time + _options.RetryableRejectBackoff;
                        break;
                    default:
                        // A filter refused the new price/quantity; the order rests as it was. Re-price by cancel + new instead.
                        child.ModifyRefused = true;
                        child.Enter(ChildState.Live, time);
                        break;
                }

                break;

            default:
                switch (rejected.Kind)
                {
                    case RejectKind.UnknownOrder:
                        // Filled or canceled already: wait for the fill or final state that must follow.
                        child.Enter(ChildState.AwaitingFinal, time);
                        break;
                    case RejectKind.Retryable:
                        child.Enter(ChildState.Live, time);
                        _backoffUntil = time + _options.RetryableRejectBackoff;
                        break;
                    default:
                        child.Enter(ChildState.Unknown, time);
                        break;
                }

                break;
        }

        return Evaluate(EventKind.Rejected, time);
    }

    public ChaserDecisions OnFill(in Fill fill)
    {
        if (!_tradeIds.Add(fill.TradeId))
        {
            return Evaluate(EventKind.Fill, fill.Time);
        }

        if (!TryFindChild(fill.ClientOrderId, out var child))
        {
            if (!ClientOrderIds.TryParse(fill.ClientOrderId, out var tag, out var parentId, out var sequence)
                || !string.Equals(tag, _clientIdTag, StringComparison.Ordinal)
                || parentId != _spec.Id)
            {
                // Another parent's, or another instance's (same parent id, other database): never counted as ours.
                // Not one of ours: forget the trade id so it cannot shadow a real one.
                _tradeIds.Remove(fill.TradeId);
                return Nothing();
            }

            // One of ours we never tracked (a previous run's child): count it, never lose a fill.
            child = new ChildOrder(fill.ClientOrderId, sequence, ChildOrderType.PostOnly, fill.Price, fill.CumulativeQuantity, fill.Time);
            child.Enter(ChildState.Final, fill.Time);
            _children.Add(child);
            _childrenById.Add(child.ClientOrderId, child);
        }

        child.FilledQuantity += fill.Quantity;
        child.FilledNotional += fill.Price * fill.Quantity;
        child.ReportedExecutedQuantity = Math.Max(child.ReportedExecutedQuantity, fill.CumulativeQuantity);
        FilledQuantity += fill.Quantity;
        FilledNotional += fill.Price * fill.Quantity;
        Fees += fill.Fee;
        if (fill.IsMaker)
        {
            MakerFillCount++;
        }

        _consecutivePostOnlyRejects = 0;
        if (fill.OrderFullyFilled && child.IsOpen)
        {
            child.FinalStatus = ExchangeOrderStatus.Filled;
            child.Enter(ChildState.Final, fill.Time);
            CloseIfOpen(child);
        }

        return Evaluate(EventKind.Fill, fill.Time);
    }

    public ChaserDecisions OnOrderFinished(in OrderFinished finished)
    {
        if (!TryFindChild(finished.ClientOrderId, out var child))
        {
            return Nothing();
        }

        child.ReportedExecutedQuantity = Math.Max(child.ReportedExecutedQuantity, finished.ExecutedQuantity);
        if (child.IsOpen)
        {
            child.FinalStatus = finished.Status;
            child.Enter(ChildState.Final, finished.Time);
            CloseIfOpen(child);
        }

        return Evaluate(EventKind.OrderFinished, finished.Time);
    }

    public ChaserDecisions OnOutcomeUnknown(in RequestOutcomeUnknown unknown)
    {
        if (TryFindChild(unknown.ClientOrderId, out var child) && child.IsOpen)
        {
            child.Enter(ChildState.Unknown, unknown.Time);
            child.RequestOutcomeUnknown = true;
            child.LastQueryAt = null;
        }

        return Evaluate(EventKind.OutcomeUnknown, unknown.Time);
    }

    public ChaserDecisions OnStatusReport(in OrderStatusReport report)
    {
        if (!TryFindChild(report.ClientOrderId, out var child))
        {
            return Nothing();
        }

        var time = report.Time;
        var live = report.Found && report.Status is ExchangeOrderStatus.New or ExchangeOrderStatus.PartiallyFilled;
        if (child.RequestOutcomeUnknown && (!report.Found || live) && time < child.LastRequestSentAt + _options.RequestExpiry)
        {
            // The request whose outcome is unknown may still reach the exchange: this answer settles nothing yet.
            child.ReportedExecutedQuantity = Math.Max(child.ReportedExecutedQuantity, report.ExecutedQuantity);
            child.LastQueryAt = null;
            child.QueryNotBefore = child.LastRequestSentAt + _options.RequestExpiry;
            return Evaluate(EventKind.StatusReport, time);
        }

        if (!report.Found)
        {
            // Never reached the book (a lost place, or a post-only reject that leaves no trace): it is over.
            child.LastQueryAt = null;
            if (child.IsOpen && child.State is ChildState.Unknown or ChildState.AwaitingFinal)
            {
                child.WasRejected = child.CommittedQuantity == 0 && child.ExchangeOrderId == 0;
                child.Enter(ChildState.Final, time);
                CloseIfOpen(child);
            }

            return Evaluate(EventKind.StatusReport, time);
        }

        child.ReportedExecutedQuantity = Math.Max(child.ReportedExecutedQuantity, report.ExecutedQuantity);
        child.LastQueryAt = null;
        if (!child.IsOpen)
        {
            return Evaluate(EventKind.StatusReport, time);
        }

        if (report.Status is ExchangeOrderStatus.New or ExchangeOrderStatus.PartiallyFilled)
        {
            if (child.State is ChildState.Unknown or ChildState.AwaitingFinal)
            {
                if (child.Price != report.Price)
                {
                    child.PlacedAt = time;
                    child.Modifies++;
                }

                child.Price = report.Price;
                child.Quantity = report.Quantity;
                child.Enter(ChildState.Live, time);
            }
        }
        else
        {
            child.FinalStatus = report.Status;
            child.Enter(ChildState.Final, time);
            CloseIfOpen(child);
        }

        return Evaluate(EventKind.StatusReport, time);
    }

    public ChaserDecisions OnConnectivityLost(ConnectionScope scope, DateTimeOffset time)
    {
        if (scope == ConnectionScope.MarketData)
        {
            _marketDataUp = false;
            _awaitingFreshBook = true;
        }
        else
        {
            _orderEntryUp = false;
        }

        return Evaluate(EventKind.ConnectivityLost, time);
    }

    public ChaserDecisions OnConnectivityRestored(ConnectionScope scope, DateTimeOffset time)
    {
        if (scope == ConnectionScope.MarketData)
        {
            // Trust nothing until a book arrives that was read after the reconnect.
            _marketDataUp = true;
            _awaitingFreshBook = true;
        }
        else
        {
            _orderEntryUp = true;
            // A child with a request in flight waits for that request's answer (or its unknown outcome) instead.
            if (_open is { State: ChildState.Live or ChildState.AwaitingFinal } child)
            {
                // Whatever happened while we were blind (fills, a request's answer) is learnt by query.
                child.Enter(ChildState.Unknown, time);
                child.LastQueryAt = null;
                return Evaluate(EventKind.ConnectivityRestored, time, DecisionRule.ReconcileAfterReconnect);
            }
        }

        return Evaluate(EventKind.ConnectivityRestored, time);
    }

    public ChaserDecisions OnTimer(DateTimeOffset time) => Evaluate(EventKind.Timer, time);

    /// <summary>The share of the account's order-rate budget still available (0..1), from the rate-limit governor.</summary>
    public ChaserDecisions OnRateBudget(decimal availableFraction, DateTimeOffset time)
    {
        _rateBudget = Math.Clamp(availableFraction, 0m, 1m);
        _rateBudgetSpent = _rateBudget <= 0;
        _rateBudgetFull = _rateBudget >= 1m;
        return Evaluate(EventKind.RateBudget, time);
    }

    /// <summary>
    /// Whether one more young cancel keeps the symbol's invalid-cancellation ratio within its bound, from the
    /// <see cref="CancellationRatioTracker"/> its host keeps (shared by the orders on the symbol): when false, a young
    /// order is left to age past <see cref="ChaserOptions.InvalidCancelWindow"/> before it is re-priced.
    /// </summary>
    public ChaserDecisions OnCancelBudget(bool youngCancelsAllowed, DateTimeOffset time)
    {
        _youngCancelsAllowed = youngCancelsAllowed;
        return Evaluate(EventKind.CancelBudget, time);
    }

    public ChaserDecisions OnUserCancel(DateTimeOffset time)
    {
        // Taking the remainder may need more than one market order: a cancel sends no further one (the one out is left
        // to complete).
        StopTaking(FinishReason.Canceled, DecisionRule.UserCancel, "canceled by the user");
        BeginStop(FinishReason.Canceled, DecisionRule.UserCancel, "canceled by the user");
        return Evaluate(EventKind.UserCancel, time);
    }

    /// <summary>
    /// The child an event names. The open one is tried first by reference: the host hands events the very id
    /// instances its commands carried (its string cache), so the common case hashes nothing; any other string is
    /// looked up by value, as it always was.
    /// </summary>
    private bool TryFindChild(string clientOrderId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ChildOrder? child)
    {
        if (_open is { } open && ReferenceEquals(open.ClientOrderId, clientOrderId))
        {
            child = open;
            return true;
        }

        return _childrenById.TryGetValue(clientOrderId, out child);
    }

    private ChaserDecisions Nothing()
    {
        _output.Clear();
        return new ChaserDecisions(_output);
    }

    private void CloseIfOpen(ChildOrder child)
    {
        if (ReferenceEquals(_open, child))
        {
            _open = null;
            _lastCloseBookGeneration = _bookGeneration;
        }
    }

    private void NotePostOnlyReject(DateTimeOffset time)
    {
        PostOnlyRejects++;
        _consecutivePostOnlyRejects++;
        // Re-post only on a book newer than the one that made us cross.
        _repostNeedsBookAfter = _bookGeneration;
        var excess = _consecutivePostOnlyRejects - _options.PostOnlyRejectsBeforeBackoff;
        if (excess >= 0)
        {
            var backoff = _options.PostOnlyRejectBackoff * Math.Pow(2, Math.Min(excess, 16));
            _backoffUntil = time + (backoff < _options.MaxBackoff ? backoff : _options.MaxBackoff);
        }
    }

    /// <summary>While market orders take the order, stops sending more: the order ends for this reason once the one out is final.</summary>
    private void StopTaking(FinishReason reason, DecisionRule rule, string detail)
    {
        if (Status == ParentStatus.Stopping && IsTaking)
        {
            _stopReason = reason;
            _stopRule = rule;
            _stopDetail = detail;
        }
    }

    private void BeginStop(FinishReason reason, DecisionRule rule, string detail)
    {
        if (Status != ParentStatus.Working)
        {
            return;
        }

        Status = ParentStatus.Stopping;
        _stopReason = reason;
        _stopRule = rule;
        _stopDetail = detail;
    }

    private ChaserDecisions Evaluate(EventKind trigger, DateTimeOffset now, DecisionRule queryRule = DecisionRule.ConfirmUnknownOutcome)
    {
        _output.Clear();
        NextWakeUp = null;
        if (Status == ParentStatus.Finished)
        {
            return new ChaserDecisions(_output);
        }

        if (Status == ParentStatus.Working && _options.TakeAtArrival)
        {
            // The taker strategy posts nothing: it takes the order the way the deadline takes a remainder.
            BeginStop(FinishReason.Expired, DecisionRule.TakeAtArrival, "the book had nothing left to take");
        }

        // Taking at arrival stops at the deadline too (a book that came late is no reason to take after it): the market
        // order out is left to complete, and no further one is sent.
        if ((Status == ParentStatus.Working || _stopRule == DecisionRule.TakeAtArrival) && _spec.Deadline is { } deadline)
        {
            if (now >= deadline)
            {
                var take = _spec.OnDeadline == DeadlineAction.TakeRemainder;
                var rule = take ? DecisionRule.DeadlineTakeRemainder : DecisionRule.DeadlineExpire;
                StopTaking(FinishReason.Expired, rule, "deadline reached");
                BeginStop(FinishReason.Expired, rule, "deadline reached");
            }
            else
            {
                WakeAt(deadline);
            }
        }

        if (_open is { } child && !ChildAllowsDecision(child, trigger, now, queryRule))
        {
            return new ChaserDecisions(_output);
        }

        if (Status == ParentStatus.Stopping)
        {
            DecideStop(trigger, now);
        }
        else
        {
            DecideWorking(trigger, now);
        }

        return new ChaserDecisions(_output);
    }

    /// <summary>Handles an open child whose state blocks decisions (a request in flight, an unknown outcome); true when it is live.</summary>
    private bool ChildAllowsDecision(ChildOrder child, EventKind trigger, DateTimeOffset now, DecisionRule queryRule)
    {
        switch (child.State)
        {
            case ChildState.Live:
                return true;
            case ChildState.Unknown:
                if (_orderEntryUp)
                {
                    QueryIfDue(child, trigger, now, queryRule);
                }

                return false;
            case ChildState.AwaitingFinal:
                var timeout = child.StateSince + _options.FinalStateTimeout;
                if (now >= timeout && _orderEntryUp)
                {
                    QueryIfDue(child, trigger, now, DecisionRule.ConfirmFinalState);
                }
                else
                {
                    WakeAt(timeout);
                }

                return false;
            default:
                // PendingNew / PendingModify / PendingCancel: one request in flight per child, wait for its answer.
                return false;
        }
    }

    private void QueryIfDue(ChildOrder child, EventKind trigger, DateTimeOffset now, DecisionRule rule)
    {
        if (child.LastQueryAt is { } last && now < last + _options.QueryRetryInterval)
        {
            WakeAt(last + _options.QueryRetryInterval);
            return;
        }

        if (now < child.QueryNotBefore)
        {
            WakeAt(child.QueryNotBefore);
            return;
        }

        child.LastQueryAt = now;
        WakeAt(now + _options.QueryRetryInterval);
        Emit(new ChaserCommand(ChaserCommandKind.Query, child.ClientOrderId, _spec.Side, child.OrderType, child.Price, child.Quantity, FinishReason.None, new DecisionCause(trigger, rule)));
    }

    private void DecideStop(EventKind trigger, DateTimeOffset now)
    {
        var cause = new DecisionCause(trigger, _stopRule);
        if (_open is { } child)
        {
            // A market child (taking the remainder) is left to complete; a resting one is canceled.
            if (_orderEntryUp && child.OrderType == ChildOrderType.PostOnly)
            {
                SendCancel(child, cause, now);
            }

            return;
        }

        if (IsTaking)
        {
            if (!_orderEntryUp || !_marketDataUp || _awaitingFreshBook || !_book.IsSane)
            {
                return;
            }

            var reference = _spec.Side == Side.Buy ? _book.Ask : _book.Bid;
            var (quantity, remainderTakeable) = NextTaker(reference);
            var lastTaker = _children.Count > 0 && _children[^1].OrderType == ChildOrderType.Market ? _children[^1] : null;
            if (!remainderTakeable && _children.Count == 0)
            {
                // Taking at arrival an order no market order can take (under its min qty or notional): as a post would.
                var check = _rules.CheckMarket(_rules.FloorMarketQuantity(RemainingQuantityAt(reference)), reference, _spec.ReduceOnly);
                Finish(FinishReason.Failed, new DecisionCause(trigger, DecisionRule.TargetNotPostable), $"the target can't be taken: {check.Reason}");
                return;
            }

            if (remainderTakeable && (lastTaker is null || lastTaker.CommittedQuantity > 0))
            {
                if (lastTaker is not null && _bookGeneration <= _lastCloseBookGeneration)
                {
                    // The book still shows the liquidity the last taker took: size the next one on a newer book.
                    return;
                }

                PlaceChild(ChildOrderType.Market, reference, quantity, cause, now);
                return;
            }

            // Nothing left that a taker can take (filled, as a post-only order's unpostable remainder is), or the
            // last taker found nothing to take (expired).
            var taken = CommittedQuantity > 0 && !remainderTakeable;
            Finish(taken ? FinishReason.Filled : _stopReason, cause, taken ? "target reached" : _stopDetail);
            return;
        }

        var reason = _stopReason;
        if (reason != FinishReason.Failed && CommittedQuantity > 0 && !RemainderPostable(LastKnownPrice()))
        {
            reason = FinishReason.Filled;
        }

        Finish(reason, cause, reason == FinishReason.Filled ? "target reached" : _stopDetail);
    }

    /// <summary>Whether the order is being finished with market orders (at the deadline, or from the start).</summary>
    private bool IsTaking => _stopRule is DecisionRule.DeadlineTakeRemainder or DecisionRule.TakeAtArrival;

    private void DecideWorking(EventKind trigger, DateTimeOffset now)
    {
        if (!_orderEntryUp || !_marketDataUp || _awaitingFreshBook || !_book.IsSane)
        {
            // No decision on a book we can't trust, or while we can't see our orders.
            return;
        }

        var child = _open;
        var desired = DesiredPrice(child);
        if (child is not null && desired == child.Price)
        {
            // Nothing to re-price: the leaves and the filters (divisions on decimals) are not needed.
            return;
        }

        var leaves = ChildLeavesAt(desired);
        if (child is null)
        {
            var postable = _rules.Check(_spec.Side, desired, leaves, _spec.ReduceOnly, markPrice: null);
            if (!postable.IsValid)
            {
                if (CommittedQuantity == 0)
                {
                    Finish(FinishReason.Failed, new DecisionCause(trigger, DecisionRule.TargetNotPostable), $"the target can't be posted: {postable.Reason}");
                }
                else
                {
                    Finish(FinishReason.Filled, new DecisionCause(trigger, DecisionRule.TargetReached), "target reached");
                }

                return;
            }

            if (!RequestAllowed(now) || _bookGeneration <= _repostNeedsBookAfter)
            {
                return;
            }

            var rule = _consecutivePostOnlyRejects > 0 ? DecisionRule.RepostAfterPostOnlyReject : DecisionRule.PostAtBest;
            PlaceChild(ChildOrderType.PostOnly, desired, leaves, new DecisionCause(trigger, rule), now);
            return;
        }

        var repriceRule = IsBehind(desired, child.Price) ? DecisionRule.RepriceBehindBest : DecisionRule.RepriceAloneAtTop;
        var cause = new DecisionCause(trigger, repriceRule);
        if (!RequestAllowed(now))
        {
            return;
        }

        var interval = EffectiveRepriceInterval();
        if (now < _lastRepriceAt + interval)
        {
            WakeAt(_lastRepriceAt + interval);
            return;
        }

        var age = now - child.PlacedAt;
        if (age < _options.InvalidCancelWindow && !_youngCancelsAllowed)
        {
            // Cancelling now would count against the invalid-cancellation ratio: let the order age instead.
            WakeAt(child.PlacedAt + _options.InvalidCancelWindow);
            return;
        }

        if (leaves <= 0)
        {
            // Nothing left to work at the new price: the target is reached once this child is out of the way.
            SendCancel(child, new DecisionCause(trigger, DecisionRule.TargetReached), now);
            return;
        }

        if (_options.PreferModify && !child.ModifyRefused && ModifyLeaves(child, desired, leaves) is var modifyLeaves && (modifyLeaves == leaves || _rules.CanPost(desired, modifyLeaves, _spec.ReduceOnly)))
        {
            SendModify(child, desired, child.CommittedQuantity + modifyLeaves, cause, now);
        }
        else
        {
            SendCancel(child, cause, now);
        }
    }

    /// <summary>
    /// The open quantity a modify to <paramref name="desired"/> may carry. A modify races the order's own fills: what
    /// executes at the old price before the modify lands is priced there, not at the new one. When the old price is the
    /// higher, a notional order sized at the new price alone ends over its target by that quantity times the price change
    /// (a buy stepping back overspends, a sell following the bid down raises too much); so the leaves are sized for the
    /// target to hold however much of the open quantity executes first. When that leaves nothing postable, the caller
    /// cancels and replaces instead, which sees the final executed quantity before it sizes the new order.
    /// </summary>
    private decimal ModifyLeaves(ChildOrder child, decimal desired, decimal leaves)
    {
        // Fills still on their way may have executed at any price the child was sent at, not only where it rests now
        // (a modify accepted, then the fills it raced arriving): size for the highest of them.
        var worst = Math.Max(child.HighestPrice, child.Price);
        if (_spec.SizeType != SizeType.Notional || worst <= desired)
        {
            return leaves;
        }

        var notionalLeft = _spec.Size - CommittedNotional;
        var open = child.LeavesQuantity;
        var room = notionalLeft - (open * worst);
        var bound = room >= 0 ? open + (room / desired) : notionalLeft / worst;
        return Math.Min(leaves, _rules.FloorQuantity(Math.Max(0m, bound)));
    }

    private bool RequestAllowed(DateTimeOffset now)
    {
        if (_rateBudgetSpent)
        {
            return false;
        }

        if (now < _backoffUntil)
        {
            WakeAt(_backoffUntil);
            return false;
        }

        return true;
    }

    private TimeSpan EffectiveRepriceInterval()
    {
        if (_rateBudgetFull)
        {
            return _options.MinRepriceInterval;
        }

        // Re-price less often as the shared budget runs down: at 10 % left, ten times less often.
        return _options.MinRepriceInterval / (double)Math.Max(_rateBudget, 0.1m);
    }

    /// <summary>Whether <paramref name="best"/> is a better price for our side than <paramref name="current"/> (we are behind it).</summary>
    private bool IsBehind(decimal best, decimal current) =>
        _spec.Side == Side.Buy ? best > current : best < current;

    /// <summary>
    /// The best price on our side of the book, ignoring our own order when it is alone at the top (then the next
    /// level, when depth is known). A book older than our order's accept can't show it, and is not used to move down.
    /// </summary>
    private decimal DesiredPrice(ChildOrder? child)
    {
        var buy = _spec.Side == Side.Buy;
        var best = buy ? _book.Bid : _book.Ask;
        if (child is not null && _options.Reprice == RepricePolicy.Never)
        {
            // Never re-priced: a child wants the price it was posted at, in flight or resting.
            return child.Price;
        }

        if (child is not { State: ChildState.Live })
        {
            return best;
        }

        if (child.AcceptedExchangeTime is not { } acceptedAt || _book.ExchangeTime <= acceptedAt)
        {
            // The book predates our order: trust it only to tell us we are behind — unless its best is the price we
            // just left, which it shows because our own order was still there (chasing it would undo the move). A book
            // of the accept's own millisecond may or may not show it: taken as older, or a step back and the return to
            // the vacated price it still shows would follow each other on every accept, a modify storm.
            return IsBehind(best, child.Price) && best != child.VacatedPrice ? best : child.Price;
        }

        if (best == child.Price)
        {
            // Alone only when the level holds exactly what we have left. Less means a fill of ours we haven't seen
            // yet, and then the rest may well be someone else's: leaving on that guess loses our place in the queue
            // and, once the book says so, we come straight back behind them.
            var displayed = buy ? _book.BidQty : _book.AskQty;
            if (_options.StepBack && displayed == child.LeavesQuantity && NextLevelBeyond(child.Price) is { } next)
            {
                return next;
            }

            return child.Price;
        }

        // A newer book whose best is worse than our price does not show our order: its state is in flight on the
        // user stream. Don't chase down on it; a fill or cancel will follow.
        return IsBehind(best, child.Price) ? best : child.Price;
    }

    private decimal? NextLevelBeyond(decimal price)
    {
        if (_depth is null)
        {
            return null;
        }

        var buy = _spec.Side == Side.Buy;
        foreach (var level in buy ? _depth.Bids : _depth.Asks)
        {
            if (level.Quantity > 0 && (buy ? level.Price < price : level.Price > price))
            {
                // Never cross: the next level on our side is always behind the opposite best in a sane book.
                var opposite = buy ? _book.Ask : _book.Bid;
                return (buy ? level.Price < opposite : level.Price > opposite) ? level.Price : null;
            }
        }

        return null;
    }

    /// <summary>Executed quantity to assume: seen fills, or more where the exchange reported more.</summary>
    private decimal CommittedQuantity
    {
        get
        {
            var total = 0m;
            foreach (var child in _children)
            {
                total += child.CommittedQuantity;
            }

            return total;
        }
    }

    private decimal CommittedNotional
    {
        get
        {
            var total = FilledNotional;
            foreach (var child in _children)
            {
                // Fills not yet seen execute at the child's limit price (a maker fill prices at the order's price).
                total += child.UnaccountedQuantity * child.Price;
            }

            return total;
        }
    }

    /// <summary>
    /// Whether a parent order with this much executed is done the way the chaser decides it: something executed and
    /// what is left can't be posted at <paramref name="price"/> (restart recovery finalises orders with the same rule).
    /// </summary>
    public static bool TargetReached(ParentOrderSpec spec, SymbolRules rules, decimal filledQuantity, decimal filledNotional, decimal price)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(rules);
        return filledQuantity > 0 && !(price > 0 && rules.CanPost(price, LeavesAt(spec, rules, filledQuantity, filledNotional, price), spec.ReduceOnly));
    }

    /// <summary>What is left of the target, in base quantity at the given price (before step rounding).</summary>
    private static decimal RemainingQuantityAt(ParentOrderSpec spec, decimal committedQuantity, decimal committedNotional, decimal price)
    {
        if (spec.SizeType == SizeType.Quantity)
        {
            return Math.Max(0m, spec.Size - committedQuantity);
        }

        var notional = spec.Size - committedNotional;
        return notional <= 0 || price <= 0 ? 0m : notional / price;
    }

    /// <summary>The open quantity a child at <paramref name="price"/> should carry, on top of what executed already.</summary>
    private static decimal LeavesAt(ParentOrderSpec spec, SymbolRules rules, decimal committedQuantity, decimal committedNotional, decimal price) =>
        LeavesAt(spec, rules, MaxLeaves(rules), committedQuantity, committedNotional, price);

    private static decimal LeavesAt(ParentOrderSpec spec, SymbolRules rules, decimal maxLeaves, decimal committedQuantity, decimal committedNotional, decimal price)
    {
        // A notional remainder on integers where they give FloorQuantity(notional / price) exactly (the rules'
        // QuantityForNotional), by decimal's divisions otherwise: every re-price of a notional order sizes its child here.
        var leaves = spec.SizeType == SizeType.Notional && rules.TryQuantityForNotional(spec.Size - committedNotional, price, out var steps)
            ? steps
            : rules.FloorQuantity(RemainingQuantityAt(spec, committedQuantity, committedNotional, price));
        return rules.MaxQty > 0 ? Math.Min(leaves, maxLeaves) : leaves;
    }

    private static decimal MaxLeaves(SymbolRules rules) => rules.MaxQty > 0 ? rules.FloorQuantity(rules.MaxQty) : 0m;

    private decimal RemainingQuantityAt(decimal price) => RemainingQuantityAt(_spec, CommittedQuantity, CommittedNotional, price);

    /// <summary>
    /// The next taker order for what is left after the deadline, and whether anything a market order can take is left
    /// at all. A quantity remainder is exact and is taken in one order. A notional one is sized by walking the levels
    /// this chaser knows on the side it takes from (the top, then the depth behind it), so that what it costs (a buy)
    /// or raises (a sell) is the remainder as the book shows it, not the remainder at the top price (a 1.5 M USDT sell
    /// sized at the best bid raised ~100 USDT less as it walked down and ended expired at 99.99 %; a buy sized at the
    /// ask overspent ~250 USDT): it takes no more than those levels show, rounded down to the market step, and the next
    /// taker, sized on a newer book, takes what this one could not see.
    /// </summary>
    private (decimal Quantity, bool RemainderTakeable) NextTaker(decimal reference)
    {
        var step = _rules.MarketStepSize > 0 ? _rules.MarketStepSize : _rules.StepSize;
        var maxQty = _rules.MarketMaxQty > 0 ? _rules.MarketMaxQty : _rules.MaxQty;
        decimal whole;
        var shown = decimal.MaxValue;
        if (_spec.SizeType == SizeType.Quantity)
        {
            whole = _rules.FloorMarketQuantity(RemainingQuantityAt(reference));
        }
        else
        {
            var notionalLeft = _spec.Size - CommittedNotional;
            var quantity = 0m;
            shown = 0m;
            var worst = reference;
            foreach (var level in TakingLevels())
            {
                shown += level.Quantity;
                worst = level.Price;
                if (notionalLeft > 0)
                {
                    var take = Math.Min(level.Quantity, notionalLeft / level.Price);
                    quantity += take;
                    notionalLeft -= take * level.Price;
                }
            }

            // Beyond the levels known the price can only be worse than the worst of them: the rest at that price is
            // an upper bound of the quantity left, used only to judge whether anything is left to take.
            whole = _rules.FloorMarketQuantity(quantity + (notionalLeft > 0 ? notionalLeft / worst : 0m));
        }

        // One market order takes at most the market max qty; the next one takes the rest.
        var upTo = Math.Min(whole, maxQty > 0 ? _rules.FloorMarketQuantity(maxQty) : decimal.MaxValue);
        if (!_rules.CheckMarket(upTo, reference, _spec.ReduceOnly).IsValid)
        {
            return (0m, false);
        }

        // The least a market order may be (its min qty and, at the reference price, the min notional), on the step grid.
        var minQty = _rules.MarketMinQty > 0 ? _rules.MarketMinQty : _rules.MinQty;
        var least = Math.Max(minQty, _spec.ReduceOnly || _rules.MinNotional <= 0 ? 0m : _rules.MinNotional / reference);
        least = Math.Ceiling(least / step) * step;
        var sized = _rules.FloorMarketQuantity(Math.Min(upTo, shown));
        return (Math.Min(Math.Max(sized, least), upTo), true);
    }

    /// <summary>The levels a taker would take from, best first: the top of book, then the known depth behind it.</summary>
    private IEnumerable<PriceLevel> TakingLevels()
    {
        var buy = _spec.Side == Side.Buy;
        var top = buy ? _book.Ask : _book.Bid;
        yield return new PriceLevel(top, buy ? _book.AskQty : _book.BidQty);
        if (_depth is null)
        {
            yield break;
        }

        foreach (var level in buy ? _depth.Asks : _depth.Bids)
        {
            if (buy ? level.Price > top : level.Price < top)
            {
                yield return level;
            }
        }
    }

    private decimal ChildLeavesAt(decimal price) => LeavesAt(_spec, _rules, _maxLeaves, CommittedQuantity, CommittedNotional, price);

    private bool RemainderPostable(decimal price) =>
        price > 0 && _rules.CanPost(price, ChildLeavesAt(price), _spec.ReduceOnly);

    private decimal LastKnownPrice()
    {
        if (_book.IsSane)
        {
            return _spec.Side == Side.Buy ? _book.Bid : _book.Ask;
        }

        return _children.Count > 0 ? _children[^1].Price : 0m;
    }

    private void PlaceChild(ChildOrderType type, decimal price, decimal quantity, DecisionCause cause, DateTimeOffset now)
    {
        if (!ClientOrderIds.Fits(_spec.Id, _nextSequence))
        {
            // Called only with no child open: nothing is left on the exchange, so the order can end here.
            Finish(FinishReason.Failed, cause, $"no client order id left for child {_nextSequence} within Binance's {ClientOrderIds.MaxLength} characters");
            return;
        }

        var id = ClientOrderIds.For(_clientIdTag, _spec.Id, _nextSequence);
        var child = new ChildOrder(id, _nextSequence, type, price, quantity, now);
        _nextSequence++;
        child.Enter(ChildState.PendingNew, now);
        _children.Add(child);
        _childrenById.Add(id, child);
        _open = child;
        _lastRepriceAt = now;
        Emit(new ChaserCommand(ChaserCommandKind.Place, id, _spec.Side, type, price, quantity, FinishReason.None, cause));
    }

    private void SendModify(ChildOrder child, decimal price, decimal totalQuantity, DecisionCause cause, DateTimeOffset now)
    {
        var young = CountsAsYoungCancel(child, now, isModify: true);
        child.PendingPrice = price;
        child.HighestPrice = Math.Max(child.HighestPrice, price);
        child.PendingQuantity = totalQuantity;
        child.LastRequestSentAt = now;
        child.Enter(ChildState.PendingModify, now);
        _lastRepriceAt = now;
        Modifies++;
        Emit(new ChaserCommand(ChaserCommandKind.Modify, child.ClientOrderId, _spec.Side, child.OrderType, price, totalQuantity, FinishReason.None, cause) { CountsAsYoungCancel = young });
    }

    private void SendCancel(ChildOrder child, DecisionCause cause, DateTimeOffset now)
    {
        var young = CountsAsYoungCancel(child, now, isModify: false);
        child.LastRequestSentAt = now;
        child.Enter(ChildState.PendingCancel, now);
        _lastRepriceAt = now;
        Cancels++;
        Emit(new ChaserCommand(ChaserCommandKind.Cancel, child.ClientOrderId, _spec.Side, child.OrderType, child.Price, child.Quantity, FinishReason.None, cause) { CountsAsYoungCancel = young });
    }

    /// <summary>Whether a cancel (or modify) of <paramref name="child"/> now counts against the invalid-cancellation ratio.</summary>
    private bool CountsAsYoungCancel(ChildOrder child, DateTimeOffset now, bool isModify) =>
        now - child.PlacedAt < _options.InvalidCancelWindow && (!isModify || _options.CountModifyAsCancel);

    private void Finish(FinishReason reason, DecisionCause cause, string? detail)
    {
        Status = ParentStatus.Finished;
        FinishReason = reason;
        FinishDetail = detail;
        NextWakeUp = null;
        Emit(new ChaserCommand(ChaserCommandKind.Finish, string.Empty, _spec.Side, ChildOrderType.PostOnly, 0m, 0m, reason, cause, detail));
    }

    private void WakeAt(DateTimeOffset time)
    {
        if (NextWakeUp is null || time < NextWakeUp)
        {
            NextWakeUp = time;
        }
    }

    private void Emit(ChaserCommand command) => _output.Add(command);
}
