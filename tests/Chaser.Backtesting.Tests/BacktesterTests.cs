using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;
using Chaser.Simulator.Sources;
using Chaser.Tests.Shared;

namespace Chaser.Backtesting.Tests;

/// <summary>The chaser and the matching engine on virtual time, replaying the real recorded Binance data.</summary>
public class BacktesterTests
{
    [Fact]
    public void A_buy_on_real_btc_data_fills_to_target_as_maker_and_matches_the_exchange()
    {
        var result = Backtester.Run(Options(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 15_000m), "BTCUSDT", depth: false), cancellationToken: TestContext.Current.CancellationToken);
        var execution = result.Execution;

        Assert.Equal(FinishReason.Filled, execution.Status);
        Assert.InRange(execution.FilledNotional, 15_000m - (0.001m * 70_000m), 15_000m);
        Assert.All(execution.Fills, f => Assert.True(f.IsMaker));
        Assert.Equal(result.ExchangeTradeIds.Order(), execution.Fills.Select(f => f.TradeId).Order());
        Assert.Equal(execution.FilledQuantity, execution.Fills.Sum(f => f.Quantity));
        Assert.Equal(0, result.OpenOrdersLeft);
        Assert.True(execution.ArrivalMid > 60_000m && execution.ArrivalMid < 70_000m, $"arrival mid {execution.ArrivalMid}");
        Assert.True(execution.CompletedAt > execution.StartedAt);
    }

    [Fact]
    public void A_sell_with_depth_data_fills_exactly_its_quantity()
    {
        var result = Backtester.Run(Options(new ParentOrderSpec(2, "ETHUSDT", Side.Sell, SizeType.Quantity, 30m), "ETHUSDT", depth: true) with { Latency = TimeSpan.FromMilliseconds(20) }, cancellationToken: TestContext.Current.CancellationToken);
        var execution = result.Execution;

        Assert.Equal(FinishReason.Filled, execution.Status);
        Assert.Equal(30m, execution.FilledQuantity);
        Assert.All(execution.Fills, f => Assert.True(f.IsMaker));
        Assert.All(execution.Fills, f => Assert.True(f.Quantity % 0.001m == 0m, $"fill of {f.Quantity} is not a whole number of lots"));
        Assert.All(execution.Fills, f => Assert.True(f.Price >= execution.ArrivalMid - 5m, $"sold at {f.Price}, far below the arrival mid {execution.ArrivalMid}"));
        Assert.Equal(result.ExchangeTradeIds.Order(), execution.Fills.Select(f => f.TradeId).Order());
    }

    [Fact]
    public void The_same_input_gives_the_same_result()
    {
        var options = Options(new ParentOrderSpec(3, "BTCUSDT", Side.Sell, SizeType.Notional, 200_000m), "BTCUSDT", depth: true);
        var first = Backtester.Run(options, cancellationToken: TestContext.Current.CancellationToken).Execution;
        var second = Backtester.Run(options, cancellationToken: TestContext.Current.CancellationToken).Execution;

        Assert.All(first.Fills, f => Assert.True(f.Quantity % 0.001m == 0m, $"fill of {f.Quantity} is not a whole number of lots"));
        Assert.Equal(first.FilledQuantity, second.FilledQuantity);
        Assert.Equal(first.CompletedAt, second.CompletedAt);
        Assert.Equal(first.Fills.Select(f => (f.TradeId, f.Price, f.Quantity, f.ExchangeTime)), second.Fills.Select(f => (f.TradeId, f.Price, f.Quantity, f.ExchangeTime)));
        Assert.Equal((first.Modifies, first.Cancels, first.ChildOrders), (second.Modifies, second.Cancels, second.ChildOrders));
    }

    [Fact]
    public void An_order_the_data_cannot_fill_ends_expired_when_the_data_runs_out()
    {
        // Starting 100 ms before the recording ends, as the price falls away from the ask: 1.5 M USDT cannot be sold as maker.
        var options = Options(new ParentOrderSpec(4, "BTCUSDT", Side.Sell, SizeType.Notional, 1_500_000m), "BTCUSDT", depth: false) with
        {
            Start = DateTimeOffset.FromUnixTimeMilliseconds(1721347502190),
        };
        var result = Backtester.Run(options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(FinishReason.Expired, result.Execution.Status);
        Assert.Equal("the market data ran out", result.Execution.Detail);
        Assert.True(result.Execution.FilledNotional < 1_500_000m);
        Assert.True(result.Execution.StartedAt >= options.Start);
        Assert.Equal(result.ExchangeTradeIds.Order(), result.Execution.Fills.Select(f => f.TradeId).Order());
    }

    [Fact]
    public void A_deadline_in_market_time_cancels_the_child_and_expires()
    {
        var options = Options(new ParentOrderSpec(5, "BTCUSDT", Side.Buy, SizeType.Notional, 1_500_000m), "BTCUSDT", depth: true) with
        {
            Deadline = TimeSpan.FromSeconds(3),
        };
        var result = Backtester.Run(options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(FinishReason.Expired, result.Execution.Status);
        Assert.InRange(result.Execution.Duration, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4));
        Assert.Equal(0, result.OpenOrdersLeft);
        Assert.Equal(result.ExchangeTradeIds.Order(), result.Execution.Fills.Select(f => f.TradeId).Order());
    }

    [Fact]
    public void An_order_that_asks_to_take_the_remainder_at_its_deadline_ends_filled_by_one_taker_order()
    {
        var options = Options(new ParentOrderSpec(7, "BTCUSDT", Side.Buy, SizeType.Notional, 150_000m) { OnDeadline = DeadlineAction.TakeRemainder }, "BTCUSDT", depth: true) with
        {
            Deadline = TimeSpan.FromSeconds(3),
        };
        var recorder = new DecisionList();
        var result = Backtester.Run(options, recorder, TestContext.Current.CancellationToken);
        var execution = result.Execution;

        Assert.Equal(FinishReason.Filled, execution.Status);
        Assert.InRange(execution.FilledNotional, 150_000m - (0.001m * 70_000m), 150_000m + (0.001m * 70_000m));
        var takes = recorder.Decisions.Where(d => d.Command.Cause.Rule == DecisionRule.DeadlineTakeRemainder && d.Command.Kind == ChaserCommandKind.Place).ToArray();
        Assert.Single(takes);
        Assert.Equal(ChildOrderType.Market, takes[0].Command.OrderType);
        Assert.Contains(execution.Fills, f => !f.IsMaker);
        Assert.Equal(0, result.OpenOrdersLeft);
        Assert.Equal(result.ExchangeTradeIds.Order(), execution.Fills.Select(f => f.TradeId).Order());
    }

    [Fact]
    public void An_orders_own_reprice_interval_paces_its_reprices_in_the_backtest()
    {
        var order = new ParentOrderSpec(8, "BTCUSDT", Side.Buy, SizeType.Notional, 1_500_000m);
        var window = TimeSpan.FromSeconds(60);
        var engineDefault = new DecisionList();
        var own = new DecisionList();
        Backtester.Run(Options(order, "BTCUSDT", depth: true) with { Deadline = window }, engineDefault, TestContext.Current.CancellationToken);
        Backtester.Run(Options(order with { MinRepriceInterval = TimeSpan.FromSeconds(1) }, "BTCUSDT", depth: true) with { Deadline = window }, own, TestContext.Current.CancellationToken);

        // On this tape the engine-wide 200 ms lets two re-prices follow each other within a second; the order's own
        // second holds every one back until a second after the last.
        static TimeSpan[] Gaps(DateTimeOffset[] times) => [.. times.Zip(times.Skip(1), (a, b) => b - a)];
        var fast = Gaps(engineDefault.Reprices());
        var slow = Gaps(own.Reprices());
        Assert.Contains(fast, gap => gap < TimeSpan.FromSeconds(1));
        Assert.NotEmpty(slow);
        Assert.All(slow, gap => Assert.True(gap >= TimeSpan.FromSeconds(1), $"re-priced {gap.TotalMilliseconds} ms after the last"));
    }

    [Fact]
    public void An_orders_time_limit_stops_the_backtest_in_market_time()
    {
        // The backtest's own Deadline was the only limit: an order that carries its time limit ran until the data ended.
        var options = Options(new ParentOrderSpec(9, "BTCUSDT", Side.Buy, SizeType.Notional, 1_500_000m) { TimeLimit = TimeSpan.FromSeconds(3) }, "BTCUSDT", depth: true);
        var result = Backtester.Run(options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(FinishReason.Expired, result.Execution.Status);
        Assert.Equal("deadline reached", result.Execution.Detail);
        Assert.InRange(result.Execution.Duration, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4));
    }

    [Fact]
    public void A_request_reaches_the_exchange_one_latency_after_it_is_sent_and_its_fills_come_back_one_latency_later()
    {
        // The clock stood still while a delayed request ran: with 500 ms latency the market order traded 476 ms after
        // it was sent (the exchange stamped it with the last market event's time) and its fills came back early too.
        var latency = TimeSpan.FromMilliseconds(500);
        var options = Options(new ParentOrderSpec(14, "BTCUSDT", Side.Buy, SizeType.Notional, 150_000m) { OnDeadline = DeadlineAction.TakeRemainder }, "BTCUSDT", depth: true) with
        {
            Deadline = TimeSpan.FromSeconds(3),
            Latency = latency,
        };
        var recorder = new DecisionList();
        var execution = Backtester.Run(options, recorder, TestContext.Current.CancellationToken).Execution;

        var sent = recorder.Decisions.Where(d => d.Command.Kind == ChaserCommandKind.Place).ToDictionary(d => d.Command.ClientOrderId, d => d.Time);
        Assert.Contains(execution.Fills, f => !f.IsMaker);
        var tick = TimeSpan.FromMilliseconds(1);
        Assert.All(execution.Fills, f =>
        {
            // Exchange times are whole milliseconds.
            Assert.True(f.ExchangeTime > sent[f.ClientOrderId] + latency - tick, $"{f.ClientOrderId} traded {(f.ExchangeTime - sent[f.ClientOrderId]).TotalMilliseconds} ms after it was sent");
            Assert.True(f.ReceivedAt > f.ExchangeTime + latency - tick, $"trade {f.TradeId} reached us {(f.ReceivedAt - f.ExchangeTime).TotalMilliseconds} ms after it happened");
        });
    }

    [Theory]
    [InlineData(BacktestStrategy.Chaser)]
    [InlineData(BacktestStrategy.Naive)]
    public void With_depth_the_chaser_steps_back_when_its_order_is_alone_at_the_top_and_the_naive_one_stays(BacktestStrategy strategy)
    {
        // The depth the exchange published never reached the chaser, so the step-back rule could not fire in a
        // backtest. Here the others at our bid leave (depth 60,000.0 -> 0, the bookTicker's bid 59,999.9): our buy
        // is alone at the top, and the next level is known only from the depth.
        using var files = new RecordingFiles("BTCUSDT", "chaser-stepback-");
        const long t0 = 1_721_347_022_000;
        var data = new ReplayFiles
        {
            Symbol = "BTCUSDT",
            DepthSnapshot = files.Write(
                "depthSnapshot",
                "local_ts,last_update_id,event_time,transaction_time,side,price,qty",
                $"0,100,{t0},{t0},bid,60000.0,1.000",
                $"0,100,{t0},{t0},bid,59999.9,2.000",
                $"0,100,{t0},{t0},bid,59999.8,3.000",
                $"0,100,{t0},{t0},ask,60000.5,1.000",
                $"0,100,{t0},{t0},ask,60000.6,2.000"),
            DepthUpdates = files.Write(
                "depthUpdates",
                "local_ts,event_time,transaction_time,first_update_id,final_update_id,prev_final_update_id,side,price,qty",
                $"0,{t0 + 500},{t0 + 500},101,101,100,bid,60000.0,0"),
            BookTicker = files.Write(
                "bookTicker",
                "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time",
                $"100,60000.0,1.000,60000.5,1.000,{t0 + 10},{t0 + 10}",
                $"101,59999.9,2.000,60000.5,1.000,{t0 + 500},{t0 + 500}",
                $"102,59999.9,2.000,60000.5,1.200,{t0 + 900},{t0 + 900}"),
            Trades = files.Write(
                "trades",
                "id,price,qty,quote_qty,time,is_buyer_maker",
                $"1,60000.5,0.001,60.0005,{t0 + 50},false"),
        };
        var recorder = new DecisionList();
        Backtester.Run(new BacktestOptions { Order = new ParentOrderSpec(15, "BTCUSDT", Side.Buy, SizeType.Notional, 1_000m), Data = data, Strategy = strategy }, recorder, TestContext.Current.CancellationToken);

        if (strategy == BacktestStrategy.Naive)
        {
            // Re-pricing to the touch only: alone at 60,000.0, it stays there.
            Assert.DoesNotContain(recorder.Decisions, d => d.Command.Kind is ChaserCommandKind.Modify or ChaserCommandKind.Cancel);
            Assert.Equal(60_000.0m, Assert.Single(recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Place).Command.Price);
            return;
        }

        var stepBack = Assert.Single(recorder.Decisions, d => d.Command.Cause.Rule == DecisionRule.RepriceAloneAtTop);
        Assert.Equal(ChaserCommandKind.Modify, stepBack.Command.Kind);
        Assert.Equal(59_999.9m, stepBack.Command.Price);
    }

    [Fact]
    public void A_backtests_reprices_carry_their_tick_to_order_latency_a_held_back_one_its_wait()
    {
        // The backtester recorded every decision with no latency, and its result had none: the live host's did.
        var recorder = new DecisionList();
        var options = Options(new ParentOrderSpec(17, "BTCUSDT", Side.Buy, SizeType.Notional, 1_500_000m), "BTCUSDT", depth: true) with { Deadline = TimeSpan.FromSeconds(120) };
        var execution = Backtester.Run(options, recorder, TestContext.Current.CancellationToken).Execution;

        var reprices = recorder.Decisions.Where(d => d.Command.Cause.Rule is DecisionRule.RepriceBehindBest or DecisionRule.RepriceAloneAtTop).ToArray();
        Assert.Contains(reprices, d => d.Command.Cause.Trigger == EventKind.Timer);
        Assert.All(reprices, d => Assert.NotNull(d.TickToOrderMicroseconds));

        // On virtual time sending costs nothing: a re-price the minimum interval held back waited that long since the frame.
        Assert.All(reprices.Where(d => d.Command.Cause.Trigger == EventKind.Timer), d => Assert.True(d.TickToOrderMicroseconds > 0));
        Assert.True(execution.Latency.Count >= reprices.Length, $"{execution.Latency.Count} latencies for {reprices.Length} re-prices");
    }

    [Fact]
    public void Every_child_is_recorded_in_its_final_state()
    {
        // Only the newest and the open child were recorded: a child whose cancel or last fill led straight to the next
        // child stayed "pending cancel" or "live" in the record.
        var recorder = new DecisionList();
        var options = Options(new ParentOrderSpec(16, "BTCUSDT", Side.Buy, SizeType.Notional, 1_500_000m), "BTCUSDT", depth: true) with
        {
            Deadline = TimeSpan.FromSeconds(120),
            Chaser = new ChaserOptions { PreferModify = false },
        };
        var result = Backtester.Run(options, recorder, TestContext.Current.CancellationToken);

        Assert.Equal(0, result.OpenOrdersLeft);
        Assert.True(recorder.ChildStates.Count > 1, $"{recorder.ChildStates.Count} children");
        Assert.All(recorder.ChildStates, child => Assert.True(child.Value == ChildState.Final, $"{child.Key} recorded {child.Value}"));
    }

    [Fact]
    public void Data_of_another_symbol_is_refused_naming_the_symbol()
    {
        var error = Assert.Throws<ArgumentException>(() => Backtester.Run(Options(new ParentOrderSpec(6, "ETHUSDT", Side.Buy, SizeType.Quantity, 1m), "BTCUSDT", depth: false), cancellationToken: TestContext.Current.CancellationToken));
        Assert.StartsWith("symbol: the order is on ETHUSDT but the data is BTCUSDT", error.Message, StringComparison.Ordinal);
    }

    // Between two bookTicker rows: 23:59:04.279 (63,958.10 / 63,958.20) and 23:59:04.300 (63,956.20 / 63,956.30).
    private static readonly DateTimeOffset QuietStart = DateTimeOffset.FromUnixTimeMilliseconds(1721347204290);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_start_begins_the_order_at_that_time_on_the_book_as_it_stood(bool depth)
    {
        // The order started at the first quote change after --start, on that later quote (and, with depth, on the
        // depth's top, the bookTicker unread).
        var options = Options(new ParentOrderSpec(10, "BTCUSDT", Side.Buy, SizeType.Notional, 1_500_000m), "BTCUSDT", depth) with
        {
            Start = QuietStart,
            Deadline = TimeSpan.FromSeconds(1),
        };
        var result = Backtester.Run(options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(QuietStart, result.Execution.StartedAt);
        Assert.Equal(63_958.15m, result.Execution.ArrivalMid);
    }

    [Theory]
    [InlineData(1721347022506L, "2024-07-18 23:57:02.506Z is outside the data")] // 1 ms before the first quote
    [InlineData(1721347502291L, "2024-07-19 00:05:02.291Z is outside the data")] // 1 ms after the last one
    [InlineData(1680652700430L, "2023-04-04 23:58:20.430Z is outside the data")] // another recording's day
    public void A_start_outside_the_data_is_refused(long startMs, string expected)
    {
        // Before the data it started at the first quote; after it, the whole file was replayed to find nothing.
        var options = Options(new ParentOrderSpec(11, "BTCUSDT", Side.Buy, SizeType.Notional, 1_000m), "BTCUSDT", depth: false) with
        {
            Start = DateTimeOffset.FromUnixTimeMilliseconds(startMs),
        };
        var error = Assert.Throws<ReplayStartException>(() => Backtester.Run(options, cancellationToken: TestContext.Current.CancellationToken));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("2024-07-18 23:57:02.507Z to 2024-07-19 00:05:02.290Z", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_start_before_the_depth_snapshot_is_refused()
    {
        // With depth the book is known from the snapshot (23:57:02.750), not from the first bookTicker row.
        var options = Options(new ParentOrderSpec(12, "BTCUSDT", Side.Buy, SizeType.Notional, 1_000m), "BTCUSDT", depth: true) with
        {
            Start = DateTimeOffset.FromUnixTimeMilliseconds(1721347022600),
        };
        var error = Assert.Throws<ReplayStartException>(() => Backtester.Run(options, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("from 2024-07-18 23:57:02.750Z", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_depth_the_top_of_book_is_the_book_tickers_prices_and_sizes()
    {
        // The depth alone drove the book: the bookTicker was ignored, so the top's sizes (the queue we join) were the
        // depth's, batched and late. Now after each millisecond the top is the bookTicker row in effect.
        var files = Options(new ParentOrderSpec(13, "BTCUSDT", Side.Buy, SizeType.Notional, 1_000m), "BTCUSDT", depth: true).Data!;
        var tickers = ReplaySource.BookTickers("BTCUSDT", files.BookTicker!).Cast<BookEvent>()
            .Where(t => t.Time >= 1721347022750).ToArray();
        var clock = new VirtualClock(DateTimeOffset.FromUnixTimeMilliseconds(1721347022000));
        var exchange = new ExchangeEngine(new Simulator.Engine.EngineOptions { Symbols = [SymbolSpec.Defaults.First(s => s.Symbol == "BTCUSDT")] }, clock);
        using var events = ReplaySource.Create(files, loop: false).Events().GetEnumerator();
        var hasEvent = events.MoveNext();
        int matched = 0, compared = 0, next = 0;
        while (next < tickers.Length)
        {
            // Every event of the ticker's millisecond and before, then the top as the chaser would see it.
            var time = tickers[next].Time;
            while (hasEvent && events.Current.Time <= time)
            {
                clock.AdvanceTo(DateTimeOffset.FromUnixTimeMilliseconds(events.Current.Time));
                events.Current.ApplyTo(exchange);
                hasEvent = events.MoveNext();
            }

            while (next + 1 < tickers.Length && tickers[next + 1].Time == time)
            {
                next++;
            }

            var row = tickers[next++];
            var top = exchange.GetBookTicker("BTCUSDT");
            compared++;
            if ((top.BidPrice, top.BidQty, top.AskPrice, top.AskQty) == (row.Bids[0].Price, row.Bids[0].Qty, row.Asks[0].Price, row.Asks[0].Qty))
            {
                matched++;
            }
        }

        Assert.True(compared > 20_000, $"{compared} rows compared");
        Assert.True(matched == compared, $"the top was the bookTicker's at {matched} of {compared} rows");
    }

    private static BacktestOptions Options(ParentOrderSpec order, string dataSymbol, bool depth)
    {
        string File(string kind) => RecordedData.File($"{dataSymbol}-UM-20240718T2357Z", kind);
        return new BacktestOptions
        {
            Order = order,
            Data = new ReplayFiles
            {
                Symbol = dataSymbol,
                BookTicker = File("bookTicker"),
                Trades = File("trades"),
                DepthSnapshot = depth ? File("depthSnapshot") : null,
                DepthUpdates = depth ? File("depthUpdates") : null,
            },
        };
    }
}

/// <summary>Keeps the decisions of a backtest, to see when each request was sent.</summary>
internal sealed class DecisionList : IExecutionRecorder
{
    public List<DecisionRecord> Decisions { get; } = [];

    /// <summary>When each re-pricing request (a modify, or a cancel to re-post) was sent.</summary>
    public DateTimeOffset[] Reprices() => [.. Decisions
        .Where(d => d.Command.Cause.Rule is DecisionRule.RepriceBehindBest or DecisionRule.RepriceAloneAtTop && d.Command.Kind is ChaserCommandKind.Modify or ChaserCommandKind.Cancel)
        .Select(d => d.Time)];

    public void OrderStarted(ParentOrderSpec spec, DateTimeOffset time)
    {
    }

    public void ArrivalMid(long parentId, decimal mid, DateTimeOffset time)
    {
    }

    public void Mid(MidSample sample)
    {
    }

    public void Decision(DecisionRecord decision) => Decisions.Add(decision);

    /// <summary>Each child's state as last recorded.</summary>
    public Dictionary<string, ChildState> ChildStates { get; } = new(StringComparer.Ordinal);

    public void Child(ChildOrderSnapshot child) => ChildStates[child.ClientOrderId] = child.State;

    public void Fill(FillRecord fill)
    {
    }

    public void OrderCompleted(ExecutionResult result)
    {
    }
}
