using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text.RegularExpressions;
using Chaser.Core.Analytics;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;
using Chaser.Simulator.Sources;

namespace Chaser.Backtesting;

/// <summary>One recording of a comparison: its name (<c>BTCUSDT-UM-20240718T2357Z</c>) and its market in memory.</summary>
public sealed record ComparisonWindow(string Name, RecordedMarket Market)
{
    public string Symbol => Market.Symbol;

    /// <summary>The recordings in <paramref name="directory"/>, by name (see <see cref="ComparisonGrid.Discover"/>), each loaded once.</summary>
    public static IReadOnlyList<ComparisonWindow> LoadAll(string directory, CancellationToken cancellationToken = default) =>
        [.. ComparisonGrid.Discover(directory).Select(w => new ComparisonWindow(w.Name, RecordedMarket.Load(w.Files, cancellationToken)))];
}

/// <summary>What a comparison runs: every strategy on every grid point of every window.</summary>
public sealed record ComparisonOptions
{
    public IReadOnlyList<BacktestStrategy> Strategies { get; init; } = Enum.GetValues<BacktestStrategy>();

    public IReadOnlyList<Side> Sides { get; init; } = [Side.Buy, Side.Sell];

    /// <summary>Order sizes in USDT notional.</summary>
    public IReadOnlyList<decimal> Sizes { get; init; } = [5_000m, 50_000m, 250_000m];

    /// <summary>A start every this long from each window's first quote, while start + deadline is inside the data.</summary>
    public TimeSpan Every { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(3);

    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(5);

    public QueueModel QueueModel { get; init; } = QueueModel.Proportional;

    /// <summary>Runs at once; the results do not depend on it.</summary>
    public int Parallel { get; init; } = Environment.ProcessorCount;
}

/// <summary>One grid point: the same order, at the same time on the same market, for every strategy.</summary>
/// <param name="Index">Its place in the grid (windows, then starts, sides, sizes): the pairing key.</param>
/// <param name="Window">The recording replayed.</param>
/// <param name="Start">When the order starts, in the recording's exchange time.</param>
/// <param name="Side">Buy or sell.</param>
/// <param name="Size">USDT notional.</param>
public sealed record GridPoint(int Index, ComparisonWindow Window, DateTimeOffset Start, Side Side, decimal Size);

/// <summary>One strategy on one grid point.</summary>
public sealed record GridRun(GridPoint Point, BacktestStrategy Strategy, ExecutionResult Execution, TimeSpan WallTime)
{
    public ComparisonRun ForStatistics() => new(
        Point.Index, Point.Window.Name, Point.Side, ComparisonGrid.NameOf(Strategy),
        PairedComparison.CostBps(Execution), Execution.Status == FinishReason.Filled, PairedComparison.Requests(Execution));
}

/// <summary>A comparison's runs, ordered by grid point then strategy (as given), whatever the parallelism.</summary>
public sealed record ComparisonResult(IReadOnlyList<GridPoint> Points, IReadOnlyList<GridRun> Runs, TimeSpan WallTime)
{
    public IReadOnlyList<ComparisonRun> ForStatistics() => [.. Runs.Select(r => r.ForStatistics())];
}

/// <summary>
/// The grid that judges execution quality: windows × starts × sides × sizes × strategies, each strategy on the same
/// grid points (paired), each run a <see cref="Backtester"/> run over the window's recording in memory. Runs in
/// parallel; every run is a pure function of its grid point and strategy, so the result does not depend on how many
/// run at once.
/// </summary>
public static partial class ComparisonGrid
{
    /// <summary>The most runs one grid may have: each run's result is kept for the statistics and the CSV.</summary>
    public const int MaxRuns = 100_000;

    /// <summary>A strategy as the command line names it: <c>chaser</c>, <c>naive</c>, <c>queue</c>, <c>queue-take</c>, <c>taker</c>.</summary>
    public static string NameOf(BacktestStrategy strategy) => strategy switch
    {
        BacktestStrategy.QueueTake => "queue-take",
        _ => strategy.ToString().ToLowerInvariant(),
    };

    /// <summary>The strategy of a name (<see cref="NameOf(BacktestStrategy)"/>), or null.</summary>
    public static BacktestStrategy? StrategyNamed(string name) =>
        Enum.GetValues<BacktestStrategy>().Cast<BacktestStrategy?>().FirstOrDefault(s => NameOf(s!.Value) == name);

    /// <summary>A queue model as the command line names it: <c>proportional</c>, <c>risk-averse</c>.</summary>
    public static string NameOf(QueueModel model) => model switch
    {
        QueueModel.RiskAverse => "risk-averse",
        _ => model.ToString().ToLowerInvariant(),
    };

    [GeneratedRegex(@"^(?<window>(?<symbol>[A-Z0-9]+)-UM-(?<stamp>[^-]+))-(?<kind>bookTicker|trades|aggTrades|depthSnapshot|depthUpdates)\.csv(\.gz)?$")]
    private static partial Regex RecordingName();

    /// <summary>
    /// The recordings in a directory: files named <c>&lt;SYMBOL&gt;-UM-&lt;stamp&gt;-&lt;kind&gt;.csv[.gz]</c> (kind
    /// bookTicker, trades or aggTrades, depthSnapshot, depthUpdates), grouped by symbol and stamp, in name order; depth
    /// is used when both of its files are there. A group without a book (bookTicker or depth) or without trades is refused.
    /// </summary>
    public static IReadOnlyList<(string Name, ReplayFiles Files)> Discover(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"no such directory: {directory}");
        }

        var windows = new List<(string, ReplayFiles)>();
        var groups = Directory.EnumerateFiles(directory)
            .Select(path => (Path: path, Match: RecordingName().Match(Path.GetFileName(path))))
            .Where(f => f.Match.Success)
            .GroupBy(f => f.Match.Groups["window"].Value, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in groups)
        {
            string? Of(params string[] kinds) => group.Where(f => kinds.Contains(f.Match.Groups["kind"].Value)).Select(f => f.Path).Order(StringComparer.Ordinal).FirstOrDefault();
            var files = new ReplayFiles
            {
                Symbol = group.First().Match.Groups["symbol"].Value,
                BookTicker = Of("bookTicker"),
                // Raw trades when both are there: each print as it happened, where an aggTrade sums a taker's fills.
                Trades = Of("trades") ?? Of("aggTrades"),
            };
            var (snapshot, updates) = (Of("depthSnapshot"), Of("depthUpdates"));
            if (snapshot is not null && updates is not null)
            {
                files = files with { DepthSnapshot = snapshot, DepthUpdates = updates };
            }

            if (files.Trades is null || (files.BookTicker is null && files.DepthSnapshot is null))
            {
                throw new InvalidDataException($"recording {group.Key} in {directory} needs a trades file and a bookTicker file or depth files; it has {string.Join(", ", group.Select(f => Path.GetFileName(f.Path)).Order(StringComparer.Ordinal))}");
            }

            windows.Add((group.Key, files));
        }

        return windows;
    }

    /// <summary>The grid points: for each window, starts every <see cref="ComparisonOptions.Every"/> from its first quote while start + deadline is within the data; then sides, then sizes.</summary>
    public static IReadOnlyList<GridPoint> Points(IReadOnlyList<ComparisonWindow> windows, ComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Every <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Every, "every must be greater than zero");
        }

        var points = new List<GridPoint>();
        foreach (var window in windows)
        {
            var first = DateTimeOffset.FromUnixTimeMilliseconds(window.Market.BookStart);
            var end = DateTimeOffset.FromUnixTimeMilliseconds(window.Market.End);
            for (var start = first; start + options.Deadline <= end; start += options.Every)
            {
                foreach (var side in options.Sides)
                {
                    foreach (var size in options.Sizes)
                    {
                        points.Add(new GridPoint(points.Count, window, start, side, size));
                    }
                }
            }
        }

        return points;
    }

    /// <summary>
    /// Runs every strategy on every grid point over <see cref="ComparisonOptions.Parallel"/> workers. <paramref
    /// name="progress"/> hears the number of runs done (from the worker threads).
    /// </summary>
    public static ComparisonResult Run(IReadOnlyList<ComparisonWindow> windows, ComparisonOptions options, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Parallel < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Parallel, "parallel must be at least 1");
        }

        if (options.Strategies.Count == 0 || options.Sides.Count == 0 || options.Sizes.Count == 0)
        {
            throw new ArgumentException("a comparison needs at least one strategy, side and size", nameof(options));
        }

        if (windows.Distinct().Count() != windows.Count)
        {
            throw new ArgumentException("windows: a window is given twice", nameof(windows));
        }

        var wall = Stopwatch.StartNew();
        var points = Points(windows, options);
        var strategies = options.Strategies;
        if ((long)points.Count * strategies.Count > MaxRuns)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"every: the grid is {(long)points.Count * strategies.Count:N0} runs, more than {MaxRuns:N0}"), nameof(options));
        }

        var runs = new GridRun[points.Count * strategies.Count];
        var done = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Parallel, CancellationToken = cancellationToken };
        // The replay up to each start, once: every run of that start (sides × sizes × strategies) forks the exchange as
        // it stood then, instead of replaying the data before it again (most of a run's work). One pass per window; the
        // starts a few at a time, so that only their checkpoints are held.
        var perStart = options.Sides.Count * options.Sizes.Count;
        var series = windows.Distinct().ToDictionary(w => w, w => MarketCheckpoint.Series(
            w.Market,
            [.. points.Where(p => p.Window == w).Select(p => p.Start).Distinct()],
            SymbolSpec.Defaults.FirstOrDefault(s => s.Symbol == w.Symbol) ?? throw new ArgumentException($"symbol: no exchange rules are known for {w.Symbol}", nameof(windows)),
            options.QueueModel,
            cancellationToken).GetEnumerator());
        try
        {
            var startsAtOnce = 2 * options.Parallel;
            for (var first = 0; first < points.Count; first += startsAtOnce * perStart)
            {
                var last = Math.Min(points.Count, first + (startsAtOnce * perStart));
                var checkpoints = new MarketCheckpoint[(last - first + perStart - 1) / perStart];
                for (var i = 0; i < checkpoints.Length; i++)
                {
                    var enumerator = series[points[first + (i * perStart)].Window];
                    checkpoints[i] = enumerator.MoveNext() ? enumerator.Current : throw new InvalidOperationException("a start without its checkpoint");
                }

                Parallel.For(first * strategies.Count, last * strategies.Count, parallel, index =>
                {
                    var point = points[index / strategies.Count];
                    var strategy = strategies[index % strategies.Count];
                    var checkpoint = checkpoints[(point.Index - first) / perStart];
                    var result = Backtester.Run(OptionsOf(point, strategy, options) with { Checkpoint = checkpoint }, cancellationToken: cancellationToken);
                    runs[index] = new GridRun(point, strategy, result.Execution, result.WallTime);
                    progress?.Report(Interlocked.Increment(ref done));
                });
            }
        }
        catch (AggregateException e)
        {
            // The first run that failed, as it failed (its exception names the field), not wrapped by the workers.
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        finally
        {
            foreach (var enumerator in series.Values)
            {
                enumerator.Dispose();
            }
        }

        return new ComparisonResult(points, runs, wall.Elapsed);
    }

    /// <summary>The backtest of one strategy on one grid point.</summary>
    public static BacktestOptions OptionsOf(GridPoint point, BacktestStrategy strategy, ComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(point);
        ArgumentNullException.ThrowIfNull(options);
        // The same order id for every run: what differs between two runs is only what the grid says differs.
        var order = new ParentOrderSpec(1, point.Window.Symbol, point.Side, SizeType.Notional, point.Size) { Strategy = NameOf(strategy) };
        return new BacktestOptions
        {
            Order = order,
            Market = point.Window.Market,
            Start = point.Start,
            Deadline = options.Deadline,
            Latency = options.Latency,
            Strategy = strategy,
            QueueModel = options.QueueModel,
        };
    }

    /// <summary>A grid point as a person reads it.</summary>
    public static string Describe(GridPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        return string.Create(CultureInfo.InvariantCulture, $"{point.Window.Name} {point.Start:HH:mm:ss} {(point.Side == Side.Buy ? "buy" : "sell")} {point.Size:0.########}");
    }
}
