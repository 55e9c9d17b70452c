using System.CommandLine;
using System.Globalization;
using Chaser.Backtesting;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Simulator.Server;
using Chaser.Simulator.Sources;

namespace Chaser.Cli;

/// <summary>
/// <c>chaser backtest</c>: the same chaser and the simulator's matching engine, in-process on virtual time, replaying
/// real Binance data as fast as the CPU allows.
/// </summary>
internal static class BacktestCommand
{
    private static readonly OrderOptions Order = new("stop after this much market time (then expired, or the rest taken with --take-remainder) (default: none)", strategyTag: false);
    private static readonly Option<BacktestStrategy> Strategy = StrategyOption();
    private static readonly Option<string?> Book = CliOption.Text("--book", "FILE", "Binance bookTicker CSV (.csv or .csv.gz): the top of book, with depth files too", required: true);
    private static readonly Option<string?> Trades = CliOption.Text("--trades", "FILE", "Binance trades or aggTrades CSV", required: true);
    private static readonly Option<string?> DepthSnapshot = CliOption.Text(
        "--depth-snapshot", "FILE", "a depth snapshot CSV, with --depth-updates: the queue ahead of us is the real displayed quantity");
    private static readonly Option<string?> DepthUpdates = CliOption.Text("--depth-updates", "FILE", "the depth updates CSV that follow --depth-snapshot");
    private static readonly Option<string?> Start = CliOption.Text(
        "--start", "TIME", "exchange time to start the order at, on the market as it stood then, within the data: ISO 8601 (2024-07-19T00:00:00Z) or unix ms (default: the first quote)");
    private static readonly Option<int> LatencyMs = CliOption.Whole(
        "--latency-ms", "N", 0, 60_000, 5,
        "one-way latency to the exchange in ms, for market data and order entry");
    private static readonly Option<Simulator.Engine.QueueModel> QueueModelOption = CliOption.QueueModel();
    private static readonly Option<bool> Json = CliOption.Json("print the result as JSON on stdout");

    public static readonly Command Definition = Define();

    public const string Notes = "Ends when the order is final or the data runs out (status expired). Exit codes as for execute.";

    private static Command Define()
    {
        var command = new Command("backtest", "replay recorded Binance data through the chaser and the simulator's matching engine");
        foreach (var option in Order.All.Concat([Strategy, Book, Trades, DepthSnapshot, DepthUpdates, Start, LatencyMs, QueueModelOption, Json]))
        {
            command.Add(option);
        }

        return command;
    }

    public static async Task<int> RunAsync(ParseResult args, CommandContext context)
    {
        var options = OptionsFrom(args);
        var order = options.Order;
        var output = context.OutputFor(args.GetValue(Json));
        BacktestResult result;
        try
        {
            result = await Task.Run(() => Backtester.Run(options, cancellationToken: context.Stop), context.Stop).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException)
        {
            // InvalidDataException: a bad cell in the replay files; the message names the file, line and column.
            throw new UsageException(ex.Message);
        }
        catch (RecordedDataException ex)
        {
            throw new UsageException($"option '{OptionOf(ex.Kind)}': {ex.Message}");
        }
        catch (ReplayStartException ex)
        {
            throw new UsageException($"option '--start': {ex.Message}");
        }

        if (!output.Json)
        {
            await output.SayAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"backtest of {ExecuteCommand.Describe(order)}, strategy {BacktestStrategies.NameOf(options.Strategy)}: replayed {result.MarketEvents:N0} market events from {Display.Time(result.DataStart)} to {Display.Time(result.DataEnd)} in {result.WallTime.TotalMilliseconds:N0} ms, latency {options.Latency.TotalMilliseconds:0} ms")).ConfigureAwait(false);
        }

        return OrderSession.Report([result.Execution], output);
    }

    /// <summary>What to replay and how, from the options; every problem names its option.</summary>
    public static BacktestOptions OptionsFrom(ParseResult args)
    {
        var files = FilesFrom(args);
        var strategy = args.GetValue(Strategy);
        var order = Order.SpecFrom(args, defaultId: 1);
        RefuseMeaningless(strategy, order);
        return new BacktestOptions
        {
            // Tagged with the algorithm's name, so that the result and every table say which ran.
            Order = order with { Deadline = null, Strategy = BacktestStrategies.NameOf(strategy) },
            Data = files,
            Start = StartFrom(args.GetValue(Start)),
            Latency = TimeSpan.FromMilliseconds(args.GetValue(LatencyMs)),
            Deadline = order.TimeLimit,
            QueueModel = args.GetValue(QueueModelOption),
            Strategy = strategy,
            // The backtest's chaser is built from these options, not from an engine's: the order's own interval goes
            // here; the strategy's knobs are set on them by the backtester.
            Chaser = order.MinRepriceInterval is { } interval ? new ChaserOptions { MinRepriceInterval = interval } : new ChaserOptions(),
        };
    }

    private static Option<BacktestStrategy> StrategyOption()
    {
        var names = BacktestStrategies.All.Select(BacktestStrategies.NameOf).ToArray();
        return new Option<BacktestStrategy>("--strategy")
        {
            Description = "how the order is worked: chaser (as execute works it), naive (re-price to the touch on every change, "
                + "no step-back, no interval), queue (post once at the touch, never move; expire at the deadline), queue-take "
                + "(queue, then take the rest with market orders at --deadline), taker (take it all at arrival with market orders)",
            HelpName = string.Join('|', names),
            DefaultValueFactory = _ => BacktestStrategy.Chaser,
            CustomParser = CliOption.Parser("--strategy", text => BacktestStrategies.TryParse(text, out var strategy)
                ? strategy
                : throw new UsageException($"option '--strategy' must be {CliOption.Alternatives(names)}, got '{text}'")),
        };
    }

    /// <summary>Options that mean nothing to the strategy are refused, saying why, rather than silently ignored.</summary>
    private static void RefuseMeaningless(BacktestStrategy strategy, ParentOrderSpec order)
    {
        var name = BacktestStrategies.NameOf(strategy);
        if (strategy == BacktestStrategy.QueueTake && order.TimeLimit is null)
        {
            throw new UsageException("option '--strategy' queue-take needs '--deadline': it takes what is left when the deadline passes");
        }

        if (order.OnDeadline == DeadlineAction.TakeRemainder && strategy is BacktestStrategy.Queue or BacktestStrategy.Taker)
        {
            throw new UsageException(strategy == BacktestStrategy.Queue
                ? "option '--take-remainder' does not go with '--strategy queue', which expires at the deadline: queue-take is queue with the rest taken"
                : "option '--take-remainder' does not go with '--strategy taker': it takes the whole order at arrival, nothing is left at the deadline");
        }

        if (order.MinRepriceInterval is not null && strategy is BacktestStrategy.Queue or BacktestStrategy.QueueTake or BacktestStrategy.Taker)
        {
            throw new UsageException(strategy == BacktestStrategy.Taker
                ? "option '--min-reprice-interval' does not go with '--strategy taker': it posts nothing to re-price"
                : $"option '--min-reprice-interval' does not go with '--strategy {name}': its order never moves");
        }
    }

    private static ReplayFiles FilesFrom(ParseResult args)
    {
        var symbol = args.GetValue(Order.Symbol)!.Trim().ToUpperInvariant();
        var book = ExistingFile("--book", args.GetValue(Book));
        var trades = ExistingFile("--trades", args.GetValue(Trades));
        var snapshot = ExistingFile("--depth-snapshot", args.GetValue(DepthSnapshot));
        var updates = ExistingFile("--depth-updates", args.GetValue(DepthUpdates));
        if ((snapshot is null) != (updates is null))
        {
            throw new UsageException(snapshot is null ? "option '--depth-updates' needs '--depth-snapshot'" : "option '--depth-snapshot' needs '--depth-updates'");
        }

        // Binance's dumps (and ours) are named <SYMBOL>-…: data of another symbol would fill at another market's prices.
        foreach (var (option, path) in new[] { ("--book", book), ("--trades", trades), ("--depth-snapshot", snapshot), ("--depth-updates", updates) })
        {
            if (path is not null && ReplayFiles.SymbolInName(path) is { } named && named != symbol)
            {
                throw new UsageException($"option '{option}': {Path.GetFileName(path)} is {named} data but '--symbol' is {symbol}");
            }
        }

        return new ReplayFiles { Symbol = symbol, BookTicker = book, Trades = trades, DepthSnapshot = snapshot, DepthUpdates = updates };
    }

    /// <summary>The option that gives a file of this kind (by kind, not path: one file may be given for two options).</summary>
    private static string OptionOf(RecordedFileKind kind) => kind switch
    {
        RecordedFileKind.BookTicker => "--book",
        RecordedFileKind.Trades or RecordedFileKind.AggTrades => "--trades",
        RecordedFileKind.DepthSnapshot => "--depth-snapshot",
        _ => "--depth-updates",
    };

    private static string? ExistingFile(string option, string? path)
    {
        if (path is not null && !File.Exists(path))
        {
            throw new UsageException($"option '{option}': file not found: {path}");
        }

        return path;
    }

    private static DateTimeOffset? StartFrom(string? text)
    {
        if (text is null)
        {
            return null;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var unixMs))
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(unixMs);
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        throw new UsageException($"option '--start' must be an ISO 8601 time (2024-07-19T00:00:00Z) or unix milliseconds, got '{text}'");
    }
}
