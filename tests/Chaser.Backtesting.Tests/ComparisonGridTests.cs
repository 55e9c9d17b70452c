using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Tests.Shared;

namespace Chaser.Backtesting.Tests;

/// <summary>The comparison grid: which orders it runs, that every strategy runs the same ones, and that parallelism changes nothing.</summary>
public sealed class ComparisonGridTests : IDisposable
{
    // Two windows of 20 s: BTCUSDT from 2099-01-01 00:00:00, ETHUSDT from 10 s later.
    private const long BtcStartMs = 4_070_908_800_000;
    private const long EthStartMs = BtcStartMs + 10_000;
    private readonly string directory = SyntheticRecording.NewDirectory();

    public ComparisonGridTests()
    {
        SyntheticRecording.Write(directory, "BTCUSDT", "20990101T0000Z", 60_000m, 0.1m, 0.5m, TimeSpan.FromSeconds(20), seed: 1, BtcStartMs);
        SyntheticRecording.Write(directory, "ETHUSDT", "20990101T0000Z", 3_000m, 0.01m, 5m, TimeSpan.FromSeconds(20), seed: 2, EthStartMs);
        // Not a recording: ignored.
        File.WriteAllText(Path.Combine(directory, "README.txt"), "notes");
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static ComparisonOptions Options => new()
    {
        Strategies = [BacktestStrategy.Chaser, BacktestStrategy.Naive, BacktestStrategy.Taker],
        Sides = [Side.Buy, Side.Sell],
        Sizes = [5_000m, 20_000m],
        Every = TimeSpan.FromSeconds(5),
        Deadline = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public void Recordings_are_grouped_by_symbol_and_stamp_in_name_order()
    {
        var found = ComparisonGrid.Discover(directory);

        Assert.Equal(["BTCUSDT-UM-20990101T0000Z", "ETHUSDT-UM-20990101T0000Z"], found.Select(w => w.Name));
        Assert.Equal(["BTCUSDT", "ETHUSDT"], found.Select(w => w.Files.Symbol));
        Assert.All(found, w => Assert.Null(w.Files.DepthSnapshot));
        Assert.EndsWith("ETHUSDT-UM-20990101T0000Z-trades.csv", found[1].Files.Trades, StringComparison.Ordinal);
    }

    [Fact]
    public void With_trades_and_aggregated_trades_the_raw_trades_are_replayed()
    {
        File.WriteAllText(Path.Combine(directory, "BTCUSDT-UM-20990101T0000Z-aggTrades.csv"), "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n");
        File.Delete(Path.Combine(directory, "ETHUSDT-UM-20990101T0000Z-trades.csv"));
        File.WriteAllText(Path.Combine(directory, "ETHUSDT-UM-20990101T0000Z-aggTrades.csv"), "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n");

        var found = ComparisonGrid.Discover(directory);

        Assert.EndsWith("BTCUSDT-UM-20990101T0000Z-trades.csv", found[0].Files.Trades, StringComparison.Ordinal);
        Assert.EndsWith("ETHUSDT-UM-20990101T0000Z-aggTrades.csv", found[1].Files.Trades, StringComparison.Ordinal);
    }

    [Fact]
    public void A_recording_without_trades_is_refused_naming_it_and_its_files()
    {
        File.Delete(Path.Combine(directory, "ETHUSDT-UM-20990101T0000Z-trades.csv"));

        var refused = Assert.Throws<InvalidDataException>(() => ComparisonGrid.Discover(directory));

        Assert.Contains("recording ETHUSDT-UM-20990101T0000Z", refused.Message, StringComparison.Ordinal);
        Assert.Contains("ETHUSDT-UM-20990101T0000Z-bookTicker.csv", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Starts_lie_every_step_from_the_first_quote_while_start_plus_deadline_is_in_the_data()
    {
        var windows = ComparisonWindow.LoadAll(directory, TestContext.Current.CancellationToken);

        var points = ComparisonGrid.Points(windows, Options);

        // Quotes from +0 ms to +19,900 ms, trades to +19,950 ms: starts at +0, +5 and +10 s (+15 s + 5 s is past the end).
        var btcStarts = new[] { 0, 5, 10 }.Select(s => DateTimeOffset.FromUnixTimeMilliseconds(BtcStartMs + (s * 1_000L))).ToArray();
        var ethStarts = btcStarts.Select(s => s.AddSeconds(10)).ToArray();
        Assert.Equal(btcStarts, points.Where(p => p.Window.Symbol == "BTCUSDT").Select(p => p.Start).Distinct());
        Assert.Equal(ethStarts, points.Where(p => p.Window.Symbol == "ETHUSDT").Select(p => p.Start).Distinct());
        // Each start: both sides, each size; indexes in grid order.
        Assert.Equal(2 * 3 * 2 * 2, points.Count);
        Assert.Equal(Enumerable.Range(0, points.Count), points.Select(p => p.Index));
        Assert.Equal(
            [(Side.Buy, 5_000m), (Side.Buy, 20_000m), (Side.Sell, 5_000m), (Side.Sell, 20_000m)],
            points.Take(4).Select(p => (p.Side, p.Size)));
        // A deadline longer than every window: no start at all.
        Assert.Empty(ComparisonGrid.Points(windows, Options with { Deadline = TimeSpan.FromSeconds(21) }));
    }

    [Fact]
    public void Every_strategy_runs_every_grid_point_and_the_result_does_not_depend_on_the_parallelism()
    {
        var windows = ComparisonWindow.LoadAll(directory, TestContext.Current.CancellationToken);

        var one = ComparisonGrid.Run(windows, Options with { Parallel = 1 }, cancellationToken: TestContext.Current.CancellationToken);
        var two = ComparisonGrid.Run(windows, Options with { Parallel = 2 }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(one.Points.Count * 3, one.Runs.Count);
        for (var i = 0; i < one.Runs.Count; i++)
        {
            // Paired: the runs of one point are the strategies in the order given, all on that point's order.
            var run = one.Runs[i];
            Assert.Same(one.Points[i / 3], run.Point);
            Assert.Equal(Options.Strategies[i % 3], run.Strategy);
            Assert.Equal((run.Point.Window.Symbol, run.Point.Side, SizeType.Notional, run.Point.Size), (run.Execution.Spec.Symbol, run.Execution.Spec.Side, run.Execution.Spec.SizeType, run.Execution.Spec.Size));
            Assert.True(run.Execution.StartedAt >= run.Point.Start && run.Execution.StartedAt < run.Point.Start.AddSeconds(1), $"run {i} started at {run.Execution.StartedAt:O}, its point at {run.Point.Start:O}");
            Assert.True(run.Execution.CompletedAt <= run.Point.Start + Options.Deadline + TimeSpan.FromSeconds(1), $"run {i} ran past its deadline");
        }

        Assert.Contains(one.Runs, r => r.Execution.Status == FinishReason.Filled);
        Assert.Equal(one.Runs.Select(Outcome), two.Runs.Select(Outcome));
        Assert.Equal(one.ForStatistics(), two.ForStatistics());
    }

    [Fact]
    public void A_stop_ends_the_grid_with_a_cancellation()
    {
        var windows = ComparisonWindow.LoadAll(directory, TestContext.Current.CancellationToken);
        using var stop = new CancellationTokenSource();
        stop.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => ComparisonGrid.Run(windows, Options, cancellationToken: stop.Token));
    }

    [Fact]
    public void A_stop_while_runs_are_under_way_ends_the_grid_with_a_cancellation_not_a_wrapped_error()
    {
        var windows = ComparisonWindow.LoadAll(directory, TestContext.Current.CancellationToken);
        using var stop = new CancellationTokenSource();
        var progress = new Stopper(stop);

        Assert.ThrowsAny<OperationCanceledException>(() => ComparisonGrid.Run(windows, Options with { Parallel = 2 }, progress, stop.Token));
        Assert.True(progress.Reports < ComparisonGrid.Points(windows, Options).Count * 3, "the grid ran to its end");
    }

    /// <summary>Stops the grid when the first run is done (synchronously, from the worker: IProgress without a context).</summary>
    private sealed class Stopper(CancellationTokenSource stop) : IProgress<int>
    {
        private int reports;

        public int Reports => reports;

        public void Report(int value)
        {
            Interlocked.Increment(ref reports);
            stop.Cancel();
        }
    }

    private static string Outcome(GridRun run)
    {
        var e = run.Execution;
        return $"{run.Point.Index} {run.Strategy} {e.Status} {e.FilledQuantity} {e.FilledNotional} {e.Fees} {e.ArrivalMid} {e.StartedAt:O} {e.CompletedAt:O} {e.ChildOrders} {e.Modifies} {e.Cancels} "
            + string.Join(";", e.Fills.Select(f => $"{f.TradeId}@{f.Price}x{f.Quantity}:{f.ExchangeTime:O}"));
    }
}
