using System.Diagnostics;
using System.Globalization;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Rules;
using Chaser.Engine;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;
using Chaser.Simulator.Sources;

namespace Chaser.Backtesting;

/// <summary>
/// How the backtested parent order is worked: the chaser, or one of the simple baselines it is judged against. All of
/// them run on the same matching engine, queue model, latency and fees.
/// </summary>
public enum BacktestStrategy
{
    /// <summary>Chaser's own strategy with its defaults (what <c>chaser execute</c> runs).</summary>
    Chaser,

    /// <summary>Re-price to the touch on every change: no step-back, no minimum interval.</summary>
    Naive,

    /// <summary>Post once at the touch and never move; at the deadline cancel what is left.</summary>
    Queue,

    /// <summary>Post once at the touch and never move; at the deadline take what is left with market orders.</summary>
    QueueTake,

    /// <summary>Take the whole order at arrival with market orders, walking the book.</summary>
    Taker,
}

/// <summary>The strategies by the names the command line and the tables give them, and what each one runs.</summary>
public static class BacktestStrategies
{
    /// <summary>Every strategy, the chaser first, in the order tables list them.</summary>
    public static IReadOnlyList<BacktestStrategy> All { get; } =
        [BacktestStrategy.Chaser, BacktestStrategy.Naive, BacktestStrategy.Queue, BacktestStrategy.QueueTake, BacktestStrategy.Taker];

    /// <summary>The strategy's name: <c>chaser</c>, <c>naive</c>, <c>queue</c>, <c>queue-take</c>, <c>taker</c>.</summary>
    public static string NameOf(BacktestStrategy strategy) => strategy switch
    {
        BacktestStrategy.Chaser => "chaser",
        BacktestStrategy.Naive => "naive",
        BacktestStrategy.Queue => "queue",
        BacktestStrategy.QueueTake => "queue-take",
        BacktestStrategy.Taker => "taker",
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "not a strategy"),
    };

    /// <summary>The strategy named <paramref name="name"/> (exactly as <see cref="NameOf"/> gives it).</summary>
    public static bool TryParse(string? name, out BacktestStrategy strategy)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(NameOf(candidate), name, StringComparison.Ordinal))
            {
                strategy = candidate;
                return true;
            }
        }

        strategy = default;
        return false;
    }

    /// <summary>
    /// The one place a strategy gets its meaning: the order and the chaser options it is worked with. Every strategy
    /// is the same <see cref="ChaserStateMachine"/> on the same host, differing only in these knobs; everything else
    /// (<paramref name="chaser"/>'s other options, the invalid-cancellation guard included) is shared. An order with
    /// no strategy tag is tagged with the strategy's name, so that results say which ran. Combinations that mean
    /// nothing are refused (<see cref="ArgumentException"/> naming the field): a re-price interval for a strategy that
    /// never re-prices, a deadline action for one that takes at arrival or that has its own, a taking finish without a
    /// deadline to take at.
    /// </summary>
    /// <param name="strategy">The strategy.</param>
    /// <param name="order">The parent order as given.</param>
    /// <param name="chaser">The chaser options the strategy's knobs are set on.</param>
    /// <param name="hasDeadline">Whether the order will have a deadline (in a backtest: its time limit or the backtest's).</param>
    public static (ParentOrderSpec Order, ChaserOptions Chaser) Configure(BacktestStrategy strategy, ParentOrderSpec order, ChaserOptions chaser, bool hasDeadline)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(chaser);
        var name = NameOf(strategy);
        var never = strategy is BacktestStrategy.Queue or BacktestStrategy.QueueTake or BacktestStrategy.Taker;
        if (never && order.MinRepriceInterval is not null)
        {
            throw new ArgumentException($"min_reprice_interval: the {name} strategy never re-prices", nameof(order));
        }

        if (strategy is BacktestStrategy.Queue or BacktestStrategy.Taker && order.OnDeadline == DeadlineAction.TakeRemainder)
        {
            throw new ArgumentException(
                strategy == BacktestStrategy.Queue
                    ? "deadline_action: the queue strategy cancels at the deadline; queue-take is the one that takes the rest"
                    : "deadline_action: the taker strategy takes the whole order at arrival, nothing is left at the deadline",
                nameof(order));
        }

        if (strategy == BacktestStrategy.QueueTake && !hasDeadline)
        {
            throw new ArgumentException("deadline: the queue-take strategy takes what is left at the deadline, and the order has none", nameof(order));
        }

        var tagged = order.Strategy.Length == 0 ? order with { Strategy = name } : order;

        // The baselines switch the chaser's re-pricing off or to its plainest form; a knob added to the chaser's
        // defaults later must be switched off here too, or the baselines would quietly run it.
        return strategy switch
        {
            BacktestStrategy.Chaser => (tagged, chaser),
            BacktestStrategy.Naive => (tagged, chaser with { Reprice = RepricePolicy.Chase, StepBack = false, MinRepriceInterval = TimeSpan.Zero }),
            BacktestStrategy.Queue => (tagged, chaser with { Reprice = RepricePolicy.Never, StepBack = false }),
            BacktestStrategy.QueueTake => (tagged with { OnDeadline = DeadlineAction.TakeRemainder }, chaser with { Reprice = RepricePolicy.Never, StepBack = false }),
            _ => (tagged, chaser with { TakeAtArrival = true }),
        };
    }
}

/// <summary>What to replay and how.</summary>
public sealed record BacktestOptions
{
    /// <summary>
    /// The parent order. Its symbol must be the replayed one; its wall-clock deadline is ignored, its time limit counts
    /// in market time like <see cref="Deadline"/> (the earlier of the two applies), and its deadline action, strategy
    /// and re-price interval apply as they would live.
    /// </summary>
    public required ParentOrderSpec Order { get; init; }

    /// <summary>Binance public-data CSV files of the order's symbol, read for this run; or give <see cref="Market"/>.</summary>
    public ReplayFiles? Data { get; init; }

    /// <summary>
    /// The order's symbol's recording already in memory (<see cref="RecordedMarket.Load"/>), shared by any number of runs:
    /// the alternative to <see cref="Data"/> (exactly one of the two), the same events without parsing the files again.
    /// </summary>
    public RecordedMarket? Market { get; init; }

    /// <summary>
    /// Start the order at this exchange time, on the market as of then (the book and depth after every event up to
    /// it), instead of at the first quote; a time outside the data is refused (<see cref="ReplayStartException"/>).
    /// </summary>
    public DateTimeOffset? Start { get; init; }

    /// <summary>
    /// The exchange as it stood at <see cref="Start"/> on <see cref="Market"/> (made once for many runs by
    /// <see cref="MarketCheckpoint.Series"/>): the run forks it instead of replaying the data before its start, with
    /// the same result. Its market, start, symbol and queue model must be this run's.
    /// </summary>
    public MarketCheckpoint? Checkpoint { get; init; }

    /// <summary>One-way latency between us and the exchange, for market data and for order entry alike.</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Stop working the order this long after the start (then it is expired, its child canceled).</summary>
    public TimeSpan? Deadline { get; init; }

    public ChaserOptions Chaser { get; init; } = new();

    /// <summary>How the order is worked (the chaser by default): <see cref="BacktestStrategies.Configure"/> says what each one runs.</summary>
    public BacktestStrategy Strategy { get; init; } = BacktestStrategy.Chaser;

    /// <summary>How the matching engine advances our place in the queue.</summary>
    public QueueModel QueueModel { get; init; } = QueueModel.Proportional;

    /// <summary>The symbol's exchange rules; by default the simulator's (Binance's real filters for the listed symbols).</summary>
    public SymbolSpec? Symbol { get; init; }
}

/// <summary>A backtest's outcome: the same result the live engine gives, plus how much market was replayed.</summary>
/// <param name="Execution">The result, as the live engine reports it (times are exchange times of the replay).</param>
/// <param name="MarketEvents">Market events replayed.</param>
/// <param name="DataStart">Exchange time of the first event in the data.</param>
/// <param name="DataEnd">Exchange time when the backtest stopped.</param>
/// <param name="WallTime">How long the replay took on this machine.</param>
/// <param name="ExchangeTradeIds">Every trade of ours the matching engine recorded (its userTrades), to check nothing was lost.</param>
/// <param name="OpenOrdersLeft">Orders of ours still open on the exchange at the end (none when the chaser cleaned up).</param>
public sealed record BacktestResult(
    ExecutionResult Execution,
    long MarketEvents,
    DateTimeOffset DataStart,
    DateTimeOffset DataEnd,
    TimeSpan WallTime,
    IReadOnlyList<long> ExchangeTradeIds,
    int OpenOrdersLeft);

/// <summary>A <see cref="BacktestOptions.Start"/> outside the replayed data; the message says where the data lies.</summary>
public sealed class ReplayStartException(string message) : Exception(message);

/// <summary>
/// Runs the chaser (the same <see cref="ChaserStateMachine"/> the engine runs) against the simulator's matching engine
/// (the same <see cref="ExchangeEngine"/> <c>chaser sim</c> serves), in-process, on virtual time: a discrete-event loop
/// over the replayed market, our requests and the exchange's answers, each delayed by the configured latency. No
/// clock is read and nothing sleeps, so it runs as fast as the CPU allows and is deterministic for the same input.
/// </summary>
public static class Backtester
{
    public static BacktestResult Run(BacktestOptions options, IExecutionRecorder? recorder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var symbol = options.Order.Symbol;
        if ((options.Data is null) == (options.Market is null))
        {
            throw new ArgumentException("data: give either the files (Data) or the recording in memory (Market), exactly one", nameof(options));
        }

        var dataSymbol = options.Data?.Symbol ?? options.Market!.Symbol;
        if (!string.Equals(symbol, dataSymbol, StringComparison.Ordinal))
        {
            throw new ArgumentException($"symbol: the order is on {symbol} but the data is {dataSymbol}", nameof(options));
        }

        if (options.Latency < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Latency, "latency must not be negative");
        }

        var spec = options.Symbol ?? SymbolSpec.Defaults.FirstOrDefault(s => s.Symbol == symbol)
            ?? throw new ArgumentException($"symbol: no exchange rules are known for {symbol}", nameof(options));
        var (order, chaser) = BacktestStrategies.Configure(options.Strategy, options.Order, options.Chaser, options.Deadline is not null || options.Order.TimeLimit is not null);
        var run = new Replay(options with { Order = order, Chaser = chaser }, spec, recorder ?? NullRecorder.Instance, cancellationToken);
        return run.Execute();
    }

    /// <summary>Binance's filters of a simulated symbol, as exchangeInfo would give them.</summary>
    public static SymbolRules RulesOf(SymbolSpec spec) => new()
    {
        Symbol = spec.Symbol,
        TickSize = spec.TickSize,
        MinPrice = spec.MinPrice,
        MaxPrice = spec.MaxPrice,
        StepSize = spec.StepSize,
        MinQty = spec.MinQty,
        MaxQty = spec.MaxQty,
        MarketStepSize = spec.StepSize,
        MarketMinQty = spec.MinQty,
        MarketMaxQty = spec.MarketMaxQty,
        MinNotional = spec.MinNotional,
        PercentPriceMultiplierUp = spec.MultiplierUp,
        PercentPriceMultiplierDown = spec.MultiplierDown,
        PricePrecision = spec.PricePrecision,
        QuantityPrecision = spec.QuantityPrecision,
        MaxOpenOrders = spec.MaxNumOrders,
    };

    private static DateTimeOffset FromMs(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs);

    private static ExchangeOrderStatus ToCore(OrderStatus status) => status switch
    {
        OrderStatus.New => ExchangeOrderStatus.New,
        OrderStatus.PartiallyFilled => ExchangeOrderStatus.PartiallyFilled,
        OrderStatus.Filled => ExchangeOrderStatus.Filled,
        OrderStatus.Canceled => ExchangeOrderStatus.Canceled,
        _ => ExchangeOrderStatus.Expired,
    };

    /// <summary>Collects what the exchange publishes while one step runs (it calls back synchronously).</summary>
    private sealed class Tape : IExchangeObserver
    {
        public List<BookTicker> Books { get; } = [];

        public List<PublicTrade> Trades { get; } = [];

        public List<OrderUpdate> Orders { get; } = [];

        /// <summary>The depth changed during this step: its top levels go to the chaser, as the live depth stream's do.</summary>
        public bool DepthChanged { get; private set; }

        public void OnDepthUpdate(DepthUpdate update) => DepthChanged = true;

        public void OnBookTicker(BookTicker ticker) => Books.Add(ticker);

        public void OnTrade(PublicTrade trade) => Trades.Add(trade);

        public void OnOrderUpdate(OrderUpdate update) => Orders.Add(update);

        public void OnAccountUpdate(AccountUpdate update)
        {
        }

        public void Clear()
        {
            Books.Clear();
            Trades.Clear();
            Orders.Clear();
            DepthChanged = false;
        }
    }

    /// <summary>
    /// The virtual-time scheduler around one <see cref="OrderHost"/>: market events at their exchange times, our
    /// requests reaching the exchange one latency after they were sent (it is the host's gateway), and what the
    /// exchange answers or publishes reaching the host one latency later.
    /// </summary>
    private sealed class Replay : IOrderGateway
    {
        // As many levels as the live connector hands the chaser (BinanceConnectorOptions.DepthLevels).
        private const int DepthLevelsDelivered = 5;

        private readonly BacktestOptions _options;
        private readonly SymbolSpec _spec;
        private readonly IExecutionRecorder _recorder;
        private readonly CancellationToken _cancellation;
        private readonly PriorityQueue<Scheduled, (long Ticks, long Sequence)> _scheduled = new();
        private readonly Tape _tape = new();
        private readonly CancellationRatioTracker _cancels;
        private VirtualClock _clock = null!;
        private ExchangeEngine _exchange = null!;
        private OrderHost? _host;
        private long _sequence;
        private long _marketEvents;
        private bool _startReached;

        public Replay(BacktestOptions options, SymbolSpec spec, IExecutionRecorder recorder, CancellationToken cancellation)
        {
            _options = options;
            _spec = spec;
            _recorder = recorder;
            _cancellation = cancellation;
            // A lone order keeps its own invalid-cancellation budget, fed to its chaser as the live engine does.
            _cancels = new CancellationRatioTracker(options.Chaser);
        }

        private DateTimeOffset Now => _clock.GetUtcNow();

        public BacktestResult Execute()
        {
            var wall = Stopwatch.StartNew();
            // The recording in memory, or the files read as the replay goes: the same events either way.
            IMarketSource replayed;
            long bookStart, end;
            if (_options.Market is { } market)
            {
                (replayed, bookStart, end) = (market, market.BookStart, market.End);
            }
            else
            {
                var source = ReplaySource.Create(_options.Data! with { Symbol = _spec.Symbol }, loop: false);
                (replayed, bookStart, end) = (source, source.BookStart, source.End);
            }

            if (_options.Start is { } start && (start < FromMs(bookStart) || start > FromMs(end)))
            {
                throw new ReplayStartException(string.Create(CultureInfo.InvariantCulture,
                    $"{start:yyyy-MM-dd HH:mm:ss.fff'Z'} is outside the data, which holds the book from {FromMs(bookStart):yyyy-MM-dd HH:mm:ss.fff'Z'} to {FromMs(end):yyyy-MM-dd HH:mm:ss.fff'Z'}"));
            }

            var checkpoint = _options.Checkpoint;
            if (checkpoint is not null && (checkpoint.Market != _options.Market || checkpoint.Start != _options.Start || checkpoint.Symbol != _spec || checkpoint.QueueModel != _options.QueueModel))
            {
                throw new ArgumentException("checkpoint: it is of another market, start, symbol or queue model than this run", nameof(_options));
            }

            // From a checkpoint, the events after its start; the engine as it stood then.
            using var events = (checkpoint is null ? replayed.Events() : checkpoint.Market.Events.Skip(checkpoint.EventsApplied)).GetEnumerator();
            var hasEvent = events.MoveNext();
            if (!hasEvent && checkpoint is null)
            {
                throw new ArgumentException("data: the replay files hold no market events", nameof(_options));
            }

            DateTimeOffset dataStart;
            if (checkpoint is null)
            {
                dataStart = FromMs(events.Current.Time);
                _clock = new VirtualClock(dataStart);
                _exchange = new ExchangeEngine(new Simulator.Engine.EngineOptions { Symbols = [_spec], QueueModel = _options.QueueModel }, _clock);
            }
            else
            {
                dataStart = FromMs(checkpoint.Market.Events[0].Time);
                _clock = new VirtualClock(checkpoint.Time);
                _exchange = checkpoint.Fork(_clock);
                _marketEvents = checkpoint.EventsApplied;
            }

            _exchange.Subscribe(_tape);
            var dataRanOut = false;
            while (_host?.IsFinished != true)
            {
                _cancellation.ThrowIfCancellationRequested();
                if (!_startReached && _options.Start is { } at && (!hasEvent || FromMs(events.Current.Time) > at))
                {
                    // Every event up to the start has been applied: the order starts then, on the book as it stood.
                    _startReached = true;
                    _clock.AdvanceTo(at);
                    StartOrder(ToBookTop(_exchange.GetBookTicker(_spec.Symbol)));
                    continue;
                }

                var nextMarket = hasEvent ? FromMs(events.Current.Time).UtcTicks : long.MaxValue;
                var nextScheduled = _scheduled.TryPeek(out _, out var key) ? key.Ticks : long.MaxValue;
                var nextTimer = _host?.NextWakeUp is { } wake ? wake.UtcTicks : long.MaxValue;
                var nextExpiry = _host is not null && _cancels.NextExpiry is { } expiry ? expiry.UtcTicks : long.MaxValue;
                if (!hasEvent && nextScheduled == long.MaxValue)
                {
                    // Nothing more will happen: the market data is exhausted and nothing is in flight.
                    dataRanOut = true;
                    break;
                }

                if (nextExpiry <= nextTimer && nextExpiry <= nextMarket && nextExpiry <= nextScheduled && _host is not null)
                {
                    // Requests left the 10-minute cycle: the allowance may change with nothing sent.
                    _clock.AdvanceTo(new DateTimeOffset(nextExpiry, TimeSpan.Zero));
                    if (_cancels.Refresh(Now))
                    {
                        _host.Handle(ChaserInput.OfCancelBudget(_cancels.YoungCancelsAllowed).ReceivedAt(_clock.GetTimestamp()));
                    }
                }
                else if (nextTimer <= nextMarket && nextTimer <= nextScheduled && _host is not null)
                {
                    _clock.AdvanceTo(new DateTimeOffset(nextTimer, TimeSpan.Zero));
                    _host.Handle(ChaserInput.Timer.ReceivedAt(_clock.GetTimestamp()));
                }
                else if (nextScheduled <= nextMarket)
                {
                    // The clock moves to the delayed action's time first: the exchange stamps what it does then.
                    var due = _scheduled.Dequeue();
                    _clock.AdvanceTo(new DateTimeOffset(nextScheduled, TimeSpan.Zero));
                    if (due.IsRequest)
                    {
                        AtExchange(due.Request);
                    }
                    else
                    {
                        // Received when it is due, on the virtual clock, as the live socket stamps it at its read.
                        var input = due.Input;
                        _host!.Handle(input.ReceivedTimestamp != 0 ? input : input.ReceivedAt(_clock.GetTimestamp()));
                    }
                }
                else
                {
                    ApplyMarket(events.Current);
                    hasEvent = events.MoveNext();
                }
            }

            if (_host is null)
            {
                throw new InvalidOperationException(
                    _options.Start is { } from
                        ? $"start: the data has no two-sided quote at or after {from:O}"
                        : "data: the replay files hold no two-sided quote");
            }

            var result = _host.Complete(dataRanOut ? "the market data ran out" : "stopped");
            var exchangeTrades = _exchange.GetUserTrades(_spec.Symbol, limit: int.MaxValue).Select(t => t.TradeId).ToArray();
            return new BacktestResult(result, _marketEvents, dataStart, Now, wall.Elapsed, exchangeTrades, _exchange.GetOpenOrders(_spec.Symbol).Count);
        }

        /// <summary>The host's gateway: the request reaches the matching engine one latency from now.</summary>
        public Submission Submit(in OrderRequest request)
        {
            Schedule(Now + _options.Latency, Scheduled.AtExchange(request));
            if (_cancels.Record(request.Command, Now))
            {
                // The lone order's allowance changed: it is the order's next input, at this time, ahead of any answer.
                Deliver(Now, ChaserInput.OfCancelBudget(_cancels.YoungCancelsAllowed));
            }

            return Submission.HandedOffAt(_clock.GetTimestamp());
        }

        private void ApplyMarket(MarketEvent marketEvent)
        {
            _clock.AdvanceTo(FromMs(marketEvent.Time));
            _marketEvents++;
            _tape.Clear();
            marketEvent.ApplyTo(_exchange);
            var book = _tape.Books.Count > 0 ? _tape.Books[^1] : null;
            if (_host is null)
            {
                // Without a start the order starts at the first quote; with one, at a later quote only when the book
                // was one-sided at the start.
                if (book is not null && (_options.Start is null || _startReached))
                {
                    StartOrder(ToBookTop(book));
                }

                return;
            }

            PublishTape();
        }

        private void StartOrder(BookTop top)
        {
            if (!top.IsSane)
            {
                return;
            }

            var startedAt = Now;
            // Limits count in market time from the replay's start: the backtest's Deadline and the order's own time
            // limit, the earlier applying; the order's wall-clock deadline means nothing in a replay of the past.
            var limited = _options.Order with { Deadline = _options.Deadline is { } d ? startedAt + d : null };
            var order = limited with { Deadline = limited.DeadlineFrom(startedAt) };
            _host = new OrderHost(new ChaserStateMachine(order, RulesOf(_spec), _options.Chaser), this, _recorder, _clock);
            _host.Start(initialBudget: 1m);
            _host.Handle(ChaserInput.OfBook(_spec.Symbol, top, _clock.GetTimestamp()));

            // The depth as it stood then too, as the book: what a taker at arrival walks, and where a step-back goes.
            var depth = _exchange.GetDepth(_spec.Symbol, DepthLevelsDelivered);
            if (depth.Bids.Count > 0 || depth.Asks.Count > 0)
            {
                _host.Handle(ChaserInput.OfDepth(_spec.Symbol, ToDepthLevels(depth), _clock.GetTimestamp()));
            }
        }

        /// <summary>A request reaches the matching engine; its answer, and what it caused on the stream, travel back.</summary>
        private void AtExchange(in OrderRequest request)
        {
            var command = request.Command;
            var symbol = _spec.Symbol;
            var id = command.ClientOrderId;
            _tape.Clear();
            var answers = new List<ChaserInput>();
            var kind = command.Kind switch
            {
                ChaserCommandKind.Place => RequestKind.Place,
                ChaserCommandKind.Modify => RequestKind.Modify,
                _ => RequestKind.Cancel,
            };
            try
            {
                switch (command.Kind)
                {
                    case ChaserCommandKind.Place:
                        var placed = _exchange.PlaceOrder(new NewOrderRequest
                        {
                            Symbol = symbol,
                            Side = command.Side == Side.Buy ? OrderSide.Buy : OrderSide.Sell,
                            Type = command.OrderType == ChildOrderType.Market ? OrderType.Market : OrderType.Limit,
                            TimeInForce = command.OrderType == ChildOrderType.Market ? null : TimeInForce.Gtx,
                            Quantity = command.Quantity,
                            Price = command.OrderType == ChildOrderType.Market ? null : command.Price,
                            ReduceOnly = request.ReduceOnly,
                            NewClientOrderId = id,
                        }).Final;
                        answers.Add(Answer(placed, isModify: false, isCancel: false));
                        break;
                    case ChaserCommandKind.Modify:
                        var modified = _exchange.ModifyOrder(new ModifyOrderRequest
                        {
                            Symbol = symbol,
                            OrigClientOrderId = id,
                            Side = command.Side == Side.Buy ? OrderSide.Buy : OrderSide.Sell,
                            Quantity = command.Quantity,
                            Price = command.Price,
                        });
                        answers.Add(Answer(modified, isModify: true, isCancel: false));
                        break;
                    case ChaserCommandKind.Cancel:
                        answers.Add(Answer(_exchange.CancelOrder(symbol, null, id), isModify: false, isCancel: true));
                        break;
                    case ChaserCommandKind.Query:
                        QueryAnswer(id, answers);
                        break;
                }
            }
            catch (BinanceException ex) when (command.Kind != ChaserCommandKind.Query)
            {
                answers.Add(ChaserInput.OfRejected(new OrderRejected(id, kind, BinanceRejects.Classify(ex.Code, ex.HttpStatus), ex.Code, ex.Message, Now)));
            }

            // Stream events (fills, cancels caused by the exchange, the book our order changed) race the REST answer;
            // both arrive after one latency.
            PublishTape();
            var arrival = Now + _options.Latency;
            foreach (var answer in answers)
            {
                Deliver(arrival, answer);
            }
        }

        private ChaserInput Answer(OrderSnapshot order, bool isModify, bool isCancel)
        {
            var id = order.ClientOrderId;
            if (isCancel || !order.IsOpen)
            {
                return ChaserInput.OfFinished(new OrderFinished(id, ToCore(order.Status), order.ExecutedQty, FromMs(order.UpdateTime), Now));
            }

            return ChaserInput.OfAccepted(new OrderAccepted(id, order.OrderId, order.Price, order.OrigQty, isModify, FromMs(order.UpdateTime), Now));
        }

        /// <summary>A status query's answer as the connector gives it: the order's trades as fills, then its status.</summary>
        private void QueryAnswer(string id, List<ChaserInput> answers)
        {
            OrderSnapshot order;
            try
            {
                order = _exchange.QueryOrder(_spec.Symbol, null, id);
            }
            catch (BinanceException ex) when (ex.Code == -2013)
            {
                answers.Add(ChaserInput.OfStatus(new OrderStatusReport(id, false, ExchangeOrderStatus.New, 0m, 0m, 0m, Now)));
                return;
            }

            if (order.ExecutedQty > 0)
            {
                var cumulative = 0m;
                foreach (var trade in _exchange.GetUserTrades(_spec.Symbol, limit: 100_000).Where(t => t.OrderId == order.OrderId).OrderBy(t => t.TradeId))
                {
                    cumulative += trade.Qty;
                    answers.Add(ChaserInput.OfFill(ToFill(id, trade, cumulative, cumulative >= order.OrigQty)));
                }
            }

            answers.Add(ChaserInput.OfStatus(new OrderStatusReport(id, true, ToCore(order.Status), order.Price, order.OrigQty, order.ExecutedQty, Now)));
        }

        /// <summary>
        /// What the exchange published during the step that just ran, delivered after one latency as the live streams
        /// deliver it: our ORDER_TRADE_UPDATEs, the prints, the top of book, and the depth's top levels when it changed.
        /// </summary>
        private void PublishTape()
        {
            var arrival = Now + _options.Latency;
            var received = VirtualClock.TimestampAt(arrival);
            foreach (var update in _tape.Orders)
            {
                var order = update.Order;
                var id = order.ClientOrderId;
                if (update.ExecutionType == ExecutionType.Trade && update.Trade is { } trade)
                {
                    Deliver(arrival, ChaserInput.OfFill(ToFill(id, trade, order.ExecutedQty, order.Status == OrderStatus.Filled)));
                }
                else if (update.ExecutionType is ExecutionType.Canceled or ExecutionType.Expired)
                {
                    Deliver(arrival, ChaserInput.OfFinished(new OrderFinished(id, ToCore(order.Status), order.ExecutedQty, FromMs(update.TransactionTime), arrival)));
                }
            }

            foreach (var trade in _tape.Trades)
            {
                Deliver(arrival, ChaserInput.OfTrade(_spec.Symbol, new TradePrint(trade.Price, trade.Qty, trade.BuyerIsMaker, FromMs(trade.Time), arrival)));
            }

            if (_tape.Books.Count > 0)
            {
                Deliver(arrival, ChaserInput.OfBook(_spec.Symbol, ToBookTop(_tape.Books[^1]), received));
            }

            if (_tape.DepthChanged)
            {
                Deliver(arrival, ChaserInput.OfDepth(_spec.Symbol, ToDepthLevels(_exchange.GetDepth(_spec.Symbol, DepthLevelsDelivered)), received));
            }

            _tape.Clear();
        }

        private static PriceLevel ToLevel(BookLevel level) => new(level.Price, level.Qty);

        private static DepthLevels ToDepthLevels(DepthSnapshot depth) =>
            new([.. depth.Bids.Select(ToLevel)], [.. depth.Asks.Select(ToLevel)], depth.LastUpdateId, FromMs(depth.TransactionTime));

        private Fill ToFill(string clientOrderId, UserTrade trade, decimal cumulative, bool fullyFilled) =>
            new(clientOrderId, trade.TradeId, trade.Price, trade.Qty, trade.Commission, trade.CommissionAsset, trade.Maker, cumulative, fullyFilled, FromMs(trade.Time), Now);

        private void Deliver(DateTimeOffset time, in ChaserInput input) => Schedule(time, Scheduled.ToHost(input));

        private void Schedule(DateTimeOffset time, in Scheduled what) => _scheduled.Enqueue(what, (time.UtcTicks, _sequence++));

        private static BookTop ToBookTop(BookTicker ticker) =>
            new(ticker.BidPrice, ticker.BidQty, ticker.AskPrice, ticker.AskQty, ticker.UpdateId, FromMs(ticker.TransactionTime));
    }

    /// <summary>What happens at a scheduled time: a request of ours reaches the exchange, or an input reaches the host.</summary>
    private readonly record struct Scheduled(bool IsRequest, OrderRequest Request, ChaserInput Input)
    {
        public static Scheduled AtExchange(in OrderRequest request) => new(true, request, default);

        public static Scheduled ToHost(in ChaserInput input) => new(false, default, input);
    }
}
