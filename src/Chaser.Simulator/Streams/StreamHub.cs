using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;
using Chaser.Simulator.Wire;

namespace Chaser.Simulator.Streams;

/// <summary>
/// Fans the engine's events out to WebSocket subscribers. Real-time streams (bookTicker, trades, depth@0ms, user
/// data) are formatted once per event and queued to every subscriber; interval streams (depth diffs, partial
/// depth, mark price) are aggregated and flushed by <see cref="Tick"/>.
/// </summary>
internal sealed class StreamHub : IExchangeObserver
{
    private readonly Lock gate = new();
    private readonly SimulatorContext context;
    private readonly Dictionary<string, StreamConnection[]> subscribers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StreamName> streams = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DiffAggregator> diffs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> lastEmitted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StreamConnection[]> users = new(StringComparer.Ordinal);

    public StreamHub(SimulatorContext context)
    {
        this.context = context;
        context.ListenKeys.Ended += OnListenKeyEnded;
    }

    private ExchangeEngine Engine => context.Engine;

    private FaultInjector Faults => context.Faults;

    private TimeSpan MarketLatency => context.Options.MarketDataLatency;

    /// <summary>
    /// Subscribes market streams or (when the name is the active listen key) the user data stream; all or nothing.
    /// On refusal <paramref name="error"/> is Binance's message: an unknown name, or the connection's stream limit.
    /// A stream of another route than the connection's is subscribed (listed, counted) but never delivered.
    /// </summary>
    public bool Subscribe(StreamConnection connection, IEnumerable<string> names, out string? error)
    {
        error = null;
        var parsed = new List<(string Name, StreamName? Market)>();
        foreach (var raw in names)
        {
            if (StreamName.TryParse(raw, Engine, out var stream))
            {
                parsed.Add((stream.Name, stream));
            }
            else if (context.ListenKeys.IsValid(raw))
            {
                parsed.Add((raw, null));
            }
            else
            {
                error = $"Invalid request: unknown stream {raw}";
                return false;
            }
        }

        var limit = context.Options.StreamsPerConnection;
        lock (gate)
        {
            // a connection's control messages are handled one at a time, so its subscriptions cannot grow meanwhile
            var total = connection.Subscriptions.Union(parsed.Select(p => p.Name), StringComparer.Ordinal).Count();
            if (total > limit)
            {
                error = $"Invalid request: at most {limit} streams per connection, this would make {total}";
                return false;
            }

            foreach (var (name, market) in parsed)
            {
                connection.AddSubscription(name);
                if (!connection.Serves(market?.Route ?? StreamRoute.Private))
                {
                    continue;
                }

                var map = market is null ? users : subscribers;
                var current = map.TryGetValue(name, out var list) ? list : [];
                if (!current.Contains(connection))
                {
                    map[name] = [.. current, connection];
                }

                if (market is not null)
                {
                    streams[name] = market;
                    if (market.Kind == StreamKind.DiffDepth && market.IntervalMs > 0 && !diffs.ContainsKey(name))
                    {
                        diffs[name] = new DiffAggregator(market);
                    }
                }
            }
        }

        return true;
    }

    public void Unsubscribe(StreamConnection connection, IEnumerable<string> names)
    {
        lock (gate)
        {
            foreach (var raw in names)
            {
                var name = StreamName.TryParse(raw, Engine, out var s) ? s.Name : raw;
                RemoveFrom(subscribers, name, connection);
                RemoveFrom(users, name, connection);
                connection.RemoveSubscription(name);
            }
        }
    }

    /// <summary>Closes connections abruptly, as a network failure would: market-data subscribers, user-data ones, or both.</summary>
    public int Drop(bool market, bool user)
    {
        HashSet<StreamConnection> victims = [];
        lock (gate)
        {
            if (market)
            {
                victims.UnionWith(subscribers.Values.SelectMany(list => list));
            }

            if (user)
            {
                victims.UnionWith(users.Values.SelectMany(list => list));
            }
        }

        foreach (var connection in victims)
        {
            connection.Abort();
        }

        return victims.Count;
    }

    public void Remove(StreamConnection connection)
    {
        lock (gate)
        {
            foreach (var name in subscribers.Keys.ToList())
            {
                RemoveFrom(subscribers, name, connection);
            }

            foreach (var name in users.Keys.ToList())
            {
                RemoveFrom(users, name, connection);
            }
        }
    }

    private void RemoveFrom(Dictionary<string, StreamConnection[]> map, string name, StreamConnection connection)
    {
        if (!map.TryGetValue(name, out var list))
        {
            return;
        }

        var remaining = list.Where(c => c != connection).ToArray();
        if (remaining.Length > 0)
        {
            map[name] = remaining;
            return;
        }

        map.Remove(name);
        if (map == subscribers)
        {
            streams.Remove(name);
            diffs.Remove(name);
            lastEmitted.Remove(name);
            lastEmitted.Remove(name + "#slot");
        }
    }

    private StreamConnection[]? Subscribers(string name)
    {
        lock (gate)
        {
            return subscribers.TryGetValue(name, out var list) ? list : null;
        }
    }

    private void Publish(string name, StreamConnection[] targets, byte[] payload)
    {
        foreach (var c in targets)
        {
            if (Faults.Roll(Faults.Options.DropConnectionProbability))
            {
                c.Abort();
                continue;
            }

            c.Send(name, payload, MarketLatency);
        }
    }

    private static string Lower(string symbol) => symbol.ToLowerInvariant();

    // ------------------------------------------------------------ engine events (called under the engine lock)

    public void OnBookTicker(BookTicker ticker)
    {
        var name = Lower(ticker.Symbol) + "@bookTicker";
        if (Subscribers(name) is { } targets)
        {
            var spec = Engine.GetSpec(ticker.Symbol);
            Publish(name, targets, JsonFrame.Write(w => BinanceJson.WriteBookTickerEvent(w, spec, ticker)));
        }
    }

    public void OnTrade(PublicTrade trade)
    {
        var lower = Lower(trade.Symbol);
        var spec = Engine.GetSpec(trade.Symbol);
        if (Subscribers(lower + "@aggTrade") is { } aggTargets)
        {
            Publish(lower + "@aggTrade", aggTargets, JsonFrame.Write(w => BinanceJson.WriteAggTradeEvent(w, spec, trade, trade.Time)));
        }

        if (Subscribers(lower + "@trade") is { } tradeTargets)
        {
            Publish(lower + "@trade", tradeTargets, JsonFrame.Write(w => BinanceJson.WriteTradeEvent(w, spec, trade, trade.Time)));
        }
    }

    public void OnDepthUpdate(DepthUpdate update)
    {
        var name = Lower(update.Symbol) + "@depth@0ms";
        if (Subscribers(name) is { } targets)
        {
            var spec = Engine.GetSpec(update.Symbol);
            Publish(name, targets, JsonFrame.Write(w => BinanceJson.WriteDepthEvent(w, spec, update.EventTime, update.TransactionTime, update.FirstUpdateId, update.FinalUpdateId, update.PreviousFinalUpdateId, update.Bids, update.Asks)));
        }

        lock (gate)
        {
            foreach (var d in diffs.Values)
            {
                if (d.Stream.Symbol == update.Symbol)
                {
                    d.Add(update);
                }
            }
        }
    }

    public void OnOrderUpdate(OrderUpdate update)
    {
        var spec = Engine.GetSpec(update.Order.Symbol);

        // Every trade of the account also goes out as the leaner TRADE_LITE, ahead of its ORDER_TRADE_UPDATE
        // (binance-futures-api.md §7; Binance's USDⓈ-M "Event: Trade Lite": "only pushes TRADE Execution Type").
        if (update.ExecutionType == ExecutionType.Trade && update.Trade is not null)
        {
            PublishUser(BinanceJson.TradeLite, () => JsonFrame.Write(w => BinanceJson.WriteTradeLite(w, spec, update)));
        }

        PublishUser(BinanceJson.OrderTradeUpdate, () => JsonFrame.Write(w => BinanceJson.WriteOrderTradeUpdate(w, spec, update)));
    }

    public void OnAccountUpdate(AccountUpdate update) =>
        PublishUser(BinanceJson.AccountUpdate, () => JsonFrame.Write(w => BinanceJson.WriteAccountUpdate(w, Engine.GetSpec, update)));

    /// <summary>Queues a user event to every connection of each live listen key that wants its type (<c>events=</c>).</summary>
    private void PublishUser(string eventType, Func<byte[]> format)
    {
        List<(string Key, StreamConnection[] Targets)> targets;
        lock (gate)
        {
            if (users.Count == 0)
            {
                return;
            }

            targets = [.. users.Select(kv => (kv.Key, kv.Value))];
        }

        var payload = format();
        foreach (var (key, connections) in targets)
        {
            var delay = Faults.Roll(Faults.Options.DelayUserEventProbability) ? Faults.Options.UserEventDelay : TimeSpan.Zero;
            var duplicate = Faults.Roll(Faults.Options.DuplicateUserEventProbability);
            foreach (var c in connections)
            {
                if (!c.Wants(key, eventType))
                {
                    continue;
                }

                c.Send(key, payload, delay);
                if (duplicate)
                {
                    c.Send(key, payload, delay);
                }
            }
        }
    }

    private void OnListenKeyEnded(string key, bool expired)
    {
        StreamConnection[]? targets;
        lock (gate)
        {
            users.Remove(key, out targets);
        }

        if (targets is null)
        {
            return;
        }

        var payload = JsonFrame.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("e", "listenKeyExpired");
            w.WriteNumber("E", Engine.Now);
            w.WriteString("listenKey", key);
            w.WriteEndObject();
        });
        foreach (var c in targets)
        {
            c.RemoveSubscription(key);
            if (expired)
            {
                c.SendAndClose(key, payload);
            }
            else
            {
                c.Abort();
            }
        }
    }

    // ------------------------------------------------------------ interval streams

    /// <summary>Flushes interval streams that are due; call every few tens of milliseconds.</summary>
    public void Tick()
    {
        var now = Engine.Now;

        // Intervals are paced by the monotonic timestamp, so they keep ticking even when a test freezes the wall clock.
        var elapsedMs = context.Clock.GetTimestamp() * 1000 / context.Clock.TimestampFrequency;
        List<(string Name, StreamName Stream, StreamConnection[] Targets, DiffAggregator? Diff)> due = [];
        lock (gate)
        {
            foreach (var (name, stream) in streams)
            {
                if (stream.Kind is StreamKind.BookTicker or StreamKind.AggTrade or StreamKind.Trade || stream.IntervalMs == 0)
                {
                    continue;
                }

                var slot = elapsedMs / stream.IntervalMs;
                var key = name + "#slot";
                if (lastEmitted.TryGetValue(key, out var last) && last == slot)
                {
                    continue;
                }

                lastEmitted[key] = slot;
                due.Add((name, stream, subscribers[name], diffs.GetValueOrDefault(name)));
            }
        }

        foreach (var (name, stream, targets, diff) in due)
        {
            var spec = Engine.GetSpec(stream.Symbol);
            switch (stream.Kind)
            {
                case StreamKind.DiffDepth when diff is not null:
                    if (diff.TryFlush(spec, now) is { } frame)
                    {
                        Publish(name, targets, frame);
                    }

                    break;
                case StreamKind.PartialDepth:
                    var depth = Engine.GetDepth(stream.Symbol, stream.Levels);
                    long previous;
                    lock (gate)
                    {
                        previous = lastEmitted.GetValueOrDefault(name, depth.LastUpdateId - 1);
                        if (previous == depth.LastUpdateId)
                        {
                            continue;
                        }

                        lastEmitted[name] = depth.LastUpdateId;
                    }

                    Publish(name, targets, JsonFrame.Write(w => BinanceJson.WriteDepthEvent(w, spec, now, depth.TransactionTime, previous + 1, depth.LastUpdateId, previous, depth.Bids, depth.Asks)));
                    break;
                case StreamKind.MarkPrice:
                    var mark = Engine.GetMarkPrice(stream.Symbol);
                    const long eightHours = 8 * 3600 * 1000;
                    Publish(name, targets, JsonFrame.Write(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("e", "markPriceUpdate");
                        w.WriteNumber("E", now);
                        w.WriteString("s", stream.Symbol);
                        w.WriteString("p", BinanceJson.Fixed(mark, 8));
                        w.WriteString("i", BinanceJson.Fixed(mark, 8));
                        w.WriteString("P", BinanceJson.Fixed(mark, 8));
                        w.WriteString("r", "0.00010000");
                        w.WriteNumber("T", ((now / eightHours) + 1) * eightHours);
                        w.WriteEndObject();
                    }));
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>Collects depth diffs between flushes: latest quantity per level, U of the first, u of the last.</summary>
    private sealed class DiffAggregator(StreamName stream)
    {
        private readonly Lock gate = new();
        private readonly Dictionary<decimal, decimal> bids = [];
        private readonly Dictionary<decimal, decimal> asks = [];
        private long first;
        private long final;
        private long previous;
        private long transactionTime;

        public StreamName Stream => stream;

        public void Add(DepthUpdate update)
        {
            lock (gate)
            {
                if (first == 0)
                {
                    first = update.FirstUpdateId;
                    previous = update.PreviousFinalUpdateId;
                }

                final = update.FinalUpdateId;
                transactionTime = update.TransactionTime;
                foreach (var l in update.Bids)
                {
                    bids[l.Price] = l.Qty;
                }

                foreach (var l in update.Asks)
                {
                    asks[l.Price] = l.Qty;
                }
            }
        }

        public byte[]? TryFlush(SymbolSpec spec, long now)
        {
            lock (gate)
            {
                if (first == 0)
                {
                    return null;
                }

                var b = bids.OrderByDescending(kv => kv.Key).Select(kv => new BookLevel(kv.Key, kv.Value)).ToList();
                var a = asks.OrderBy(kv => kv.Key).Select(kv => new BookLevel(kv.Key, kv.Value)).ToList();
                var frame = JsonFrame.Write(w => BinanceJson.WriteDepthEvent(w, spec, now, transactionTime, first, final, previous, b, a));
                bids.Clear();
                asks.Clear();
                first = 0;
                return frame;
            }
        }
    }
}
