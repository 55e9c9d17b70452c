using System.Diagnostics;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;
using Chaser.Simulator.Sources;
using Chaser.Tests.Shared;

namespace Chaser.Backtesting.Tests;

/// <summary>A backtest over the recording in memory is the backtest over its files, without parsing them again.</summary>
public class RecordedMarketTests
{
    private const string Window = "BTCUSDT-UM-20240718T2357Z";

    private static ReplayFiles Files => new()
    {
        Symbol = "BTCUSDT",
        BookTicker = RecordedData.File(Window, "bookTicker"),
        Trades = RecordedData.File(Window, "trades"),
        DepthSnapshot = RecordedData.File(Window, "depthSnapshot"),
        DepthUpdates = RecordedData.File(Window, "depthUpdates"),
    };

    [Fact]
    public void A_three_minute_order_over_the_market_in_memory_ends_as_over_the_files()
    {
        var market = RecordedMarket.Load(Files, TestContext.Current.CancellationToken);
        // Two minutes into the data, a 3-minute deadline: a pre-roll, then chasing until filled or expired.
        var options = new BacktestOptions
        {
            Order = new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 250_000m),
            Start = DateTimeOffset.FromUnixTimeMilliseconds(market.BookStart) + TimeSpan.FromMinutes(2),
            Deadline = TimeSpan.FromMinutes(3),
        };

        var files = Stopwatch.StartNew();
        var fromFiles = Backtester.Run(options with { Data = Files }, cancellationToken: TestContext.Current.CancellationToken);
        files.Stop();
        var memory = Stopwatch.StartNew();
        var fromMemory = Backtester.Run(options with { Market = market }, cancellationToken: TestContext.Current.CancellationToken);
        memory.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine($"3-minute order: {files.ElapsedMilliseconds} ms over the files, {memory.ElapsedMilliseconds} ms over the market in memory");

        Assert.True(fromFiles.Execution.Fills.Count > 0, "the order should trade, or the comparison says little");
        Assert.Equal(Summary(fromFiles), Summary(fromMemory));
        Assert.Equal(Fills(fromFiles.Execution), Fills(fromMemory.Execution));
    }

    [Theory]
    [InlineData(Side.Buy, 250_000, 2)]
    [InlineData(Side.Sell, 50_000, 4)]
    [InlineData(Side.Buy, 5_000, 0)]
    public void A_run_from_a_checkpoint_ends_as_one_that_replays_the_data_up_to_its_start(Side side, int notional, int minutesIn)
    {
        var market = RecordedMarket.Load(Files, TestContext.Current.CancellationToken);
        var spec = SymbolSpec.Defaults.First(s => s.Symbol == "BTCUSDT");
        var starts = new[] { 0, minutesIn }.Distinct().Select(m => DateTimeOffset.FromUnixTimeMilliseconds(market.BookStart) + TimeSpan.FromMinutes(m)).ToArray();
        var checkpoints = MarketCheckpoint.Series(market, starts, spec, QueueModel.Proportional, TestContext.Current.CancellationToken).ToArray();
        var options = new BacktestOptions
        {
            Order = new ParentOrderSpec(1, "BTCUSDT", side, SizeType.Notional, notional),
            Market = market,
            Start = starts[^1],
            Deadline = TimeSpan.FromMinutes(3),
        };

        var replayed = Backtester.Run(options, cancellationToken: TestContext.Current.CancellationToken);
        var forked = Backtester.Run(options with { Checkpoint = checkpoints[^1] }, cancellationToken: TestContext.Current.CancellationToken);
        // A checkpoint is forked, never used up: a second run from it is the same again.
        var again = Backtester.Run(options with { Checkpoint = checkpoints[^1] }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(replayed.Execution.Fills.Count > 0, "the order should trade, or the comparison says little");
        Assert.Equal(Summary(replayed), Summary(forked));
        Assert.Equal(Fills(replayed.Execution), Fills(forked.Execution));
        Assert.Equal(Summary(replayed), Summary(again));
        Assert.Equal(Fills(replayed.Execution), Fills(again.Execution));
    }

    [Fact]
    public void A_checkpoint_of_another_start_or_an_exchange_that_was_traded_on_is_refused()
    {
        var market = RecordedMarket.Load(Files, TestContext.Current.CancellationToken);
        var spec = SymbolSpec.Defaults.First(s => s.Symbol == "BTCUSDT");
        var start = DateTimeOffset.FromUnixTimeMilliseconds(market.BookStart) + TimeSpan.FromMinutes(1);
        var checkpoint = MarketCheckpoint.Series(market, [start], spec, QueueModel.Proportional, TestContext.Current.CancellationToken).Single();
        var options = new BacktestOptions { Order = new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 5_000m), Market = market, Checkpoint = checkpoint };

        var otherStart = Assert.Throws<ArgumentException>(() => Backtester.Run(options with { Start = start.AddSeconds(1) }, cancellationToken: TestContext.Current.CancellationToken));
        var otherModel = Assert.Throws<ArgumentException>(() => Backtester.Run(options with { Start = start, QueueModel = QueueModel.RiskAverse }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.StartsWith("checkpoint: ", otherStart.Message, StringComparison.Ordinal);
        Assert.StartsWith("checkpoint: ", otherModel.Message, StringComparison.Ordinal);
        Assert.Throws<ReplayStartException>(() => MarketCheckpoint.Series(market, [start.AddHours(1)], spec, QueueModel.Proportional, TestContext.Current.CancellationToken));

        // An engine with an order of ours in its book can't be forked: the fork would lose it.
        var engine = new ExchangeEngine(new EngineOptions { Symbols = [spec] }, new VirtualClock(start));
        engine.ReplaceBook("BTCUSDT", [new BookLevel(60_000m, 1m)], [new BookLevel(60_000.1m, 1m)]);
        engine.PlaceOrder(new NewOrderRequest { Symbol = "BTCUSDT", Side = OrderSide.Buy, Type = OrderType.Limit, TimeInForce = TimeInForce.Gtx, Quantity = 0.01m, Price = 59_000m, NewClientOrderId = "x" });
        Assert.Throws<InvalidOperationException>(() => engine.ForkMarkets(new VirtualClock(start)));
    }

    [Fact]
    public void The_market_holds_every_event_of_the_files_in_their_order()
    {
        var market = RecordedMarket.Load(Files, TestContext.Current.CancellationToken);
        var source = ReplaySource.Create(Files, loop: false);

        Assert.Equal((source.BookStart, source.End), (market.BookStart, market.End));
        var index = 0;
        foreach (var expected in source.Events())
        {
            Assert.True(index < market.Events.Length, $"the market ends after {index} events");
            var actual = market.Events[index++];
            // Records compare by value, but a depth diff's list of changes by reference: those are compared item by item.
            if (expected is LevelsEvent levels)
            {
                var held = Assert.IsType<LevelsEvent>(actual);
                Assert.Equal((levels.Time, levels.UpdateId, levels.Symbol), (held.Time, held.UpdateId, held.Symbol));
                Assert.Equal(levels.Changes, held.Changes);
            }
            else if (expected is BookEvent book)
            {
                var held = Assert.IsType<BookEvent>(actual);
                Assert.Equal((book.Time, book.UpdateId), (held.Time, held.UpdateId));
                Assert.Equal(book.Bids, held.Bids);
                Assert.Equal(book.Asks, held.Asks);
            }
            else
            {
                Assert.Equal(expected, actual);
            }
        }

        Assert.Equal(index, market.Events.Length);
    }

    [Fact]
    public void Both_files_and_market_or_neither_is_refused_naming_the_data()
    {
        var market = RecordedMarket.Load(Files, TestContext.Current.CancellationToken);
        var order = new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 5_000m);

        var both = Assert.Throws<ArgumentException>(() => Backtester.Run(new BacktestOptions { Order = order, Data = Files, Market = market }, cancellationToken: TestContext.Current.CancellationToken));
        var neither = Assert.Throws<ArgumentException>(() => Backtester.Run(new BacktestOptions { Order = order }, cancellationToken: TestContext.Current.CancellationToken));
        var other = Assert.Throws<ArgumentException>(() => Backtester.Run(new BacktestOptions { Order = new ParentOrderSpec(1, "ETHUSDT", Side.Buy, SizeType.Notional, 5_000m), Market = market }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.StartsWith("data: ", both.Message, StringComparison.Ordinal);
        Assert.StartsWith("data: ", neither.Message, StringComparison.Ordinal);
        Assert.StartsWith("symbol: the order is on ETHUSDT but the data is BTCUSDT", other.Message, StringComparison.Ordinal);
    }

    private static object Summary(BacktestResult r) => (
        r.Execution.Status, r.Execution.Detail, r.Execution.FilledQuantity, r.Execution.FilledNotional, r.Execution.Fees, r.Execution.ArrivalMid,
        r.Execution.StartedAt, r.Execution.CompletedAt, r.Execution.ChildOrders, r.Execution.Modifies, r.Execution.Cancels, r.Execution.PostOnlyRejects,
        r.MarketEvents, r.DataStart, r.DataEnd, r.OpenOrdersLeft, string.Join(",", r.ExchangeTradeIds));

    private static IEnumerable<(long, decimal, decimal, decimal, bool, DateTimeOffset, DateTimeOffset)> Fills(ExecutionResult e) =>
        e.Fills.Select(f => (f.TradeId, f.Price, f.Quantity, f.Fee, f.IsMaker, f.ExchangeTime, f.ReceivedAt));
}
