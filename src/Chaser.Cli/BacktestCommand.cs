using System.Globalization;
using Chaser.Backtesting;
using Chaser.Simulator.Server;
using Chaser.Simulator.Sources;

namespace Chaser.Cli;

/// <summary>
/// <c>chaser backtest</c>: the same chaser and the simulator's matching engine, in-process on virtual time, replaying
/// real Binance data as fast as the CPU allows.
/// </summary>
internal static class BacktestCommand
{
    public const string Usage = """
        usage: chaser backtest --symbol BTCUSDT --book FILE --trades FILE
                               [--depth-snapshot FILE --depth-updates FILE]
                               --side buy|sell (--notional N | --quantity Q)
                               [--start TIME] [--latency-ms N] [--deadline 5m] [--json]

          --book            Binance bookTicker CSV (.csv or .csv.gz)
          --trades          Binance trades or aggTrades CSV
          --depth-snapshot  depth snapshot + --depth-updates: the queue ahead of us is the real displayed quantity
          --start           exchange time to start at (ISO 8601, e.g. 2024-07-19T00:00:00Z, or unix ms); default: first quote
          --latency-ms      one-way latency to the exchange in ms, for market data and order entry (default 5)
          --deadline        stop after this much market time (then expired)
        Ends when the order is final or the data runs out (status expired). Exit codes as for execute.
        """;

    private static readonly string[] ValueOptions =
        ["--symbol", "--book", "--trades", "--depth-snapshot", "--depth-updates", "--side", "--notional", "--quantity", "--start", "--latency-ms", "--id", "--deadline"];

    private static readonly string[] FlagOptions = ["--json", "--reduce-only"];

    public static async Task<int> RunAsync(IReadOnlyList<string> argv, CommandContext context)
    {
        var args = Arguments.Parse(argv, ValueOptions, FlagOptions);
        var files = FilesFrom(args);
        var order = ExecuteCommand.SpecFrom(args, DateTimeOffset.UnixEpoch, defaultId: 1);

        var options = new BacktestOptions
        {
            Order = order with { Deadline = null },
            Data = files,
            Start = StartFrom(args),
            Latency = TimeSpan.FromMilliseconds(args.GetInt("--latency-ms", 0, 60_000) ?? 5),
            Deadline = args.GetDuration("--deadline"),
        };
        var output = context.OutputFor(args.Has("--json"));
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

        if (!output.Json)
        {
            await output.SayAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"backtest of {ExecuteCommand.Describe(order)}: replayed {result.MarketEvents:N0} market events from {Display.Time(result.DataStart)} to {Display.Time(result.DataEnd)} in {result.WallTime.TotalMilliseconds:N0} ms, latency {options.Latency.TotalMilliseconds:0} ms")).ConfigureAwait(false);
        }

        return OrderSession.Report([result.Execution], output);
    }

    private static ReplayFiles FilesFrom(Arguments args)
    {
        var symbol = args.Require("--symbol").Trim().ToUpperInvariant();
        var book = ExistingFile(args, "--book", required: true);
        var trades = ExistingFile(args, "--trades", required: true);
        var snapshot = ExistingFile(args, "--depth-snapshot", required: false);
        var updates = ExistingFile(args, "--depth-updates", required: false);
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

    private static string? ExistingFile(Arguments args, string option, bool required)
    {
        var path = required ? args.Require(option) : args.Get(option);
        if (path is not null && !File.Exists(path))
        {
            throw new UsageException($"option '{option}': file not found: {path}");
        }

        return path;
    }

    private static DateTimeOffset? StartFrom(Arguments args)
    {
        var text = args.Get("--start");
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
