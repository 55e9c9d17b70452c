using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Chaser.Backtesting;
using Chaser.Core.Analytics;
using Chaser.Core.Domain;
using Chaser.Reporting;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Sources;
using Spectre.Console;

namespace Chaser.Cli;

/// <summary>
/// <c>chaser compare</c>: every strategy on the same grid of orders over recorded data (windows × starts × sides ×
/// sizes), with the cost of each against its arrival mid and paired differences against a reference strategy.
/// </summary>
internal static class CompareCommand
{
    private static readonly Option<string> Data = CliOption.Text(
        "--data", "DIR", "the directory of recordings: <SYMBOL>-UM-<stamp>-<kind>.csv.gz, one window per symbol and stamp (bookTicker, trades, depth when present)", "data/binance/um");

    private static readonly Option<Listed<BacktestStrategy>> Strategies = List(
        "--strategies", "S,S", "the strategies to run, each on every grid point: chaser, naive, queue, queue-take, taker",
        Enum.GetValues<BacktestStrategy>(), StrategyNamed, s => ComparisonGrid.NameOf(s));

    private static readonly Option<string> Reference = CliOption.Text(
        "--reference", "S", "the strategy the others are paired against (one of --strategies)", "chaser");

    private static readonly Option<Listed<Side>> Sides = List(
        "--sides", "buy,sell", "the sides of the orders", [Side.Buy, Side.Sell], SideNamed, Display.Side);

    private static readonly Option<Listed<decimal>> Sizes = List(
        "--sizes", "N,N", "order sizes in USDT notional", [5_000m, 50_000m, 250_000m], SizeOf, s => s.ToString(CultureInfo.InvariantCulture));

    private static readonly Option<Listed<TimeSpan>> Every = Duration("--every", "a start every this long from each window's first quote", TimeSpan.FromSeconds(30), "30s");

    private static readonly Option<Listed<TimeSpan>> Deadline = Duration(
        "--deadline", "each order's deadline in market time (starts lie where the data covers start + deadline)", TimeSpan.FromMinutes(3), "3m");

    private static readonly Option<int> LatencyMs = CliOption.Whole("--latency-ms", "N", 0, 60_000, 5, "one-way latency to the exchange in ms, for market data and order entry");

    private static readonly Option<QueueModel> Queue = new("--queue-model")
    {
        Description = "how the matching engine advances our place in the queue: proportional or risk-averse",
        HelpName = "MODEL",
        DefaultValueFactory = _ => QueueModel.Proportional,
        CustomParser = CliOption.Parser("--queue-model", text => Enum.GetValues<QueueModel>().Cast<QueueModel?>().FirstOrDefault(m => ComparisonGrid.NameOf(m!.Value) == text)
            ?? throw new UsageException($"option '--queue-model' must be proportional or risk-averse, got '{text}'")),
    };

    private static readonly Option<int> Parallel = CliOption.Whole(
        "--parallel", "N", 1, 1024, Environment.ProcessorCount, "runs at once (the results are the same for any N)");

    private static readonly Option<string?> Csv = CliOption.Text("--csv", "FILE", "also write one row per run as CSV to FILE");
    private static readonly Option<string?> Chart = CliOption.Text("--chart", "FILE", "also write a PNG chart to FILE: mean cost per strategy per window, ±2 SE");
    private static readonly Option<bool> Json = CliOption.Json("print the figures as one JSON object instead of the tables");

    public static readonly Command Definition = new("compare", "run every strategy on the same grid of orders over recorded data, with paired statistics")
    {
        Data, Strategies, Reference, Sides, Sizes, Every, Deadline, LatencyMs, Queue, Parallel, Csv, Chart, Json,
    };

    public const string Notes = """
          Cost: bp of the filled quantity at the arrival mid, fees included, positive = cost. Paired: d = cost(S) -
          cost(reference) on the grid points where both completed (filled); its standard error is clustered by window
          and side. Exit code 0 when the grid ran.
        """;

    public static async Task<int> RunAsync(ParseResult args, CommandContext context)
    {
        var strategies = args.GetValue(Strategies)!.Values;
        var referenceName = args.GetValue(Reference)!;
        if (StrategyNamedOrNull(referenceName) is not { } reference || !strategies.Contains(reference))
        {
            throw new UsageException($"option '--reference': '{referenceName}' is not one of the strategies run ({string.Join(",", strategies.Select(s => ComparisonGrid.NameOf(s)))})");
        }

        var options = new ComparisonOptions
        {
            Strategies = strategies,
            Sides = args.GetValue(Sides)!.Values,
            Sizes = args.GetValue(Sizes)!.Values,
            Every = args.GetValue(Every)!.Single,
            Deadline = args.GetValue(Deadline)!.Single,
            Latency = TimeSpan.FromMilliseconds(args.GetValue(LatencyMs)),
            QueueModel = args.GetValue(Queue),
            Parallel = args.GetValue(Parallel),
        };
        var csvPath = args.GetValue(Csv);
        var chartPath = args.GetValue(Chart);
        // Checked before minutes of work: a path that can't be written is refused now, not after the grid.
        CheckWritable("--csv", csvPath);
        CheckWritable("--chart", chartPath);

        var windows = await Task.Run(() => LoadWindows(args.GetValue(Data)!, options.Sizes, context.Stop), context.Stop).ConfigureAwait(false);
        var points = ComparisonGrid.Points(windows, options);
        if (points.Count == 0)
        {
            throw new UsageException($"option '--deadline': no window in {args.GetValue(Data)} is {Display.Seconds(options.Deadline.TotalSeconds)} long, so the grid has no start");
        }

        var total = (long)points.Count * strategies.Length;
        if (total > ComparisonGrid.MaxRuns)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"option '--every': the grid would be {total:N0} runs, more than {ComparisonGrid.MaxRuns:N0}; give a longer --every, or fewer sides, sizes or strategies"));
        }

        var progress = context.Interactive && !args.GetValue(Json) ? new Progress(context.Error, (int)total) : null;
        var result = await Task.Run(() => ComparisonGrid.Run(windows, options, progress, context.Stop), context.Stop).ConfigureAwait(false);
        progress?.Done();

        var names = strategies.Select(s => ComparisonGrid.NameOf(s)).ToArray();
        var runs = result.ForStatistics();
        var report = new Report(
            result,
            PairedComparison.Summarize(runs, names),
            PairedComparison.Against(ComparisonGrid.NameOf(reference), runs, names),
            PairedComparison.PerWindow(runs, names),
            windows,
            options);

        if (csvPath is not null)
        {
            Write("--csv", csvPath, () => File.WriteAllText(csvPath, ToCsv(result)));
        }

        if (chartPath is not null)
        {
            Write("--chart", chartPath, () => ComparisonChart.SavePng(report.Windows, names, ChartTitle(report), chartPath));
        }

        if (args.GetValue(Json))
        {
            await context.Output.WriteLineAsync(ToJson(report)).ConfigureAwait(false);
            return 0;
        }

        var console = ResultTable.ConsoleFor(context.Output, context.Interactive, context.Columns);
        var (width, unicode) = (console.Profile.Width, console.Profile.Capabilities.Unicode);
        console.Write(FittedTable.Build(SummaryColumns, report.Strategies, width, "cost: bp against the arrival mid, fees included, positive = cost; mean / median over runs with a fill", unicode));
        var paired = FittedTable.Build(PairedColumns, report.Paired, width, $"d = cost - cost({ComparisonGrid.NameOf(reference)}) where both filled; SE clustered by window and side; '-': undefined (under 2 clusters, or SE 0)", unicode);
        console.Write(paired.Title($"paired against {ComparisonGrid.NameOf(reference)}"));
        console.Write(FittedTable.Build(WindowColumns(names), [.. report.Windows.GroupBy(w => w.Window).Select(g => g.ToArray())], width, "mean cost bp per window; * = not every run filled", unicode).Title("per window"));
        console.WriteLine(GridLine(report));
        if (csvPath is not null)
        {
            console.WriteLine("wrote " + csvPath);
        }

        if (chartPath is not null)
        {
            console.WriteLine("wrote " + chartPath);
        }

        return 0;
    }

    /// <summary>What a comparison produced: the runs and every figure the table, the JSON and the chart show.</summary>
    private sealed record Report(
        ComparisonResult Result,
        IReadOnlyList<StrategySummary> Strategies,
        IReadOnlyList<PairedDifference> Paired,
        IReadOnlyList<WindowMean> Windows,
        IReadOnlyList<ComparisonWindow> Recordings,
        ComparisonOptions Options);

    private static List<ComparisonWindow> LoadWindows(string directory, IReadOnlyList<decimal> sizes, CancellationToken stop)
    {
        IReadOnlyList<(string Name, Simulator.Server.ReplayFiles Files)> found;
        try
        {
            found = ComparisonGrid.Discover(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new UsageException($"option '--data': {e.Message}");
        }

        if (found.Count == 0)
        {
            throw new UsageException($"option '--data': no recordings in {directory} (files named <SYMBOL>-UM-<stamp>-<kind>.csv.gz)");
        }

        var windows = new List<ComparisonWindow>();
        foreach (var (name, files) in found)
        {
            var spec = SymbolSpec.Defaults.FirstOrDefault(s => s.Symbol == files.Symbol)
                ?? throw new UsageException($"option '--data': recording {name}: no exchange rules are known for {files.Symbol}");
            if (sizes.FirstOrDefault(size => size < spec.MinNotional) is var small && small > 0m)
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"option '--sizes': {small} USDT is below the minimum notional of {files.Symbol} ({spec.MinNotional} USDT)"));
            }

            try
            {
                windows.Add(new ComparisonWindow(name, RecordedMarket.Load(files, stop)));
            }
            catch (RecordedDataException e)
            {
                throw new UsageException($"option '--data': {e.Message}");
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                throw new UsageException($"option '--data': recording {name}: {e.Message}");
            }
        }

        return windows;
    }

    private static string GridLine(Report report)
    {
        var result = report.Result;
        var runs = result.Runs.Count;
        var perRun = runs == 0 ? 0 : result.WallTime.TotalMilliseconds / runs;
        var o = report.Options;
        // Three short lines, each within 80 columns.
        return string.Join(Environment.NewLine, [
            string.Create(CultureInfo.InvariantCulture, $"grid: {result.Points.Count / (o.Sides.Count * o.Sizes.Count)} starts in {report.Recordings.Count} windows x {o.Sides.Count} sides x {o.Sizes.Count} sizes x {o.Strategies.Count} strategies = {runs} runs"),
            string.Create(CultureInfo.InvariantCulture, $"deadline {o.Deadline.TotalSeconds:0.###} s, latency {o.Latency.TotalMilliseconds:0} ms, {ComparisonGrid.NameOf(o.QueueModel)} queue"),
            string.Create(CultureInfo.InvariantCulture, $"wall time {result.WallTime.TotalSeconds:0.0} s on {o.Parallel} workers: {perRun:0} ms per run"),
        ]);
    }

    private static string ChartTitle(Report report) => string.Create(CultureInfo.InvariantCulture,
        $"mean cost per window (bp vs arrival mid, fees incl.; bars ±2 SE), {report.Result.Points.Count} orders per strategy");

    private static readonly FitColumn<StrategySummary>[] SummaryColumns =
    [
        new("strategy", FitColumn<StrategySummary>.Kept, s => s.Strategy),
        new("mean bp", FitColumn<StrategySummary>.Kept, s => Display.Bps(s.MeanBps)),
        new("median bp", "median", 1, s => Display.Bps(s.MedianBps)),
        new("completed", "filled", FitColumn<StrategySummary>.Kept, s => Display.Percent(s.CompletedFraction)),
        new("requests/order", "req/ord", 2, s => Display.Ratio(s.RequestsPerOrder)),
        new("runs", 3, s => Display.Count(s.Runs)),
    ];

    private static readonly FitColumn<PairedDifference>[] PairedColumns =
    [
        new("strategy", FitColumn<PairedDifference>.Kept, p => p.Strategy),
        new("mean d bp", "d bp", FitColumn<PairedDifference>.Kept, p => Display.Bps(p.MeanBps)),
        new("SE bp", FitColumn<PairedDifference>.Kept, p => p.StandardErrorBps is { } se ? se.ToString("0.00", CultureInfo.InvariantCulture) : Display.Missing),
        new("t", 1, p => p.T is { } t ? t.ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) : Display.Missing),
        new("n", 2, p => Display.Count(p.Pairs)),
        new("not both filled", "unpaired", 3, p => Display.Count(p.Excluded)),
        new("clusters", 4, p => Display.Count(p.Clusters)),
    ];

    private static FitColumn<WindowMean[]>[] WindowColumns(string[] strategies) =>
    [
        new("window", FitColumn<WindowMean[]>.Kept, w => w[0].Window),
        .. strategies.Select((s, i) => new FitColumn<WindowMean[]>(s, i + 1, w => Display.Bps(w[i].MeanBps) + (w[i].Completed < w[i].Runs ? "*" : ""))),
    ];

    /// <summary>One row per run, ordered by grid point and strategy.</summary>
    private static string ToCsv(ComparisonResult result)
    {
        var csv = new StringBuilder("window,symbol,start,side,size,strategy,status,filled_pct,cost_bps,fees,requests,fills,maker_fills,duration_s,wall_ms\n");
        foreach (var run in result.Runs)
        {
            var e = run.Execution;
            var filledPct = e.Spec.Size == 0 ? 0m : e.FilledNotional / e.Spec.Size * 100m;
            csv.Append(CultureInfo.InvariantCulture,
                $"{run.Point.Window.Name},{run.Point.Window.Symbol},{Display.JsonTime(run.Point.Start)},{Display.Side(run.Point.Side)},{run.Point.Size},{ComparisonGrid.NameOf(run.Strategy)},{ResultJson.StatusName(e.Status)},{filledPct:0.####},{PairedComparison.CostBps(e)?.ToString("0.####", CultureInfo.InvariantCulture)},{e.Fees},{PairedComparison.Requests(e)},{e.Fills.Count},{e.Fills.Count(f => f.IsMaker)},{e.Duration.TotalSeconds:0.###},{run.WallTime.TotalMilliseconds:0.#}\n");
        }

        return csv.ToString();
    }

    private static string ToJson(Report report)
    {
        var o = report.Options;
        var document = new
        {
            grid = new
            {
                windows = report.Recordings.Select(w => w.Name),
                strategies = o.Strategies.Select(s => ComparisonGrid.NameOf(s)),
                sides = o.Sides.Select(s => s.Sign()),
                sizes = o.Sizes,
                every_s = o.Every.TotalSeconds,
                deadline_s = o.Deadline.TotalSeconds,
                latency_ms = o.Latency.TotalMilliseconds,
                queue_model = ComparisonGrid.NameOf(o.QueueModel),
                orders = report.Result.Points.Count,
                runs = report.Result.Runs.Count,
                parallel = o.Parallel,
                wall_s = Math.Round(report.Result.WallTime.TotalSeconds, 3),
            },
            strategies = report.Strategies.Select(s => new
            {
                strategy = s.Strategy,
                runs = s.Runs,
                costed = s.Costed,
                mean_bps = s.MeanBps,
                median_bps = s.MedianBps,
                completed = s.Completed,
                completed_fraction = s.CompletedFraction,
                requests_per_order = s.RequestsPerOrder,
            }),
            paired = report.Paired.Select(p => new
            {
                strategy = p.Strategy,
                reference = p.Reference,
                pairs = p.Pairs,
                excluded = p.Excluded,
                clusters = p.Clusters,
                mean_d_bps = p.MeanBps,
                se_bps = p.StandardErrorBps,
                t = p.T,
            }),
            windows = report.Windows.Select(w => new
            {
                window = w.Window,
                strategy = w.Strategy,
                runs = w.Runs,
                costed = w.Costed,
                completed = w.Completed,
                mean_bps = w.MeanBps,
                se_bps = w.StandardErrorBps,
            }),
        };
        return JsonSerializer.Serialize(document);
    }

    private static void CheckWritable(string option, string? path)
    {
        if (path is null)
        {
            return;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (Directory.Exists(path) || directory is null || !Directory.Exists(directory))
        {
            throw new UsageException($"option '{option}': cannot write {path}: {(Directory.Exists(path) ? "it is a directory" : "its directory does not exist")}");
        }
    }

    private static void Write(string option, string path, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new UsageException($"option '{option}': cannot write {path}: {e.Message}");
        }
    }

    private static BacktestStrategy? StrategyNamedOrNull(string name) => ComparisonGrid.StrategyNamed(name);

    private static BacktestStrategy StrategyNamed(string name) =>
        ComparisonGrid.StrategyNamed(name) ?? throw new UsageException($"option '--strategies': '{name}' is not a strategy (chaser, naive, queue, queue-take or taker)");

    private static Side SideNamed(string name) => name switch
    {
        "buy" => Side.Buy,
        "sell" => Side.Sell,
        _ => throw new UsageException($"option '--sides': '{name}' is not a side (buy or sell)"),
    };

    private static decimal SizeOf(string text)
    {
        if (text.Length > 1 && text[0] == '0' && char.IsAsciiDigit(text[1]))
        {
            // "5,000" would otherwise be the sizes 5 and 0, and "5,500" 5 and 500: a group of thousands is refused.
            throw new UsageException($"option '--sizes': '{text}' has a leading zero (is ',' a thousands separator? the sizes are plain numbers separated by commas: 5000,50000)");
        }

        if (!DecimalText.TryParse(text, out var size, out var reason))
        {
            throw new UsageException($"option '--sizes': '{text}' is not a number: {reason}");
        }

        return size > 0m ? size : throw new UsageException($"option '--sizes': '{text}' must be greater than zero");
    }

    /// <summary>An option's values with the text they were given as, which the help shows as the default.</summary>
    private sealed record Listed<T>(T[] Values, string Text)
    {
        public T Single => Values[0];

        public override string ToString() => Text;
    }

    /// <summary>A comma-separated list of distinct values, none empty; one value (given twice is refused).</summary>
    private static Option<Listed<T>> List<T>(string name, string helpName, string description, T[] defaultValue, Func<string, T> parse, Func<T, string> show) => new(name)
    {
        Description = description,
        HelpName = helpName,
        Arity = ArgumentArity.ExactlyOne,
        DefaultValueFactory = _ => new Listed<T>(defaultValue, string.Join(',', defaultValue.Select(show))),
        CustomParser = CliOption.Parser(name, text =>
        {
            var items = text.Split(',', StringSplitOptions.TrimEntries);
            if (items.Any(i => i.Length == 0))
            {
                throw new UsageException($"option '{name}' has an empty item in '{text}'; use {helpName}");
            }

            var values = items.Select(parse).ToArray();
            if (values.Distinct().Count() != values.Length)
            {
                throw new UsageException($"option '{name}' names a value twice in '{text}'");
            }

            return new Listed<T>(values, text);
        }),
    };

    /// <summary>A positive duration (30s, 3m, 1h) through <see cref="DurationText"/>.</summary>
    private static Option<Listed<TimeSpan>> Duration(string name, string description, TimeSpan defaultValue, string defaultText) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        DefaultValueFactory = _ => new Listed<TimeSpan>([defaultValue], defaultText),
        CustomParser = CliOption.Parser(name, text => DurationText.TryParse(text, out var value) && value > TimeSpan.Zero
            ? new Listed<TimeSpan>([value], text)
            : throw new UsageException($"option '{name}' must be a positive duration like 30s, 3m or 1h, got '{text}'")),
    };

    /// <summary>Runs done, on one stderr line rewritten in place (a terminal only), at most every half second.</summary>
    private sealed class Progress(TextWriter error, int total) : IProgress<int>
    {
        private readonly Lock gate = new();
        private long lastTicks;

        public void Report(int value)
        {
            var now = Environment.TickCount64;
            lock (gate)
            {
                if (now - lastTicks < 500 && value < total)
                {
                    return;
                }

                lastTicks = now;
                error.Write(string.Create(CultureInfo.InvariantCulture, $"\rcompare: {value}/{total} runs"));
            }
        }

        public void Done()
        {
            lock (gate)
            {
                error.Write("\r" + new string(' ', 40) + "\r");
            }
        }
    }
}
