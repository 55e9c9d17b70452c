using System.Collections.Concurrent;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Rules;

namespace Chaser.Engine.Tests;

/// <summary>
/// A tiny exchange behind the connector port: the test sets the book and prints trades; our post-only orders rest,
/// are rejected when they would cross, and fill when a trade reaches them. Answers are delivered synchronously.
/// </summary>
internal sealed class InMemoryExchange : IExchangeConnector, IDeadManSwitch
{
    private readonly ConcurrentDictionary<string, SymbolRules> _rules = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BookTop> _books = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly List<OrderRequest> _requests = [];
    private IExchangeEventSink? _sink;
    private long _orderId;
    private long _tradeId;
    private long _updateId;

    private int _subscribeCalls;

    public InMemoryExchange(params SymbolRules[] rules)
    {
        foreach (var rule in rules)
        {
            _rules[rule.Symbol] = rule;
        }
    }

    /// <summary>The requests so far, as a copy: the tests poll it while runners send on their own threads.</summary>
    public IReadOnlyList<OrderRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The clock of the exchange's delays and of the receive / send timestamps it hands the engine: the test's.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Cancels are taken and never answered (an exchange that went quiet): the child stays live.</summary>
    public bool IgnoreCancels { get; set; }

    /// <summary>Dead-man arms and order requests in the order they reached the exchange ("arm BTCUSDT 400", "place chs-1-1").</summary>
    public List<string> Log { get; } = [];

    public string[] LogSnapshot()
    {
        lock (_lock)
        {
            return [.. Log];
        }
    }

    /// <summary>Thrown by every dead-man arm or disarm while set (the venue refusing the countdown).</summary>
    public Exception? ArmFault { get; set; }

    public Task ArmCancelAllAsync(string symbol, TimeSpan countdown, CancellationToken cancellationToken)
    {
        if (ArmFault is { } fault)
        {
            return Task.FromException(fault);
        }

        lock (_lock)
        {
            Log.Add($"arm {symbol} {countdown.TotalMilliseconds:0}");
        }

        return Task.CompletedTask;
    }

    // Concurrent: the tests enumerate it (waiting for a live order) while a runner places the next one; a plain
    // dictionary's enumerator then threw "collection was modified", failing a test at random under load.
    public ConcurrentDictionary<string, RestingOrder> Orders { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Subscribed { get; } = new(StringComparer.Ordinal);

    /// <summary>The most orders of ours that were live at once, per symbol and side.</summary>
    public Dictionary<(string, Side), int> MaxLive { get; } = [];

    public Dictionary<string, int> MaxLiveBySymbol { get; } = new(StringComparer.Ordinal);

    public Task ConnectAsync(IExchangeEventSink sink, CancellationToken cancellationToken)
    {
        _sink = sink;
        return Task.CompletedTask;
    }

    /// <summary>How long a rules request takes to answer (it honours its token meanwhile); none by default.</summary>
    public TimeSpan RulesDelay { get; init; }

    /// <summary>Thrown by every rules request while set (the venue unreachable for a moment).</summary>
    public Exception? RulesFault { get; set; }

    public async Task<SymbolRules> GetSymbolRulesAsync(string symbol, CancellationToken cancellationToken)
    {
        if (RulesFault is { } fault)
        {
            throw fault;
        }

        if (RulesDelay > TimeSpan.Zero)
        {
            await Task.Delay(RulesDelay, Time, cancellationToken);
        }

        return _rules.TryGetValue(symbol, out var rules) ? rules : throw new KeyNotFoundException(symbol);
    }

    /// <summary>How long the n-th subscribe call (from 0) takes to answer; none by default.</summary>
    public Func<int, TimeSpan>? SubscribeDelay { get; init; }

    /// <summary>How many subscribe calls came in.</summary>
    public int SubscribeCalls => Volatile.Read(ref _subscribeCalls);

    /// <summary>Thrown by every subscribe call while set (a fault of the venue during an order's setup).</summary>
    public Exception? SubscribeFault { get; set; }

    public async Task SubscribeAsync(string symbol, CancellationToken cancellationToken)
    {
        if (SubscribeFault is { } fault)
        {
            throw fault;
        }

        if (SubscribeDelay is { } delay)
        {
            await Task.Delay(delay(Interlocked.Increment(ref _subscribeCalls) - 1), Time, cancellationToken);
        }

        lock (_lock)
        {
            Subscribed.Add(symbol);
        }

        if (_books.TryGetValue(symbol, out var book))
        {
            _sink!.OnInput(ChaserInput.OfBook(symbol, book, Time.GetTimestamp()));
        }
    }

    public Task CancelAllAsync(string symbol, string clientIdTag, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public void SetBook(string symbol, decimal bid, decimal ask)
    {
        var book = new BookTop(bid, 3m, ask, 3m, Interlocked.Increment(ref _updateId), DateTimeOffset.UtcNow);
        _books[symbol] = book;
        _sink?.OnInput(ChaserInput.OfBook(symbol, book, Time.GetTimestamp()));
    }

    /// <summary>A taker hits our side at our price: fills up to <paramref name="quantity"/> of each resting order of ours there.</summary>
    public void TradeAgainstUs(string symbol, decimal quantity)
    {
        List<(RestingOrder Order, decimal Quantity, decimal Executed, bool Live)> fills = [];
        lock (_lock)
        {
            foreach (var order in Orders.Values.Where(o => o.Live && o.Symbol == symbol))
            {
                var take = Math.Min(quantity, order.Quantity - order.Executed);
                order.Executed += take;
                if (order.Executed == order.Quantity)
                {
                    order.Live = false;
                }

                fills.Add((order, take, order.Executed, order.Live));
            }
        }

        foreach (var (order, take, executed, live) in fills)
        {
            _sink!.OnInput(ChaserInput.OfFill(new Fill(order.ClientOrderId, Interlocked.Increment(ref _tradeId), order.Price, take, order.Price * take * 0.0002m, "USDT", true, executed, !live, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow)));
        }
    }

    public void ReplayFill(Fill fill) => _sink!.OnInput(ChaserInput.OfFill(fill));

    public void ReplayFinished(OrderFinished finished) => _sink!.OnInput(ChaserInput.OfFinished(finished));

    /// <summary>A print on the market's tape (someone else's trade).</summary>
    public void PublishTrade(string symbol, decimal price, decimal quantity) =>
        _sink!.OnInput(ChaserInput.OfTrade(symbol, new TradePrint(price, quantity, false, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow)));

    /// <summary>How many requests the engine's path warmer rehearsed here (never sent, never in <see cref="Requests"/>).</summary>
    public int Rehearsals => Volatile.Read(ref _rehearsals);

    private int _rehearsals;

    public void Rehearse(in OrderRequest request) => Interlocked.Increment(ref _rehearsals);

    public Submission Submit(in OrderRequest request)
    {
        lock (_lock)
        {
            _requests.Add(request);
            Log.Add($"{request.Command.Kind.ToString().ToLowerInvariant()} {request.Command.ClientOrderId}");
            Execute(request);
        }

        return Submission.HandedOffAt(Time.GetTimestamp());
    }

    private void Execute(OrderRequest request)
    {
        var command = request.Command;
        var now = DateTimeOffset.UtcNow;
        var book = _books[request.Symbol];
        switch (command.Kind)
        {
            case ChaserCommandKind.Place:
                var crosses = command.Side == Side.Buy ? command.Price >= book.Ask : command.Price <= book.Bid;
                if (crosses)
                {
                    _sink!.OnInput(ChaserInput.OfRejected(new OrderRejected(command.ClientOrderId, RequestKind.Place, RejectKind.PostOnlyWouldCross, -5022, "post only", now)));
                    break;
                }

                var order = new RestingOrder(request.Symbol, command.Side, command.ClientOrderId, command.Price, command.Quantity) { OrderId = Interlocked.Increment(ref _orderId) };
                Orders[command.ClientOrderId] = order;
                var live = Orders.Values.Count(o => o.Live && o.Symbol == request.Symbol && o.Side == command.Side);
                MaxLive[(request.Symbol, command.Side)] = Math.Max(MaxLive.GetValueOrDefault((request.Symbol, command.Side)), live);
                var liveOnSymbol = Orders.Values.Count(o => o.Live && o.Symbol == request.Symbol);
                MaxLiveBySymbol[request.Symbol] = Math.Max(MaxLiveBySymbol.GetValueOrDefault(request.Symbol), liveOnSymbol);

                _sink!.OnInput(ChaserInput.OfAccepted(new OrderAccepted(order.ClientOrderId, order.OrderId, order.Price, order.Quantity, false, now, now)));
                break;
            case ChaserCommandKind.Modify:
                var modified = Orders[command.ClientOrderId];
                if (!modified.Live)
                {
                    _sink!.OnInput(ChaserInput.OfRejected(new OrderRejected(command.ClientOrderId, RequestKind.Modify, RejectKind.UnknownOrder, -2013, "Order does not exist.", now)));
                    break;
                }

                modified.Price = command.Price;
                modified.Quantity = command.Quantity;
                _sink!.OnInput(ChaserInput.OfAccepted(new OrderAccepted(modified.ClientOrderId, modified.OrderId, modified.Price, modified.Quantity, true, now, now)));
                break;
            case ChaserCommandKind.Cancel:
                var canceled = Orders[command.ClientOrderId];
                if (IgnoreCancels)
                {
                    break;
                }

                if (!canceled.Live)
                {
                    _sink!.OnInput(ChaserInput.OfRejected(new OrderRejected(command.ClientOrderId, RequestKind.Cancel, RejectKind.UnknownOrder, -2011, "Unknown order sent.", now)));
                    break;
                }

                canceled.Live = false;
                _sink!.OnInput(ChaserInput.OfFinished(new OrderFinished(canceled.ClientOrderId, ExchangeOrderStatus.Canceled, canceled.Executed, now, now)));
                break;
            default:
                break;
        }
    }

    internal sealed class RestingOrder(string symbol, Side side, string clientOrderId, decimal price, decimal quantity)
    {
        public string Symbol { get; } = symbol;

        public Side Side { get; } = side;

        public string ClientOrderId { get; } = clientOrderId;

        public long OrderId { get; init; }

        public decimal Price { get; set; } = price;

        public decimal Quantity { get; set; } = quantity;

        public decimal Executed { get; set; }

        public bool Live { get; set; } = true;
    }
}
