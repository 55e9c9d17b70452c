using System.Text.RegularExpressions;

namespace Chaser.Simulator.Engine;

/// <summary>
/// The matching engine: per symbol a market driven by a source (other participants' book and tape) with our
/// orders overlaid, queue-position fills, one USDT-margined one-way account. Pure and deterministic: no I/O,
/// time only from the injected TimeProvider, every public method runs under one lock.
/// </summary>
public sealed partial class ExchangeEngine
{
    private readonly Lock gate = new();
    private readonly TimeProvider time;
    private readonly EngineOptions options;
    private readonly Dictionary<string, SymbolMarket> markets = new(StringComparer.Ordinal);
    private readonly Dictionary<long, SimOrder> ordersById = [];
    private readonly Dictionary<(string Symbol, string ClientId), SimOrder> latestByClientId = [];
    private readonly Dictionary<string, Position> positions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<UserTrade>> userTrades = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CancellationCounter> cancellation = new(StringComparer.Ordinal);
    private readonly List<IExchangeObserver> observers = [];
    private IExchangeObserver[] observerSnapshot = [];
    private StaleTimeRecorder? staleTimes;
    private decimal walletBalance;
    private long nextClientIdSuffix = 1;
    private long nextAmendmentId = 1;

    public ExchangeEngine(EngineOptions options, TimeProvider time)
    {
        // Anything but the two models would silently match as one of them.
        if (!Enum.IsDefined(options.QueueModel))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.QueueModel, $"{nameof(EngineOptions.QueueModel)}: {options.QueueModel} is not a queue model (Proportional or RiskAverse)");
        }

        this.options = options;
        this.time = time;
        walletBalance = options.InitialBalance;
        long firstOrderId = 4_000_000_000;
        foreach (var spec in options.Symbols)
        {
            markets.Add(spec.Symbol, new SymbolMarket(spec, firstOrderId));
            positions.Add(spec.Symbol, new Position { Leverage = options.DefaultLeverage });
            userTrades.Add(spec.Symbol, []);
            firstOrderId += 1_000_000_000;
        }
    }

    public EngineOptions Options => options;

    public IReadOnlyList<SymbolSpec> Symbols => options.Symbols;

    public TimeProvider TimeProvider => time;

    public long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public void Subscribe(IExchangeObserver observer)
    {
        lock (gate)
        {
            observers.Add(observer);
            observerSnapshot = [.. observers];
        }
    }

    public void Unsubscribe(IExchangeObserver observer)
    {
        lock (gate)
        {
            observers.Remove(observer);
            observerSnapshot = [.. observers];
        }
    }

    /// <summary>
    /// From now on, records how long each resting order stays stale as this engine's book shows it, until our modify or
    /// cancel arrives (the benchmark's exchange-side stale time). Off until called: the engine then does none of it.
    /// </summary>
    public StaleTimeRecorder TrackStaleTime()
    {
        lock (gate)
        {
            return staleTimes ??= new StaleTimeRecorder(time);
        }
    }

    /// <summary>
    /// A new engine on <paramref name="clock"/> with the same options, whose markets are this one's as they stand —
    /// other participants' books, the public tape, the update and trade ids — and an account nothing was done with:
    /// backtests that start at the same moment of one recording start from one replay of the data before it, instead
    /// of each replaying it again. Only an engine nothing was ever sent to can be forked (else the fork would lose
    /// what our orders left in its books), and no observer is carried over.
    /// </summary>
    public ExchangeEngine ForkMarkets(TimeProvider clock)
    {
        lock (gate)
        {
            if (ordersById.Count > 0 || userTrades.Values.Any(t => t.Count > 0) || cancellation.Count > 0 || staleTimes is not null
                || nextClientIdSuffix != 1 || nextAmendmentId != 1 || walletBalance != options.InitialBalance
                || positions.Values.Any(p => p.Amount != 0m || p.Leverage != options.DefaultLeverage))
            {
                throw new InvalidOperationException("only an exchange engine nothing was sent to can be forked");
            }

            var fork = new ExchangeEngine(options, clock);
            foreach (var (symbol, market) in markets)
            {
                fork.markets[symbol].CopyMarketFrom(market);
            }

            return fork;
        }
    }

    public bool HasSymbol(string symbol) => markets.ContainsKey(symbol);

    public SymbolSpec GetSpec(string symbol) => Market(symbol).Spec;

    // ---------------------------------------------------------------- market source input

    /// <summary>Applies absolute level changes of other participants' displayed book.</summary>
    public void ApplyLevels(string symbol, ReadOnlySpan<LevelChange> changes)
    {
        lock (gate)
        {
            var m = Market(symbol);
            var now = Now;
            foreach (var change in changes)
            {
                ApplyLevel(m, change, options.QueueModel);
            }

            FillCrossedOrders(m, now);
            Flush(m, now);
        }
    }

    /// <summary>Replaces other participants' whole book (a snapshot, or a bookTicker-only top of book).</summary>
    public void ReplaceBook(string symbol, IReadOnlyList<BookLevel> bids, IReadOnlyList<BookLevel> asks)
    {
        lock (gate)
        {
            var m = Market(symbol);
            var changes = new List<LevelChange>();
            AddReplacement(changes, m.ExternalBids, bids, BookSide.Bid);
            AddReplacement(changes, m.ExternalAsks, asks, BookSide.Ask);
            var now = Now;
            foreach (var change in changes)
            {
                ApplyLevel(m, change, options.QueueModel);
            }

            FillCrossedOrders(m, now);
            Flush(m, now);
        }
    }

    /// <summary>
    /// A bookTicker row over a depth book: its best levels (price and size) become the top, and any level the depth
    /// still shows better than them is gone (the bookTicker is the newer word on the touch).
    /// </summary>
    public void ApplyTopOfBook(string symbol, BookLevel bid, BookLevel ask)
    {
        lock (gate)
        {
            var m = Market(symbol);
            var changes = new List<LevelChange>();
            foreach (var price in m.ExternalBids.Keys)
            {
                if (price <= bid.Price)
                {
                    break;
                }

                changes.Add(new LevelChange(BookSide.Bid, price, 0m));
            }

            foreach (var price in m.ExternalAsks.Keys)
            {
                if (price >= ask.Price)
                {
                    break;
                }

                changes.Add(new LevelChange(BookSide.Ask, price, 0m));
            }

            changes.Add(new LevelChange(BookSide.Bid, bid.Price, bid.Qty));
            changes.Add(new LevelChange(BookSide.Ask, ask.Price, ask.Qty));
            var now = Now;
            foreach (var change in changes)
            {
                ApplyLevel(m, change, options.QueueModel);
            }

            FillCrossedOrders(m, now);
            Flush(m, now);
        }
    }

    /// <summary>A trade printed by other participants. buyerIsMaker = the seller was the aggressor.</summary>
    public void ApplyTrade(string symbol, decimal price, decimal qty, bool buyerIsMaker)
    {
        lock (gate)
        {
            var m = Market(symbol);
            var now = Now;
            var trade = m.Print(price, qty, buyerIsMaker, now);
            foreach (var o in observerSnapshot)
            {
                o.OnTrade(trade);
            }

            // A seller hitting bids can fill our buys; a buyer lifting asks can fill our sells.
            var ourSide = buyerIsMaker ? OrderSide.Buy : OrderSide.Sell;
            var book = m.Ours(ourSide);
            if (book.Count > 0)
            {
                MatchTradeAgainstOurs(m, ourSide, price, qty, now);
            }

            Flush(m, now);
        }
    }

    private static void AddReplacement(List<LevelChange> changes, SortedDictionary<decimal, decimal> current, IReadOnlyList<BookLevel> next, BookSide side)
    {
        var nextPrices = new HashSet<decimal>();
        foreach (var level in next)
        {
            nextPrices.Add(level.Price);
            if (!current.TryGetValue(level.Price, out var q) || q != level.Qty)
            {
                changes.Add(new LevelChange(side, level.Price, level.Qty));
            }
        }

        foreach (var price in current.Keys)
        {
            if (!nextPrices.Contains(price))
            {
                changes.Add(new LevelChange(side, price, 0m));
            }
        }
    }

    /// <summary>
    /// One displayed level changes. When we rest there, a decrease is first explained by the volume printed at
    /// that price since the level's last update (already taken out of our queue by the trades); only the rest
    /// is other participants cancelling. Under <see cref="QueueModel.Proportional"/> those cancels shrink the queue
    /// ahead of us proportionally (spread evenly over the queue); under <see cref="QueueModel.RiskAverse"/> they are
    /// taken to be behind us, as far as they can be: the queue ahead only ever shrinks to what the level still shows.
    /// Increases join behind us.
    /// </summary>
    private static void ApplyLevel(SymbolMarket m, LevelChange change, QueueModel queueModel)
    {
        var book = m.External(change.Side);
        var old = book.TryGetValue(change.Price, out var q) ? q : 0m;
        var displayed = Math.Max(change.Qty, 0m);
        var takenByUs = m.TakenByUs(change.Side);
        if (takenByUs.TryGetValue(change.Price, out var taken))
        {
            // What we took is not there any more; once the source shows less than that, those orders are gone anyway.
            var stillTaken = Math.Min(taken, displayed);
            displayed -= stillTaken;
            if (stillTaken > 0m)
            {
                takenByUs[change.Price] = stillTaken;
            }
            else
            {
                takenByUs.Remove(change.Price);
            }
        }

        change = change with { Qty = displayed };
        if (displayed <= 0m)
        {
            book.Remove(change.Price);
        }
        else
        {
            book[change.Price] = displayed;
        }

        m.MarkChanged(change.Side, change.Price);
        if (displayed > old && CrossesOurs(m, change.Side, change.Price))
        {
            var crossing = m.Crossing(change.Side);
            crossing[change.Price] = (crossing.TryGetValue(change.Price, out var c) ? c : 0m) + displayed - old;
        }

        var ours = m.Ours(change.Side == BookSide.Bid ? OrderSide.Buy : OrderSide.Sell);
        if (!ours.TryGetValue(change.Price, out var queue))
        {
            return;
        }

        var traded = m.TradedSinceDepth(change.Side);
        traded.Remove(change.Price, out var printed);
        var decrease = old - Math.Max(change.Qty, 0m);
        var cancelled = Math.Max(0m, decrease - printed);
        var remainingBeforeCancels = Math.Max(old - printed, 0m);
        foreach (var order in queue)
        {
            if (queueModel == QueueModel.Proportional && cancelled > 0m && remainingBeforeCancels > 0m)
            {
                order.QueueAhead -= order.QueueAhead * Math.Min(1m, cancelled / remainingBeforeCancels);
            }

            order.QueueAhead = Math.Min(order.QueueAhead, Math.Max(change.Qty, 0m));
        }
    }

    /// <summary>
    /// An external trade at or through our price. The print's quantity is all the tape says the aggressor traded, so
    /// it is all it can give our orders: our levels it reaches are served best first (a print through a level means the
    /// aggressor had reached it first), and at each one the quantity first consumes the queue ahead of us, then fills
    /// us in time priority; what went to one order or queue is not there for the next. A print through our price does
    /// not fill us beyond its own quantity (hftbacktest fills a trade-through completely; that assumes an aggressor
    /// larger than anything the tape shows).
    /// </summary>
    private void MatchTradeAgainstOurs(SymbolMarket m, OrderSide ourSide, decimal tradePrice, decimal tradeQty, long now)
    {
        var book = m.Ours(ourSide);
        var reached = new List<(decimal Price, SimOrder[] Queue)>();
        foreach (var (price, queue) in book)
        {
            if (ourSide == OrderSide.Buy ? price < tradePrice : price > tradePrice)
            {
                break;
            }

            reached.Add((price, [.. queue]));
        }

        var side = ourSide == OrderSide.Buy ? BookSide.Bid : BookSide.Ask;
        var traded = m.TradedSinceDepth(side);
        var left = tradeQty;
        foreach (var (price, queue) in reached)
        {
            var consumedAhead = 0m;
            var printedHere = price == tradePrice ? tradeQty : 0m;
            foreach (var order in queue)
            {
                order.QueueAhead = Math.Max(0m, order.QueueAhead - consumedAhead);
                var take = Math.Min(left, order.QueueAhead);
                order.QueueAhead -= take;
                consumedAhead += take;
                left -= take;
                if (left <= 0m)
                {
                    continue;
                }

                var fill = Math.Min(left, order.Remaining);
                left -= fill;
                FillResting(m, order, fill, now);
            }

            // What left the displayed level here: the whole print at its own price, the queue it consumed at a level
            // it went through; a later depth decrease explained by it is not counted again as cancels (ApplyLevel).
            var leftLevel = Math.Max(printedHere, consumedAhead);
            if (leftLevel > 0m)
            {
                traded[price] = (traded.TryGetValue(price, out var t) ? t : 0m) + leftLevel;
            }
        }
    }

    /// <summary>Whether a displayed level of other participants at this price reaches one of our resting orders on the other side.</summary>
    private static bool CrossesOurs(SymbolMarket m, BookSide side, decimal price)
    {
        foreach (var ourPrice in m.Ours(side == BookSide.Ask ? OrderSide.Buy : OrderSide.Sell).Keys)
        {
            return side == BookSide.Ask ? price <= ourPrice : price >= ourPrice;
        }

        return false;
    }

    /// <summary>
    /// Another participant's order that arrives at a price crossing our resting order would have traded with us (as
    /// maker, at our price): we are filled with at most the quantity the book shows arriving there, best of our
    /// orders first, and what we took no longer rests (a recorded book never had us in it, so it reaching our price
    /// filled the whole order, however little it showed there: a 433 ETH sell filled at once on a level that showed
    /// a few).
    /// </summary>
    private void FillCrossedOrders(SymbolMarket m, long now)
    {
        MatchCrossing(m, BookSide.Ask, now);
        MatchCrossing(m, BookSide.Bid, now);
    }

    private void MatchCrossing(SymbolMarket m, BookSide side, long now)
    {
        var crossing = m.Crossing(side);
        if (crossing.Count == 0)
        {
            return;
        }

        var ourSide = side == BookSide.Ask ? OrderSide.Buy : OrderSide.Sell;
        var book = m.External(side);
        var takenByUs = m.TakenByUs(side);
        foreach (var (price, arrived) in crossing.OrderBy(kv => side == BookSide.Ask ? kv.Key : -kv.Key))
        {
            var left = Math.Min(arrived, m.ExternalQty(side, price));
            var reached = m.Ours(ourSide).Where(kv => ourSide == OrderSide.Buy ? kv.Key >= price : kv.Key <= price).SelectMany(kv => kv.Value).ToList();
            foreach (var order in reached)
            {
                if (left <= 0m)
                {
                    break;
                }

                var before = order.ExecutedQty;
                FillResting(m, order, Math.Min(left, order.Remaining), now);
                var took = order.ExecutedQty - before;
                if (took <= 0m)
                {
                    continue;
                }

                left -= took;
                var rest = m.ExternalQty(side, price) - took;
                if (rest <= 0m)
                {
                    book.Remove(price);
                }
                else
                {
                    book[price] = rest;
                }

                takenByUs[price] = (takenByUs.TryGetValue(price, out var t) ? t : 0m) + took;
                m.MarkChanged(side, price);
            }
        }

        crossing.Clear();
    }

    private void FillResting(SymbolMarket m, SimOrder order, decimal qty, long now)
    {
        if (!order.IsOpen || qty <= 0m)
        {
            return;
        }

        // Exchange fills come in whole lots: the queue model's proportional shares are rounded down to the step.
        qty = Math.Floor(CapReduceOnly(order, qty) / m.Spec.StepSize) * m.Spec.StepSize;
        if (qty > 0m)
        {
            Fill(m, order, qty, order.Price, maker: true, tradeId: m.NextTradeId++, now);
        }

        if (order.IsOpen && order.ReduceOnly && CapReduceOnly(order, order.Remaining) == 0m)
        {
            Close(m, order, OrderStatus.Expired, ExecutionType.Expired, now);
        }
    }

    // ---------------------------------------------------------------- order entry

    [GeneratedRegex(@"^[\.A-Z\:/a-z0-9_-]{1,36}$")]
    private static partial Regex ClientOrderIdPattern();

    public static bool IsValidClientOrderId(string id) => ClientOrderIdPattern().IsMatch(id);

    public PlaceResult PlaceOrder(NewOrderRequest request)
    {
        lock (gate)
        {
            var m = Market(request.Symbol);
            var spec = m.Spec;
            var now = Now;
            var tif = request.TimeInForce ?? TimeInForce.Gtc;
            if (request.Type == OrderType.Limit && request.TimeInForce is null)
            {
                throw BinanceErrors.Mandatory("timeInForce");
            }

            if (request.Quantity is not { } qty)
            {
                throw BinanceErrors.Mandatory("quantity");
            }

            if (request.NewClientOrderId is { } cid)
            {
                if (!IsValidClientOrderId(cid))
                {
                    throw BinanceErrors.InvalidClientOrderId();
                }

                if (latestByClientId.TryGetValue((spec.Symbol, cid), out var existing) && existing.IsOpen)
                {
                    throw BinanceErrors.DuplicateClientOrderId();
                }
            }

            decimal price;
            var priceMatch = request.PriceMatch ?? "NONE";
            if (request.Type == OrderType.Market)
            {
                if (request.Price is not null)
                {
                    throw BinanceErrors.NotRequired("price");
                }

                price = 0m;
            }
            else if (priceMatch != "NONE")
            {
                if (request.Price is not null)
                {
                    throw BinanceErrors.NotRequired("price");
                }

                price = ResolvePriceMatch(m, request.Side, priceMatch);
            }
            else
            {
                price = request.Price ?? throw BinanceErrors.Mandatory("price");
            }

            CheckQuantity(spec, qty, request.Type == OrderType.Market);
            if (request.Type == OrderType.Limit)
            {
                CheckPrice(m, request.Side, price);
            }

            var referencePrice = request.Type == OrderType.Limit ? price : MarketReference(m, request.Side);
            if (!request.ReduceOnly && referencePrice > 0m && qty * referencePrice < spec.MinNotional)
            {
                throw BinanceErrors.NotionalTooSmall(spec.MinNotional);
            }

            if (request.ReduceOnly && CapReduceOnly(request.Side, spec.Symbol, qty) == 0m)
            {
                throw BinanceErrors.ReduceOnlyRejected();
            }

            if (tif == TimeInForce.Gtd && request.GoodTillDate <= now + 600_000)
            {
                throw BinanceErrors.BadGoodTillDate();
            }

            if (request.Type == OrderType.Limit && tif == TimeInForce.Gtx && WouldCross(m, request.Side, price))
            {
                throw BinanceErrors.PostOnlyRejected();
            }

            if (request.Type == OrderType.Limit && tif == TimeInForce.Fok && TakeableQty(m, request.Side, price) < qty)
            {
                throw BinanceErrors.FokRejected();
            }

            if (OpenOrderCount(spec.Symbol) >= spec.MaxNumOrders)
            {
                throw BinanceErrors.MaxOpenOrders();
            }

            if (!request.ReduceOnly && qty * referencePrice / positions[spec.Symbol].Leverage > AvailableBalance())
            {
                throw BinanceErrors.MarginInsufficient();
            }

            var order = new SimOrder
            {
                OrderId = m.NextOrderId++,
                Symbol = spec.Symbol,
                ClientOrderId = request.NewClientOrderId ?? $"sim_{nextClientIdSuffix++}",
                Side = request.Side,
                Type = request.Type,
                TimeInForce = request.Type == OrderType.Market ? TimeInForce.Gtc : tif,
                ReduceOnly = request.ReduceOnly,
                PriceMatch = priceMatch,
                SelfTradePreventionMode = request.SelfTradePreventionMode,
                GoodTillDate = tif == TimeInForce.Gtd ? request.GoodTillDate : 0,
                Time = now,
                Price = price,
                OrigQty = qty,
                UpdateTime = now,
            };
            ordersById.Add(order.OrderId, order);
            latestByClientId[(spec.Symbol, order.ClientOrderId)] = order;
            if (order.TimeInForce is TimeInForce.Gtc or TimeInForce.Gtx or TimeInForce.Gtd && order.Type == OrderType.Limit)
            {
                Cancellations(spec.Symbol, now).Placed++;
            }

            var accepted = order.Snapshot();
            Publish(m, order, ExecutionType.New, null, now);
            ExecuteAndRest(m, order, now);
            Flush(m, now);
            return new PlaceResult(accepted, order.Snapshot());
        }
    }

    /// <summary>
    /// Modify (PUT): LIMIT only, both price and quantity; the order is re-queued at the back, under either queue model,
    /// a quantity-only decrease too (USDⓈ-M Futures has no keep-priority amend, unlike Spot's
    /// <c>order/amend/keepPriority</c>: its modify doc says the order is re-sorted in the matching queue).
    /// </summary>
    public OrderSnapshot ModifyOrder(ModifyOrderRequest request)
    {
        lock (gate)
        {
            var m = Market(request.Symbol);
            var order = Find(m, request.OrderId, request.OrigClientOrderId);
            if (order is null || !order.IsOpen)
            {
                throw BinanceErrors.OrderDoesNotExist();
            }

            if (order.Type != OrderType.Limit)
            {
                throw BinanceErrors.ModifyOnlyLimit();
            }

            if (order.ModifyCount >= 10_000)
            {
                throw BinanceErrors.ModifyTooMany();
            }

            if (request.Side != order.Side)
            {
                throw BinanceErrors.InvalidSide();
            }

            var price = request.PriceMatch is { } pm && pm != "NONE"
                ? ResolvePriceMatch(m, order.Side, pm)
                : request.Price ?? throw BinanceErrors.Mandatory("price");
            CheckQuantity(m.Spec, request.Quantity, market: false);
            CheckPrice(m, order.Side, price);
            if (price == order.Price && request.Quantity == order.OrigQty)
            {
                throw BinanceErrors.NothingToModify();
            }

            if (!order.ReduceOnly && request.Quantity * price < m.Spec.MinNotional)
            {
                throw new BinanceException(-5029, $"Order's notional must be no smaller than {m.Spec.MinNotional} (unless you choose reduce only).");
            }

            var now = Now;
            staleTimes?.RequestArrived(order, StaleEnd.Modified);
            RemoveResting(m, order);
            if (request.Quantity <= order.ExecutedQty ||
                (order.TimeInForce == TimeInForce.Gtx && WouldCross(m, order.Side, price)))
            {
                // Binance cancels instead of modifying here (GTX that would take, or nothing left to work).
                order.QueueAhead = 0m;
                Close(m, order, OrderStatus.Canceled, ExecutionType.Canceled, now);
                Flush(m, now);
                return order.Snapshot();
            }

            order.Amendments.Add(new OrderAmendment(nextAmendmentId++, order.Symbol, order.OrderId, order.ClientOrderId, now,
                order.Price, price, order.OrigQty, request.Quantity, order.ModifyCount + 1));
            order.Price = price;
            order.OrigQty = request.Quantity;
            order.UpdateTime = now;
            Publish(m, order, ExecutionType.Amendment, null, now);
            ExecuteAndRest(m, order, now);
            Flush(m, now);
            return order.Snapshot();
        }
    }

    public OrderSnapshot CancelOrder(string symbol, long? orderId, string? origClientOrderId)
    {
        lock (gate)
        {
            var m = Market(symbol);
            var order = Find(m, orderId, origClientOrderId);
            if (order is null || !order.IsOpen)
            {
                throw BinanceErrors.UnknownOrder();
            }

            var now = Now;
            staleTimes?.RequestArrived(order, StaleEnd.Canceled);
            CountQuickCancel(order, now);
            RemoveResting(m, order);
            Close(m, order, OrderStatus.Canceled, ExecutionType.Canceled, now);
            Flush(m, now);
            return order.Snapshot();
        }
    }

    public IReadOnlyList<OrderSnapshot> CancelAllOpenOrders(string symbol)
    {
        lock (gate)
        {
            var m = Market(symbol);
            var now = Now;
            var result = new List<OrderSnapshot>();
            foreach (var order in OpenOrders(m).ToList())
            {
                staleTimes?.RequestArrived(order, StaleEnd.Canceled);
                CountQuickCancel(order, now);
                RemoveResting(m, order);
                Close(m, order, OrderStatus.Canceled, ExecutionType.Canceled, now);
                result.Add(order.Snapshot());
            }

            Flush(m, now);
            return result;
        }
    }

    public OrderSnapshot QueryOrder(string symbol, long? orderId, string? origClientOrderId)
    {
        lock (gate)
        {
            var m = Market(symbol);
            return (Find(m, orderId, origClientOrderId) ?? throw BinanceErrors.OrderDoesNotExist()).Snapshot();
        }
    }

    public OrderSnapshot? TryQueryOrder(string symbol, long orderId)
    {
        lock (gate)
        {
            return ordersById.TryGetValue(orderId, out var o) && o.Symbol == symbol ? o.Snapshot() : null;
        }
    }

    public IReadOnlyList<OrderSnapshot> GetOpenOrders(string? symbol)
    {
        lock (gate)
        {
            return [.. ordersById.Values.Where(o => o.IsOpen && (symbol is null || o.Symbol == symbol)).OrderBy(o => o.OrderId).Select(o => o.Snapshot())];
        }
    }

    /// <summary>
    /// The modifies of one order, newest first, within [startTime, endTime] (ms, inclusive), at most
    /// <paramref name="limit"/> (<c>GET /fapi/v1/orderAmendment</c>; USDⓈ-M trade REST API, "Get Order Modify History").
    /// </summary>
    public IReadOnlyList<OrderAmendment> GetOrderAmendments(string symbol, long? orderId, string? origClientOrderId, long? startTime, long? endTime, int limit)
    {
        lock (gate)
        {
            var order = Find(Market(symbol), orderId, origClientOrderId) ?? throw BinanceErrors.OrderDoesNotExist();
            return [.. order.Amendments.Where(a => (startTime is null || a.Time >= startTime) && (endTime is null || a.Time <= endTime))
                .OrderByDescending(a => a.AmendmentId).Take(limit)];
        }
    }

    public IReadOnlyList<OrderSnapshot> GetAllOrders(string symbol, long? fromOrderId, int limit)
    {
        lock (gate)
        {
            Market(symbol);
            return [.. ordersById.Values.Where(o => o.Symbol == symbol && (fromOrderId is null || o.OrderId >= fromOrderId))
                .OrderBy(o => o.OrderId).Take(limit).Select(o => o.Snapshot())];
        }
    }

    public IReadOnlyList<UserTrade> GetUserTrades(string symbol, long? fromId = null, int limit = 500)
    {
        lock (gate)
        {
            Market(symbol);
            return [.. userTrades[symbol].Where(t => fromId is null || t.TradeId >= fromId).Take(limit)];
        }
    }

    /// <summary>Dead-man switch: cancel all open orders of the symbol when no renewal arrives in time (0 disables).</summary>
    public void SetCountdown(string symbol, long countdownMs)
    {
        lock (gate)
        {
            Market(symbol).CountdownDeadline = countdownMs == 0 ? 0 : Now + countdownMs;
        }
    }

    /// <summary>Time-driven duties: GTD expiry and countdownCancelAll. Call periodically.</summary>
    public void OnTimer()
    {
        lock (gate)
        {
            var now = Now;
            foreach (var m in markets.Values)
            {
                if (m.CountdownDeadline != 0 && now >= m.CountdownDeadline)
                {
                    m.CountdownDeadline = 0;
                    foreach (var order in OpenOrders(m).ToList())
                    {
                        RemoveResting(m, order);
                        Close(m, order, OrderStatus.Canceled, ExecutionType.Canceled, now);
                    }
                }

                foreach (var order in OpenOrders(m).Where(o => o.GoodTillDate != 0 && now >= o.GoodTillDate).ToList())
                {
                    RemoveResting(m, order);
                    Close(m, order, OrderStatus.Expired, ExecutionType.Expired, now);
                }

                Flush(m, now);
            }
        }
    }

    // ---------------------------------------------------------------- market views

    public DepthSnapshot GetDepth(string symbol, int limit)
    {
        lock (gate)
        {
            var m = Market(symbol);
            return new DepthSnapshot(symbol, m.LastUpdateId, Now, m.LastEventTime, m.Levels(BookSide.Bid, limit), m.Levels(BookSide.Ask, limit));
        }
    }

    public BookTicker GetBookTicker(string symbol)
    {
        lock (gate)
        {
            return Market(symbol).CurrentTicker(Now);
        }
    }

    public IReadOnlyList<PublicTrade> GetRecentTrades(string symbol, int limit)
    {
        lock (gate)
        {
            return Market(symbol).RecentTrades(limit);
        }
    }

    public decimal GetMarkPrice(string symbol)
    {
        lock (gate)
        {
            return Market(symbol).MarkPrice();
        }
    }

    public decimal GetLastPrice(string symbol)
    {
        lock (gate)
        {
            var m = Market(symbol);
            return m.LastPrice != 0m ? m.LastPrice : m.MarkPrice();
        }
    }

    // ---------------------------------------------------------------- account

    public decimal WalletBalance
    {
        get
        {
            lock (gate)
            {
                return walletBalance;
            }
        }
    }

    public decimal GetAvailableBalance()
    {
        lock (gate)
        {
            return AvailableBalance();
        }
    }

    public IReadOnlyList<PositionView> GetPositions()
    {
        lock (gate)
        {
            return [.. markets.Keys.Select(PositionView)];
        }
    }

    public PositionView GetPosition(string symbol)
    {
        lock (gate)
        {
            Market(symbol);
            return PositionView(symbol);
        }
    }

    public decimal GetPositionInitialMargin(string symbol)
    {
        lock (gate)
        {
            var p = positions[symbol];
            return Math.Abs(p.Amount) * Market(symbol).MarkPrice() / p.Leverage;
        }
    }

    public decimal GetOpenOrderInitialMargin(string symbol)
    {
        lock (gate)
        {
            return OpenOrders(Market(symbol)).Sum(o => o.Remaining * o.Price) / positions[symbol].Leverage;
        }
    }

    public int SetLeverage(string symbol, int leverage)
    {
        lock (gate)
        {
            Market(symbol);
            if (leverage is < 1 or > 125)
            {
                throw BinanceErrors.InvalidLeverage(leverage);
            }

            positions[symbol].Leverage = leverage;
            return leverage;
        }
    }

    /// <summary>GTC/GTX/GTD orders placed and canceled within the quick-cancel threshold, this 10-minute cycle.</summary>
    public IReadOnlyList<CancellationStats> GetCancellationStats()
    {
        lock (gate)
        {
            var now = Now;
            return [.. cancellation.Keys.Order(StringComparer.Ordinal).Select(s => Cancellations(s, now))
                .Where(c => c.Placed > 0).Select(c => new CancellationStats(c.Symbol, c.Placed, c.QuickCancels, c.CycleStart))];
        }
    }

    // ---------------------------------------------------------------- internals

    private SymbolMarket Market(string symbol) =>
        markets.TryGetValue(symbol, out var m) ? m : throw BinanceErrors.InvalidSymbol();

    private SimOrder? Find(SymbolMarket m, long? orderId, string? clientId)
    {
        if (orderId is { } id)
        {
            return ordersById.TryGetValue(id, out var o) && o.Symbol == m.Spec.Symbol ? o : null;
        }

        if (clientId is not null)
        {
            return latestByClientId.TryGetValue((m.Spec.Symbol, clientId), out var o) ? o : null;
        }

        throw BinanceErrors.Mandatory("orderId");
    }

    private IEnumerable<SimOrder> OpenOrders(SymbolMarket m) =>
        ordersById.Values.Where(o => o.IsOpen && o.Symbol == m.Spec.Symbol).OrderBy(o => o.OrderId);

    private int OpenOrderCount(string symbol) => ordersById.Values.Count(o => o.IsOpen && o.Symbol == symbol);

    private static void CheckQuantity(SymbolSpec spec, decimal qty, bool market)
    {
        if (qty <= 0m)
        {
            throw BinanceErrors.QuantityNotPositive();
        }

        if (Scale(qty) > spec.QuantityPrecision)
        {
            throw BinanceErrors.Precision();
        }

        if (qty < spec.MinQty)
        {
            throw BinanceErrors.QuantityBelowMin();
        }

        if (qty > (market ? spec.MarketMaxQty : spec.MaxQty))
        {
            throw BinanceErrors.QuantityAboveMax();
        }

        if (!spec.IsOnStep(qty))
        {
            throw BinanceErrors.QuantityNotOnStep();
        }
    }

    private static void CheckPrice(SymbolMarket m, OrderSide side, decimal price)
    {
        var spec = m.Spec;
        if (price <= 0m || price < spec.MinPrice)
        {
            throw BinanceErrors.PriceBelowMin();
        }

        if (Scale(price) > spec.PricePrecision)
        {
            throw BinanceErrors.Precision();
        }

        if (!spec.IsOnTick(price))
        {
            throw BinanceErrors.PriceNotOnTick();
        }

        if (price > spec.MaxPrice)
        {
            throw new BinanceException(-4016, "Price greater than max price.");
        }

        var mark = m.MarkPrice();
        if (mark <= 0m)
        {
            return;
        }

        if (side == OrderSide.Buy && price > mark * spec.MultiplierUp)
        {
            throw BinanceErrors.PriceAboveLimit(spec.FormatPrice(m.RoundToTick(mark * spec.MultiplierUp)));
        }

        if (side == OrderSide.Sell && price < mark * spec.MultiplierDown)
        {
            var limit = m.RoundToTick(mark * spec.MultiplierDown);
            throw BinanceErrors.PriceBelowLimit(spec.FormatPrice(limit < mark * spec.MultiplierDown ? limit + spec.TickSize : limit));
        }
    }

    /// <summary>Digits after the decimal point, ignoring trailing zeros.</summary>
    internal static int Scale(decimal value)
    {
        value /= 1.000000000000000000000000000000000m;
        return (decimal.GetBits(value)[3] >> 16) & 0xFF;
    }

    private static decimal MarketReference(SymbolMarket m, OrderSide side) =>
        m.BestExternal(side == OrderSide.Buy ? BookSide.Ask : BookSide.Bid)?.Price ?? m.MarkPrice();

    private static decimal ResolvePriceMatch(SymbolMarket m, OrderSide side, string priceMatch)
    {
        var (opponent, depth) = priceMatch switch
        {
            "OPPONENT" => (true, 1),
            "OPPONENT_5" => (true, 5),
            "OPPONENT_10" => (true, 10),
            "OPPONENT_20" => (true, 20),
            "QUEUE" => (false, 1),
            "QUEUE_5" => (false, 5),
            "QUEUE_10" => (false, 10),
            "QUEUE_20" => (false, 20),
            _ => throw new BinanceException(-5037, "Invalid price match type."),
        };
        var bookSide = (side == OrderSide.Buy) ^ opponent ? BookSide.Bid : BookSide.Ask;
        var levels = m.Levels(bookSide, depth);
        return levels.Count == 0
            ? throw new BinanceException(-5041, "Time out for waiting for the queue.")
            : levels[^1].Price;
    }

    /// <summary>A buy at price would execute against the displayed asks (ours included), or a sell against bids.</summary>
    private static bool WouldCross(SymbolMarket m, OrderSide side, decimal price) => side == OrderSide.Buy
        ? m.Best(BookSide.Ask) is { } ask && price >= ask.Price
        : m.Best(BookSide.Bid) is { } bid && price <= bid.Price;

    private static decimal TakeableQty(SymbolMarket m, OrderSide side, decimal limit)
    {
        var sum = 0m;
        foreach (var (price, qty) in m.External(side == OrderSide.Buy ? BookSide.Ask : BookSide.Bid))
        {
            if (side == OrderSide.Buy ? price > limit : price < limit)
            {
                break;
            }

            sum += qty;
        }

        return sum;
    }

    /// <summary>Takes liquidity from other participants' book up to the limit, then rests, expires or finishes.</summary>
    private void ExecuteAndRest(SymbolMarket m, SimOrder order, long now)
    {
        var opposite = order.Side == OrderSide.Buy ? BookSide.Ask : BookSide.Bid;
        var book = m.External(opposite);
        while (order.IsOpen && book.Count > 0)
        {
            var (price, available) = book.First();
            var marketable = order.Type == OrderType.Market
                || (order.Side == OrderSide.Buy ? price <= order.Price : price >= order.Price);
            if (!marketable)
            {
                break;
            }

            var qty = CapReduceOnly(order, Math.Min(order.Remaining, available));
            if (qty <= 0m)
            {
                break;
            }

            if (available - qty <= 0m)
            {
                book.Remove(price);
            }
            else
            {
                book[price] = available - qty;
            }

            m.MarkChanged(opposite, price);
            var takenByUs = m.TakenByUs(opposite);
            takenByUs[price] = (takenByUs.TryGetValue(price, out var taken) ? taken : 0m) + qty;
            var trade = m.Print(price, qty, buyerIsMaker: order.Side == OrderSide.Sell, now);
            foreach (var o in observerSnapshot)
            {
                o.OnTrade(trade);
            }

            Fill(m, order, qty, price, maker: false, trade.TradeId, now);
        }

        if (!order.IsOpen)
        {
            return;
        }

        if (order.Type == OrderType.Market || order.TimeInForce is TimeInForce.Ioc or TimeInForce.Fok
            || (order.ReduceOnly && CapReduceOnly(order, order.Remaining) == 0m))
        {
            Close(m, order, OrderStatus.Expired, ExecutionType.Expired, now);
            return;
        }

        // Join the back of the displayed queue at our price.
        var side = order.Side == OrderSide.Buy ? BookSide.Bid : BookSide.Ask;
        order.QueueAhead = m.ExternalQty(side, order.Price);
        var ours = m.Ours(order.Side);
        if (!ours.TryGetValue(order.Price, out var queue))
        {
            queue = [];
            ours.Add(order.Price, queue);
        }

        queue.Add(order);
        m.TradedSinceDepth(side).Remove(order.Price);
        m.MarkChanged(side, order.Price);
    }

    private static void RemoveResting(SymbolMarket m, SimOrder order)
    {
        var ours = m.Ours(order.Side);
        if (ours.TryGetValue(order.Price, out var queue) && queue.Remove(order))
        {
            if (queue.Count == 0)
            {
                ours.Remove(order.Price);
            }

            m.MarkChanged(order.Side == OrderSide.Buy ? BookSide.Bid : BookSide.Ask, order.Price);
        }
    }

    private void Close(SymbolMarket m, SimOrder order, OrderStatus status, ExecutionType execution, long now)
    {
        RemoveResting(m, order);
        order.Status = status;
        order.UpdateTime = now;
        Publish(m, order, execution, null, now);
    }

    private decimal CapReduceOnly(SimOrder order, decimal qty) =>
        order.ReduceOnly ? CapReduceOnly(order.Side, order.Symbol, qty) : qty;

    /// <summary>A reduce-only order may only trade against the opposite position, and no more than its size.</summary>
    private decimal CapReduceOnly(OrderSide side, string symbol, decimal qty)
    {
        var amount = positions[symbol].Amount;
        var reducible = side == OrderSide.Buy ? Math.Max(0m, -amount) : Math.Max(0m, amount);
        return Math.Min(qty, reducible);
    }

    private void Fill(SymbolMarket m, SimOrder order, decimal qty, decimal price, bool maker, long tradeId, long now)
    {
        order.ExecutedQty += qty;
        order.CumQuote += qty * price;
        order.UpdateTime = now;
        order.Status = order.Remaining <= 0m ? OrderStatus.Filled : OrderStatus.PartiallyFilled;
        if (order.Status == OrderStatus.Filled)
        {
            RemoveResting(m, order);
        }
        else
        {
            m.MarkChanged(order.Side == OrderSide.Buy ? BookSide.Bid : BookSide.Ask, order.Price);
        }

        var quote = qty * price;
        var commission = Math.Round(quote * (maker ? options.MakerFeeRate : options.TakerFeeRate), 8);
        var realized = ApplyToPosition(order.Symbol, order.Side, qty, price);
        walletBalance += realized - commission;
        var trade = new UserTrade(order.Symbol, tradeId, order.OrderId, order.Side, price, qty, quote, commission, "USDT", realized, maker, now);
        userTrades[order.Symbol].Add(trade);
        Publish(m, order, ExecutionType.Trade, trade, now);

        var position = PositionView(order.Symbol);
        var update = new AccountUpdate("ORDER", now, now, [new BalanceView("USDT", walletBalance, walletBalance, 0m)], [position]);
        foreach (var o in observerSnapshot)
        {
            o.OnAccountUpdate(update);
        }
    }

    /// <summary>One-way position: average in when adding, realize PnL against the entry price when reducing.</summary>
    private decimal ApplyToPosition(string symbol, OrderSide side, decimal qty, decimal price)
    {
        var p = positions[symbol];
        var signed = side == OrderSide.Buy ? qty : -qty;
        var realized = 0m;
        if (p.Amount == 0m || Math.Sign(p.Amount) == Math.Sign(signed))
        {
            var newAmount = p.Amount + signed;
            p.EntryPrice = (Math.Abs(p.Amount) * p.EntryPrice + qty * price) / Math.Abs(newAmount);
            p.Amount = newAmount;
        }
        else
        {
            var closed = Math.Min(qty, Math.Abs(p.Amount));
            realized = closed * (price - p.EntryPrice) * Math.Sign(p.Amount);
            p.Amount += signed;
            if (p.Amount == 0m)
            {
                p.EntryPrice = 0m;
            }
            else if (Math.Sign(p.Amount) == Math.Sign(signed))
            {
                p.EntryPrice = price;
            }
        }

        p.AccumulatedRealized += realized;
        return realized;
    }

    private PositionView PositionView(string symbol)
    {
        var p = positions[symbol];
        var mark = markets[symbol].MarkPrice();
        var unrealized = p.Amount == 0m ? 0m : p.Amount * (mark - p.EntryPrice);
        return new PositionView(symbol, p.Amount, p.EntryPrice, p.EntryPrice, p.AccumulatedRealized, unrealized, mark, p.Leverage);
    }

    private decimal AvailableBalance()
    {
        var available = walletBalance;
        foreach (var (symbol, p) in positions)
        {
            var mark = markets[symbol].MarkPrice();
            if (p.Amount != 0m)
            {
                available += p.Amount * (mark - p.EntryPrice) - Math.Abs(p.Amount) * mark / p.Leverage;
            }
        }

        foreach (var o in ordersById.Values)
        {
            if (o.IsOpen && !o.ReduceOnly)
            {
                available -= o.Remaining * o.Price / positions[o.Symbol].Leverage;
            }
        }

        return available;
    }

    private void Publish(SymbolMarket m, SimOrder order, ExecutionType execution, UserTrade? trade, long now)
    {
        if (observerSnapshot.Length == 0)
        {
            return;
        }

        var bidNotional = 0m;
        var askNotional = 0m;
        foreach (var o in OpenOrders(m))
        {
            if (o.Side == OrderSide.Buy)
            {
                bidNotional += o.Remaining * o.Price;
            }
            else
            {
                askNotional += o.Remaining * o.Price;
            }
        }

        var update = new OrderUpdate(order.Snapshot(), execution, now, now, trade, bidNotional, askNotional);
        foreach (var o in observerSnapshot)
        {
            o.OnOrderUpdate(update);
        }
    }

    private void Flush(SymbolMarket m, long now)
    {
        staleTimes?.Observe(m);
        if (!m.Flush(now, out var depth, out var ticker))
        {
            return;
        }

        foreach (var o in observerSnapshot)
        {
            o.OnDepthUpdate(depth!);
            if (ticker is not null)
            {
                o.OnBookTicker(ticker);
            }
        }
    }

    private void CountQuickCancel(SimOrder order, long now)
    {
        if (order.Type == OrderType.Limit && order.TimeInForce is TimeInForce.Gtc or TimeInForce.Gtx or TimeInForce.Gtd
            && now - order.Time < (long)options.QuickCancelThreshold.TotalMilliseconds)
        {
            Cancellations(order.Symbol, now).QuickCancels++;
        }
    }

    private CancellationCounter Cancellations(string symbol, long now)
    {
        var cycle = (long)options.CancellationCycle.TotalMilliseconds;
        var cycleStart = now - (now % cycle);
        if (!cancellation.TryGetValue(symbol, out var c) || c.CycleStart != cycleStart)
        {
            c = new CancellationCounter { Symbol = symbol, CycleStart = cycleStart };
            cancellation[symbol] = c;
        }

        return c;
    }

    private sealed class Position
    {
        public decimal Amount { get; set; }
        public decimal EntryPrice { get; set; }
        public decimal AccumulatedRealized { get; set; }
        public int Leverage { get; set; }
    }

    private sealed class CancellationCounter
    {
        public required string Symbol { get; init; }
        public required long CycleStart { get; init; }
        public int Placed { get; set; }
        public int QuickCancels { get; set; }
    }
}
