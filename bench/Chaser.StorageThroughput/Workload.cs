using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Ports;
using Chaser.Core.Replay;
using Chaser.Core.Rules;
using Chaser.Storage;

namespace Chaser.StorageThroughput;

/// <summary>One recorder call, as the engine makes it; both writers are handed the same list.</summary>
internal abstract record Call;

internal sealed record StartedCall(ParentOrderSpec Spec, DateTimeOffset Time) : Call;

internal sealed record MachineStartedCall(ReplayStart Start) : Call;

internal sealed record ArrivalMidCall(long ParentId, decimal Mid, DateTimeOffset Time) : Call;

internal sealed record InputCall(long ParentId, DateTimeOffset Time, ChaserInput Input) : Call;

internal sealed record MidCall(MidSample Sample) : Call;

internal sealed record MarketTradeCall(MarketTradeSample Trade) : Call;

internal sealed record DecisionCall(DecisionRecord Decision) : Call;

internal sealed record ChildCall(ChildOrderSnapshot Child) : Call;

internal sealed record FillCall(FillRecord Fill) : Call;

internal sealed record CompletedCall(ExecutionResult Result) : Call;

/// <summary>What a run writes: the calls, and the rows each table must hold afterwards (both writers are checked against them).</summary>
internal sealed record Workload(string Name, IReadOnlyList<Call> Calls, IReadOnlyDictionary<string, long> ExpectedRows)
{
    /// <summary>Every row written (inserted or upserted), order updates included: the rows/s figure's numerator.</summary>
    public long RowWrites { get; init; }

    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly SymbolRules Btc = new() { Symbol = "BTCUSDT", TickSize = 0.1m, StepSize = 0.001m, MinQty = 0.001m, MinNotional = 100m };

    private static readonly DecisionCause Reprice = new(EventKind.BookTop, DecisionRule.RepriceBehindBest);

    private static readonly DecisionCause Post = new(EventKind.BookTop, DecisionRule.PostAtBest);

    private static readonly DecisionCause Target = new(EventKind.Fill, DecisionRule.TargetReached);

    /// <summary>
    /// The engine's mix, from the rows <c>chaser demo</c> leaves (3 orders: 356 inputs, 148 book tops, 72 depth, 82
    /// trades, 28 acks, 14 fills, 56 mids, 82 market trades, 17 decisions): per order a start, then
    /// <paramref name="cycles"/> cycles of 20 inputs — 8 book tops (3 moving the mid), 4 depth updates (5 levels a
    /// side), 5 trades, a re-price (a decision and a child snapshot), its ack (a child snapshot), a fill (a child
    /// snapshot) and a timer — and a finish. Orders interleave cycle by cycle, as many orders at once do.
    /// </summary>
    public static Workload Engine(int orders, int cycles)
    {
        var perOrder = new List<Call>[orders];
        for (var o = 0; o < orders; o++)
        {
            perOrder[o] = EngineOrder(o + 1, cycles);
        }

        return Interleave("engine", perOrder, orders, cycles);
    }

    /// <summary>The mix of the earlier figures: per order, <paramref name="rows"/> each of fills, mids and decisions.</summary>
    public static Workload FillsMidsEvents(int orders, int rows)
    {
        var perOrder = new List<Call>[orders];
        var cause = new DecisionCause(EventKind.BookTop, DecisionRule.RepriceBehindBest);
        for (var o = 0; o < orders; o++)
        {
            var id = o + 1L;
            var spec = new ParentOrderSpec(id, "BTCUSDT", Side.Buy, SizeType.Quantity, rows * 0.001m);
            var calls = new List<Call>(3 * rows + 2) { new StartedCall(spec, T0) };
            for (var i = 0; i < rows; i++)
            {
                var time = T0.AddMilliseconds(i);
                calls.Add(new FillCall(new FillRecord(id, $"chs-{id}-1", i, 65_000.1m + (i * 0.1m), 0.001m, 0.013m, "USDT", true, time, time)));
                calls.Add(new MidCall(new MidSample(id, 65_000m + i, 65_000.1m + i, time, time)));
                calls.Add(new DecisionCall(new DecisionRecord(id, time, new ChaserCommand(ChaserCommandKind.Modify, $"chs-{id}-1", Side.Buy, ChildOrderType.PostOnly, 65_000.1m, 0.5m, FinishReason.None, cause), 42.0)));
            }

            calls.Add(new CompletedCall(new ExecutionResult { Spec = spec, Status = FinishReason.Filled, FilledQuantity = rows * 0.001m, StartedAt = T0, CompletedAt = T0.AddSeconds(1) }));
            perOrder[o] = calls;
        }

        return Interleave("fills-mids-events", perOrder, orders, 1);
    }

    private static List<Call> EngineOrder(long id, int cycles)
    {
        var quantity = cycles * 0.001m;
        var spec = new ParentOrderSpec(id, "BTCUSDT", Side.Buy, SizeType.Quantity, quantity);
        var machine = new ChaserStateMachine(spec, Btc, clientIdTag: "bench1");
        var clientOrderId = ClientOrderIds.For("bench1", id, 1);
        var calls = new List<Call>((cycles * 33) + 8);
        var now = T0;
        var bid = 65_000.0m;
        var filled = 0m;
        var modifies = 0;
        ChildOrderSnapshot Child(ChildState state, long exchangeId, decimal price, DateTimeOffset time) => new()
        {
            ParentId = id,
            ClientOrderId = clientOrderId,
            Sequence = 1,
            OrderType = ChildOrderType.PostOnly,
            ExchangeOrderId = exchangeId,
            Price = price,
            Quantity = quantity,
            State = state,
            FilledQuantity = filled,
            FilledNotional = filled * price,
            Modifies = modifies,
            SentAt = T0,
            PlacedAt = time,
            Time = time,
        };

        calls.Add(new StartedCall(spec, now));
        calls.Add(new MachineStartedCall(ReplayStart.Of(machine, now, 1m)));
        calls.Add(new InputCall(id, now, ChaserInput.OfBook("BTCUSDT", new BookTop(bid, 1.2m, bid + 0.1m, 0.8m, 1, now), 0)));
        calls.Add(new ArrivalMidCall(id, bid + 0.05m, now));
        calls.Add(new MidCall(new MidSample(id, bid, bid + 0.1m, now, now)));
        calls.Add(new DecisionCall(new DecisionRecord(id, now, new ChaserCommand(ChaserCommandKind.Place, clientOrderId, Side.Buy, ChildOrderType.PostOnly, bid, quantity, FinishReason.None, Post), 85.0)));
        calls.Add(new ChildCall(Child(ChildState.PendingNew, 0, bid, now)));
        var exchangeId = 4_000_000_000 + id;
        var updateId = 2L;
        for (var c = 0; c < cycles; c++)
        {
            for (var b = 0; b < 8; b++)
            {
                now = now.AddMilliseconds(7);
                var moves = b % 3 == 0;
                if (moves)
                {
                    bid += b == 0 ? 0.1m : -0.1m;
                }

                var book = new BookTop(bid, 1.2m + (b * 0.001m), bid + 0.1m, 0.8m + (b * 0.002m), updateId++, now.AddMilliseconds(-3));
                calls.Add(new InputCall(id, now, ChaserInput.OfBook("BTCUSDT", book, 0)));
                if (moves)
                {
                    calls.Add(new MidCall(new MidSample(id, book.Bid, book.Ask, book.ExchangeTime, now)));
                }

                if (b < 4)
                {
                    now = now.AddMilliseconds(3);
                    var bids = Enumerable.Range(0, 5).Select(l => new PriceLevel(bid - (l * 0.1m), 0.2m + (l * 0.137m))).ToArray();
                    var asks = Enumerable.Range(0, 5).Select(l => new PriceLevel(bid + 0.1m + (l * 0.1m), 0.3m + (l * 0.211m))).ToArray();
                    calls.Add(new InputCall(id, now, ChaserInput.OfDepth("BTCUSDT", new DepthLevels(bids, asks, updateId++, now.AddMilliseconds(-2)), 0)));
                }

                if (b < 5)
                {
                    now = now.AddMilliseconds(2);
                    var trade = new TradePrint(bid + 0.1m, 0.004m + (b * 0.001m), b % 2 == 0, now.AddMilliseconds(-1), now);
                    calls.Add(new InputCall(id, now, ChaserInput.OfTrade("BTCUSDT", trade)));
                    calls.Add(new MarketTradeCall(new MarketTradeSample(id, trade.Price, trade.Quantity, trade.BuyerIsMaker, trade.ExchangeTime, now)));
                }
            }

            // The book moved: one re-price, its ack, then a fill at the new price.
            now = now.AddMilliseconds(1);
            modifies++;
            calls.Add(new DecisionCall(new DecisionRecord(id, now, new ChaserCommand(ChaserCommandKind.Modify, clientOrderId, Side.Buy, ChildOrderType.PostOnly, bid, quantity, FinishReason.None, Reprice), 31.5)));
            calls.Add(new ChildCall(Child(ChildState.PendingModify, exchangeId, bid, now)));
            now = now.AddMilliseconds(2);
            calls.Add(new InputCall(id, now, ChaserInput.OfAccepted(new OrderAccepted(clientOrderId, exchangeId, bid, quantity, true, now.AddMilliseconds(-1), now))));
            calls.Add(new ChildCall(Child(ChildState.Live, exchangeId, bid, now)));
            now = now.AddMilliseconds(5);
            filled += 0.001m;
            var fill = new Fill(clientOrderId, (id * 1_000_000) + c, bid, 0.001m, 0.013m, "USDT", true, filled, filled == quantity, now.AddMilliseconds(-1), now);
            calls.Add(new InputCall(id, now, ChaserInput.OfFill(fill)));
            calls.Add(new FillCall(new FillRecord(id, clientOrderId, fill.TradeId, fill.Price, fill.Quantity, fill.Fee, fill.FeeAsset, fill.IsMaker, fill.ExchangeTime, now)));
            calls.Add(new ChildCall(Child(filled == quantity ? ChildState.Final : ChildState.Live, exchangeId, bid, now)));
            now = now.AddMilliseconds(1);
            calls.Add(new InputCall(id, now, ChaserInput.Timer));
        }

        calls.Add(new DecisionCall(new DecisionRecord(id, now, new ChaserCommand(ChaserCommandKind.Finish, "", Side.Buy, ChildOrderType.PostOnly, 0m, 0m, FinishReason.Filled, Target, "target reached"), null)));
        calls.Add(new CompletedCall(new ExecutionResult
        {
            Spec = spec,
            Status = FinishReason.Filled,
            Detail = "target reached",
            FilledQuantity = filled,
            FilledNotional = filled * bid,
            Fees = cycles * 0.013m,
            ArrivalMid = 65_000.05m,
            StartedAt = T0,
            CompletedAt = now,
            ChildOrders = 1,
            Modifies = modifies,
        }));
        return calls;
    }

    /// <summary>All orders' calls, <paramref name="slices"/> slices of each order in turn (as concurrent orders' writes arrive).</summary>
    private static Workload Interleave(string name, List<Call>[] perOrder, int orders, int slices)
    {
        var all = new List<Call>(perOrder.Sum(c => c.Count));
        var sliceSize = perOrder.Max(c => c.Count) / slices + 1;
        for (var s = 0; s < slices; s++)
        {
            for (var o = 0; o < orders; o++)
            {
                var calls = perOrder[o];
                var from = s * sliceSize;
                if (from < calls.Count)
                {
                    all.AddRange(calls.Skip(from).Take(sliceSize));
                }
            }
        }

        var expected = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["orders"] = all.OfType<StartedCall>().Count(),
            ["child_orders"] = all.OfType<ChildCall>().Select(c => c.Child.ClientOrderId).Distinct(StringComparer.Ordinal).Count(),
            ["fills"] = all.OfType<FillCall>().Select(f => (f.Fill.ParentId, f.Fill.TradeId)).Distinct().Count(),
            ["mids"] = all.OfType<MidCall>().Count(),
            ["market_trades"] = all.OfType<MarketTradeCall>().Count(),
            ["events"] = all.OfType<DecisionCall>().Count(),
            ["order_inputs"] = all.Count(c => c is InputCall or MachineStartedCall),
        };
        return new Workload(name, all, expected) { RowWrites = all.Count };
    }

    /// <summary>One line saying how many rows of each kind a run writes.</summary>
    public string Describe() =>
        $"{Calls.Count:N0} row writes: " + string.Join(", ", new (string Name, int Count)[]
        {
            ("order_inputs", Calls.Count(c => c is InputCall or MachineStartedCall)),
            ("market_trades", Calls.Count(c => c is MarketTradeCall)),
            ("mids", Calls.Count(c => c is MidCall)),
            ("events", Calls.Count(c => c is DecisionCall)),
            ("fills", Calls.Count(c => c is FillCall)),
            ("child_orders upserts", Calls.Count(c => c is ChildCall)),
            ("order writes", Calls.Count(c => c is StartedCall or ArrivalMidCall or CompletedCall)),
        }.Where(x => x.Count > 0).Select(x => $"{x.Count:N0} {x.Name}"));

    /// <summary>Hands every call to the recorder, as the engine would.</summary>
    public void Feed(StorageRecorder recorder)
    {
        foreach (var call in Calls)
        {
            switch (call)
            {
                case StartedCall started:
                    recorder.OrderStarted(started.Spec, started.Time);
                    break;
                case MachineStartedCall start:
                    recorder.MachineStarted(start.Start);
                    break;
                case ArrivalMidCall arrival:
                    recorder.ArrivalMid(arrival.ParentId, arrival.Mid, arrival.Time);
                    break;
                case InputCall input:
                    recorder.MachineInput(input.ParentId, input.Time, input.Input);
                    break;
                case MidCall mid:
                    recorder.Mid(mid.Sample);
                    break;
                case MarketTradeCall trade:
                    recorder.MarketTrade(trade.Trade);
                    break;
                case DecisionCall decision:
                    recorder.Decision(decision.Decision);
                    break;
                case ChildCall child:
                    recorder.Child(child.Child);
                    break;
                case FillCall fill:
                    recorder.Fill(fill.Fill);
                    break;
                case CompletedCall completed:
                    recorder.OrderCompleted(completed.Result);
                    break;
                default:
                    throw new InvalidOperationException($"unknown call {call.GetType().Name}");
            }
        }
    }
}
