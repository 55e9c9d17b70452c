using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Rules;

namespace Chaser.Core.Tests;

/// <summary>
/// A small random exchange for property tests: a moving book, our orders on it, REST answers and user-stream events
/// that arrive late, out of order with each other, duplicated or with unknown outcomes. It plays the chaser's
/// commands and checks the invariants after every step; a violation throws with the seed's story.
/// </summary>
internal sealed class RandomWorld
{
    private static readonly TimeSpan RecvWindow = TimeSpan.FromSeconds(5);

    // Binance's cap on modifies of one order (API notes §10b): a chaser that reaches it is re-pricing in a loop.
    private const int MaxModifiesPerOrder = 10_000;

    private readonly Random _rng;
    private readonly SymbolRules _rules;
    private readonly ParentOrderSpec _spec;
    private readonly List<Action> _answers = [];
    private readonly List<Action> _stream = [];
    private readonly Dictionary<string, ExchangeOrder> _orders = new(StringComparer.Ordinal);
    private readonly HashSet<long> _tradesDelivered = [];
    private readonly List<string> _story = [];
    private readonly bool _withDepth;
    private Action? _lastFillEvent;
    private DateTimeOffset _now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private decimal _marketBid;
    private decimal _marketAsk;
    private long _updateId = 1;
    private long _tradeId = 1;
    private long _orderId = 1;
    private BookTop _seen;
    private bool _marketDataUp = true;
    private bool _orderEntryUp = true;

    public RandomWorld(int seed)
        : this(seed, WorldMarket.Btc)
    {
    }

    public RandomWorld(int seed, WorldMarket market)
    {
        _rng = new Random(seed);
        _rules = market.Rules;
        _marketBid = market.StartBid;
        _marketAsk = market.StartBid + _rules.TickSize;
        var side = _rng.Next(2) == 0 ? Side.Buy : Side.Sell;
        _spec = _rng.Next(2) == 0
            ? new ParentOrderSpec(7, _rules.Symbol, side, SizeType.Notional, 200m + _rng.Next(50_000))
            : new ParentOrderSpec(7, _rules.Symbol, side, SizeType.Quantity, _rules.StepSize * market.StepsPerLot * (2 + _rng.Next(2_000)));
        _withDepth = _rng.Next(2) == 0;
        var options = new ChaserOptions
        {
            PreferModify = _rng.Next(3) != 0,
            MinRepriceInterval = TimeSpan.FromMilliseconds(_rng.Next(0, 300)),
            PostOnlyRejectsBeforeBackoff = 1 + _rng.Next(4),
            InvalidCancelRatioMinOrders = _rng.Next(2, 30),
            MaxInvalidCancelRatio = 0.3m + (_rng.Next(7) / 10m),
        };
        Machine = new ChaserStateMachine(_spec, _rules, options);
        Apply(Machine.Start(_now), "start");
    }

    public ChaserStateMachine Machine { get; }

    /// <summary>Quantity the exchange executed for our orders (the truth).</summary>
    public decimal ExchangeExecuted => _orders.Values.Sum(o => o.Executed);

    public decimal ExchangeExecutedNotional => _orders.Values.Sum(o => o.ExecutedNotional);

    public void Run(int steps)
    {
        for (var i = 0; i < steps && Machine.Status != ParentStatus.Finished; i++)
        {
            Step();
            CheckInvariants();
        }

        Drain();
    }

    private void Step()
    {
        _now = _now.AddMilliseconds(_rng.Next(0, 60));
        var roll = _rng.Next(100);
        if (roll < 28)
        {
            MoveMarket();
        }
        else if (roll < 40)
        {
            TradeAtTouch();
        }
        else if (roll < 60)
        {
            DeliverAnswer();
        }
        else if (roll < 80)
        {
            DeliverStream();
        }
        else if (roll < 84 && _lastFillEvent is not null)
        {
            _stream.Add(_lastFillEvent); // the stream repeats a fill
        }
        else if (roll < 96)
        {
            _now = _now.AddMilliseconds(_rng.Next(0, 3_000));
            Apply(Machine.OnTimer(_now), "timer");
        }
        else if (roll < 98)
        {
            ToggleMarketData();
        }
        else
        {
            ToggleOrderEntry();
        }
    }

    /// <summary>Everything in flight arrives, connections come back, and the market fills whatever rests, until the chaser finishes.</summary>
    private void Drain()
    {
        if (!_marketDataUp)
        {
            ToggleMarketData();
        }

        if (!_orderEntryUp)
        {
            ToggleOrderEntry();
        }

        for (var round = 0; round < 400 && Machine.Status != ParentStatus.Finished; round++)
        {
            while (_answers.Count > 0 || _stream.Count > 0)
            {
                if (_answers.Count > 0)
                {
                    DeliverAnswer();
                }

                if (_stream.Count > 0)
                {
                    DeliverStream();
                }

                CheckInvariants();
            }

            _now = _now.AddSeconds(3);
            foreach (var order in _orders.Values.Where(o => o.Live))
            {
                FillOrder(order, order.Leaves);
            }

            PublishBook();
            Apply(Machine.OnTimer(_now), "drain timer");
            CheckInvariants();
        }

        while (_answers.Count > 0 || _stream.Count > 0)
        {
            if (_answers.Count > 0)
            {
                DeliverAnswer();
            }

            if (_stream.Count > 0)
            {
                DeliverStream();
            }
        }

        Check(Machine.Status == ParentStatus.Finished, "the chaser did not finish once everything was filled");
        Check(Machine.FinishReason == FinishReason.Filled, $"finished {Machine.FinishReason} ({Machine.FinishDetail}), expected Filled");
        Check(Machine.FilledQuantity == ExchangeExecuted, $"counted {Machine.FilledQuantity}, the exchange executed {ExchangeExecuted}");
        Check(Machine.FillCount == _tradesDelivered.Count, $"counted {Machine.FillCount} fills, {_tradesDelivered.Count} distinct trades were delivered");
        var price = _spec.Side == Side.Buy ? _seen.Bid : _seen.Ask;
        Check(!RemainderPostable(price), "finished as filled while the remainder could still be posted");
        CheckInvariants();
    }

    private void MoveMarket()
    {
        // One side moves at a time, as on a real book: a new better bid, a level taken out, a new ask.
        var delta = _rng.Next(1, 3) * _rules.TickSize * (_rng.Next(2) == 0 ? -1 : 1);
        if (_rng.Next(2) == 0)
        {
            _marketBid += delta;
        }
        else
        {
            _marketAsk += delta;
        }

        if (_marketAsk <= _marketBid)
        {
            if (_rng.Next(2) == 0)
            {
                _marketAsk = _marketBid + _rules.TickSize;
            }
            else
            {
                _marketBid = _marketAsk - _rules.TickSize;
            }
        }

        foreach (var order in _orders.Values.Where(o => o.Live && !o.Market))
        {
            var through = _spec.Side == Side.Buy ? _marketAsk <= order.Price : _marketBid >= order.Price;
            if (!through)
            {
                continue;
            }

            if (_rng.Next(3) == 0)
            {
                // The market traded through our price: it fills us.
                FillOrder(order, order.Leaves);
            }
            else if (_spec.Side == Side.Buy)
            {
                // Our level held: the opposite side stays one tick behind it.
                _marketAsk = order.Price + _rules.TickSize;
            }
            else
            {
                _marketBid = order.Price - _rules.TickSize;
            }
        }

        if (_rng.Next(40) == 0)
        {
            // A broken frame: crossed or empty.
            var broken = _rng.Next(2) == 0
                ? new BookTop(_marketBid + 1m, 1m, _marketBid, 1m, ++_updateId, _now)
                : new BookTop(0m, 0m, 0m, 0m, ++_updateId, _now);
            Feed(broken);
            return;
        }

        PublishBook();
    }

    private void PublishBook()
    {
        var marketAsk = _marketAsk;
        decimal bid = _marketBid, bidQty = 2m, ask = marketAsk, askQty = 2m;
        var ours = _orders.Values.FirstOrDefault(o => o.Live && !o.Market);
        if (ours is not null)
        {
            if (_spec.Side == Side.Buy)
            {
                if (ours.Price > bid)
                {
                    (bid, bidQty) = (ours.Price, ours.Leaves);
                }
                else if (ours.Price == bid)
                {
                    bidQty += ours.Leaves;
                }
            }
            else if (ours.Price < ask)
            {
                (ask, askQty) = (ours.Price, ours.Leaves);
            }
            else if (ours.Price == ask)
            {
                askQty += ours.Leaves;
            }
        }

        if (_withDepth)
        {
            var bids = Enumerable.Range(0, 5).Select(i => new PriceLevel(_marketBid - (i * _rules.TickSize * 2), 1m)).ToArray();
            var asks = Enumerable.Range(0, 5).Select(i => new PriceLevel(marketAsk + (i * _rules.TickSize * 2), 1m)).ToArray();
            if (_marketDataUp)
            {
                Apply(Machine.OnDepth(new DepthLevels(bids, asks, _updateId, _now), _now), "depth");
            }
        }

        Feed(new BookTop(bid, bidQty, ask, askQty, ++_updateId, _now));
    }

    private void Feed(BookTop top)
    {
        if (!_marketDataUp)
        {
            return;
        }

        _seen = top;
        Apply(Machine.OnBookTop(top, _now), $"book {top.Bid}/{top.Ask}");
    }

    private void TradeAtTouch()
    {
        var ours = _orders.Values.FirstOrDefault(o => o.Live && !o.Market);
        if (ours is null)
        {
            return;
        }

        var atTouch = _spec.Side == Side.Buy ? ours.Price >= _marketBid : ours.Price <= _marketAsk;
        if (!atTouch)
        {
            return;
        }

        var steps = (int)(ours.Leaves / _rules.StepSize);
        FillOrder(ours, _rules.StepSize * (1 + _rng.Next(Math.Max(1, steps / 8))));
    }

    private void FillOrder(ExchangeOrder order, decimal quantity)
    {
        quantity = Math.Min(quantity, order.Leaves);
        if (quantity <= 0)
        {
            return;
        }

        var price = order.Price;
        order.Executed += quantity;
        order.ExecutedNotional += price * quantity;
        var full = order.Leaves == 0;
        if (full)
        {
            order.Live = false;
        }

        var fill = new Fill(order.ClientOrderId, _tradeId++, price, quantity, 0m, "USDT", !order.Market, order.Executed, full, _now, _now);
        order.Trades.Add(fill);
        Action deliver = () =>
        {
            _tradesDelivered.Add(fill.TradeId);
            Apply(Machine.OnFill(fill with { Time = _now }), $"fill {fill.TradeId} {fill.Quantity}@{fill.Price}");
        };
        _lastFillEvent = deliver;
        _stream.Add(deliver);
    }

    private void DeliverAnswer()
    {
        if (_answers.Count == 0)
        {
            return;
        }

        // REST answers come back roughly in order, sometimes not.
        var index = _rng.Next(4) == 0 ? _rng.Next(_answers.Count) : 0;
        var answer = _answers[index];
        _answers.RemoveAt(index);
        answer();
    }

    private void DeliverStream()
    {
        if (_stream.Count == 0 || !_orderEntryUp)
        {
            return;
        }

        var next = _stream[0];
        _stream.RemoveAt(0);
        next();
    }

    private void ToggleMarketData()
    {
        _marketDataUp = !_marketDataUp;
        Apply(_marketDataUp ? Machine.OnConnectivityRestored(ConnectionScope.MarketData, _now) : Machine.OnConnectivityLost(ConnectionScope.MarketData, _now), $"market data up={_marketDataUp}");
    }

    private void ToggleOrderEntry()
    {
        _orderEntryUp = !_orderEntryUp;
        Apply(_orderEntryUp ? Machine.OnConnectivityRestored(ConnectionScope.OrderEntry, _now) : Machine.OnConnectivityLost(ConnectionScope.OrderEntry, _now), $"order entry up={_orderEntryUp}");
    }

    private void Apply(ChaserDecisions decisions, string cause)
    {
        _story.Add(cause);
        foreach (var command in decisions.ToArray())
        {
            _story.Add("  -> " + command);
            Execute(command);
        }
    }

    private void Execute(ChaserCommand command)
    {
        var sentAt = _now;
        switch (command.Kind)
        {
            case ChaserCommandKind.Place:
                CheckPrice(command);
                Check(_rules.Check(command.Price, command.Quantity, _spec.ReduceOnly).IsValid || command.OrderType == ChildOrderType.Market, $"placed an order the filters refuse: {command}");
                _answers.Add(() => { if (!Expired(command, sentAt, RequestKind.Place)) { AnswerPlace(command); } });
                break;
            case ChaserCommandKind.Modify:
                CheckPrice(command);
                _answers.Add(() => { if (!Expired(command, sentAt, RequestKind.Modify)) { AnswerModify(command); } });
                break;
            case ChaserCommandKind.Cancel:
                _answers.Add(() => { if (!Expired(command, sentAt, RequestKind.Cancel)) { AnswerCancel(command); } });
                break;
            case ChaserCommandKind.Query:
                _answers.Add(() => AnswerQuery(command));
                break;
            default:
                break;
        }
    }

    /// <summary>A request that reaches the exchange after its recvWindow is refused unexecuted (-1021), or times out at the host.</summary>
    private bool Expired(ChaserCommand command, DateTimeOffset sentAt, RequestKind request)
    {
        if (_now - sentAt <= RecvWindow)
        {
            return false;
        }

        if (_rng.Next(2) == 0)
        {
            Apply(Machine.OnRejected(new OrderRejected(command.ClientOrderId, request, RejectKind.Retryable, -1021, "Timestamp for this request is outside of the recvWindow.", _now)), $"{request} -1021");
        }
        else
        {
            Apply(Machine.OnOutcomeUnknown(new RequestOutcomeUnknown(command.ClientOrderId, request, _now)), $"{request} timed out");
        }

        return true;
    }

    private void CheckPrice(ChaserCommand command)
    {
        if (command.OrderType == ChildOrderType.Market)
        {
            return;
        }

        Check(_seen.IsSane, $"priced {command} on a book that is not sane: {_seen}");
        Check(
            _spec.Side == Side.Buy ? command.Price < _seen.Ask : command.Price > _seen.Bid,
            $"{command} would cross the book the chaser saw: {_seen.Bid}/{_seen.Ask}");
    }

    private bool Unknown(ChaserCommand command, RequestKind request)
    {
        if (_rng.Next(20) != 0)
        {
            return false;
        }

        Apply(Machine.OnOutcomeUnknown(new RequestOutcomeUnknown(command.ClientOrderId, request, _now)), $"unknown outcome of {command.Kind}");
        return true;
    }

    private void AnswerPlace(ChaserCommand command)
    {
        var lost = _rng.Next(20) == 0;
        if (!lost && _rng.Next(25) == 0)
        {
            Apply(Machine.OnRejected(new OrderRejected(command.ClientOrderId, RequestKind.Place, RejectKind.Retryable, -1003, "rate", _now)), "place throttled");
            return;
        }

        var crosses = _spec.Side == Side.Buy ? command.Price >= _marketAsk : command.Price <= _marketBid;
        if (command.OrderType == ChildOrderType.PostOnly && crosses)
        {
            if (!lost)
            {
                Apply(Machine.OnRejected(new OrderRejected(command.ClientOrderId, RequestKind.Place, RejectKind.PostOnlyWouldCross, -5022, "post only", _now)), "place -5022");
            }
            else
            {
                Apply(Machine.OnOutcomeUnknown(new RequestOutcomeUnknown(command.ClientOrderId, RequestKind.Place, _now)), "place outcome unknown (not placed)");
            }

            return;
        }

        var order = new ExchangeOrder(command.ClientOrderId, _orderId++, command.Price, command.Quantity, command.OrderType == ChildOrderType.Market);
        _orders.Add(order.ClientOrderId, order);
        var accepted = new OrderAccepted(order.ClientOrderId, order.OrderId, order.Price, order.Quantity, false, _now, _now);
        _stream.Add(() => Apply(Machine.OnAccepted(accepted with { Time = _now }), "stream NEW"));
        if (order.Market)
        {
            FillOrder(order, order.Quantity);
        }

        if (lost)
        {
            Apply(Machine.OnOutcomeUnknown(new RequestOutcomeUnknown(command.ClientOrderId, RequestKind.Place, _now)), "place outcome unknown (placed)");
            return;
        }

        Apply(Machine.OnAccepted(accepted), "place ack");
    }

    private void AnswerModify(ChaserCommand command)
    {
        var order = _orders[command.ClientOrderId];
        if (!order.Live)
        {
            if (!Unknown(command, RequestKind.Modify))
            {
                Apply(Machine.OnRejected(new OrderRejected(command.ClientOrderId, RequestKind.Modify, RejectKind.UnknownOrder, -2013, "no such order", _now)), "modify -2013");
            }

            return;
        }

        var crosses = _spec.Side == Side.Buy ? command.Price >= _marketAsk : command.Price <= _marketBid;
        if (crosses || command.Quantity <= order.Executed)
        {
            // Binance cancels the order: a GTX modify that would cross, or a quantity at or below what executed.
            order.Live = false;
            var finished = new OrderFinished(order.ClientOrderId, ExchangeOrderStatus.Canceled, order.Executed, _now, _now);
            _stream.Add(() => Apply(Machine.OnOrderFinished(finished with { Time = _now }), "stream CANCELED"));
            if (!Unknown(command, RequestKind.Modify))
            {
                Apply(Machine.OnRejected(new OrderRejected(command.ClientOrderId, RequestKind.Modify, RejectKind.PostOnlyWouldCross, -5022, "post only", _now)), "modify -5022");
            }

            return;
        }

        order.Price = command.Price;
        order.Quantity = command.Quantity;
        var accepted = new OrderAccepted(order.ClientOrderId, order.OrderId, order.Price, order.Quantity, true, _now, _now);
        _stream.Add(() => Apply(Machine.OnAccepted(accepted with { Time = _now }), "stream AMENDMENT"));
        if (!Unknown(command, RequestKind.Modify))
        {
            Apply(Machine.OnAccepted(accepted), "modify ack");
        }
    }

    private void AnswerCancel(ChaserCommand command)
    {
        var order = _orders[command.ClientOrderId];
        if (!order.Live)
        {
            if (!Unknown(command, RequestKind.Cancel))
            {
                Apply(Machine.OnRejected(new OrderRejected(command.ClientOrderId, RequestKind.Cancel, RejectKind.UnknownOrder, -2011, "Unknown order sent.", _now)), "cancel -2011");
            }

            return;
        }

        order.Live = false;
        var finished = new OrderFinished(order.ClientOrderId, ExchangeOrderStatus.Canceled, order.Executed, _now, _now);
        _stream.Add(() => Apply(Machine.OnOrderFinished(finished with { Time = _now }), "stream CANCELED"));
        if (!Unknown(command, RequestKind.Cancel))
        {
            Apply(Machine.OnOrderFinished(finished), "cancel ack");
        }
    }

    private void AnswerQuery(ChaserCommand command)
    {
        if (!_orders.TryGetValue(command.ClientOrderId, out var order))
        {
            Apply(Machine.OnStatusReport(new OrderStatusReport(command.ClientOrderId, false, ExchangeOrderStatus.New, 0m, 0m, 0m, _now)), "query: not found");
            return;
        }

        // The host fetches userTrades first, then the order's status.
        foreach (var trade in order.Trades)
        {
            _tradesDelivered.Add(trade.TradeId);
            Apply(Machine.OnFill(trade with { Time = _now }), $"userTrades {trade.TradeId}");
        }

        var status = order.Live
            ? (order.Executed > 0 ? ExchangeOrderStatus.PartiallyFilled : ExchangeOrderStatus.New)
            : (order.Leaves == 0 ? ExchangeOrderStatus.Filled : ExchangeOrderStatus.Canceled);
        Apply(Machine.OnStatusReport(new OrderStatusReport(order.ClientOrderId, true, status, order.Price, order.Quantity, order.Executed, _now)), $"query: {status}");
    }

    private void CheckInvariants()
    {
        Check(Machine.Children.Count(c => c.IsOpen) <= 1, "more than one open child in the chaser");
        Check(_orders.Values.Count(o => o.Live) <= 1, "more than one of our orders live on the exchange");
        var step = _rules.StepSize;
        if (_spec.SizeType == SizeType.Quantity)
        {
            Check(ExchangeExecuted <= _spec.Size + step, $"overfilled: executed {ExchangeExecuted} of {_spec.Size}");
        }
        else
        {
            var highest = _orders.Values.Select(o => o.Price).DefaultIfEmpty(0m).Max();
            Check(ExchangeExecutedNotional <= _spec.Size + (highest * step), $"overfilled: executed {ExchangeExecutedNotional} USDT of {_spec.Size}");
        }

        Check(Machine.FilledQuantity <= ExchangeExecuted, $"counted {Machine.FilledQuantity} but the exchange executed only {ExchangeExecuted}");
        Check(Machine.Children.Count == 0 || Machine.Children[^1].Modifies <= MaxModifiesPerOrder, $"modified one order more than Binance's {MaxModifiesPerOrder} times");
    }

    private bool RemainderPostable(decimal price)
    {
        if (price <= 0)
        {
            return false;
        }

        var remaining = _spec.SizeType == SizeType.Quantity
            ? _spec.Size - ExchangeExecuted
            : (_spec.Size - ExchangeExecutedNotional) / price;
        return _rules.CanPost(price, _rules.FloorQuantity(remaining), _spec.ReduceOnly);
    }

    private void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvariantViolation($"{message}\n{_spec}\nlast steps:\n{string.Join('\n', _story.TakeLast(40))}");
        }
    }

    private sealed class ExchangeOrder(string clientOrderId, long orderId, decimal price, decimal quantity, bool market)
    {
        public string ClientOrderId { get; } = clientOrderId;

        public long OrderId { get; } = orderId;

        public decimal Price { get; set; } = price;

        public decimal Quantity { get; set; } = quantity;

        public bool Market { get; } = market;

        public bool Live { get; set; } = true;

        public decimal Executed { get; set; }

        public decimal ExecutedNotional { get; set; }

        public decimal Leaves => Quantity - Executed;

        public List<Fill> Trades { get; } = [];
    }
}

internal sealed class InvariantViolation(string message) : Exception(message);

/// <summary>
/// A symbol a random world trades: its rules, where its book starts, and how many lot steps one unit of a random
/// quantity order is (so that the smallest order is still over the symbol's minimum notional).
/// </summary>
internal sealed record WorldMarket(SymbolRules Rules, decimal StartBid, int StepsPerLot)
{
    /// <summary>A tick is 1.5 millionths of the price: a re-price moves the order's value by almost nothing.</summary>
    public static WorldMarket Btc { get; } = new(TestRules.Btc, 65_000.0m, 1);

    /// <summary>
    /// A tick is a ten-thousandth of the price and a lot step worth ten cents: a price step of a re-price is worth
    /// far more than a lot step, so a notional order's overspend shows past the one-step rounding the invariant allows.
    /// </summary>
    public static WorldMarket Doge { get; } = new(TestRules.Doge, 0.10000m, 100);
}
