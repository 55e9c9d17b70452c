using Chaser.Core.Domain;
using Chaser.Simulator.Server;
using Chaser.Storage;

namespace Chaser.Cli;

/// <summary><c>chaser execute</c>: works one parent order on the simulator, Binance's demo trading or testnet, or Binance.</summary>
internal static class ExecuteCommand
{
    public const string Usage = """
        usage: chaser execute --symbol BTCUSDT --side buy|sell (--notional 15000 | --quantity 0.2)
                              [--venue sim|demo|testnet|live] [--rest-url URL --ws-url URL] [--deadline 10m]
                              [--order-entry ws|rest] [--reduce-only] [--id N] [--db CONNECTION] [--markouts]
                              [--dead-man 120s] [--json]

          --venue      sim (default: the simulator, in-process), demo (Binance demo trading), testnet or live;
                       demo, testnet and live read the API key and secret of that venue (demo and testnet keys
                       differ) from CHASER_BINANCE_API_KEY / CHASER_BINANCE_API_SECRET (or user-secrets)
          --order-entry  ws (default: Binance's WebSocket API, REST while it is down) or rest
          --deadline   stop after this long (90s, 10m, 1h): the resting child is canceled, status expired
          --dead-man   arm Binance's countdownCancelAll for the symbol (e.g. 120s, renewed every quarter of it): if
                       this process dies, the exchange cancels the symbol's open orders — all of the account's
          --db         where to record (default: SQLite chaser.db here; or CHASER_DB); the order's id comes from it
          --markouts   stay 60 s after the order ends, sampling the book, so `chaser report` has its markouts
          --json       print the result as JSON on stdout (progress goes to stderr)
        exit codes: 0 filled, 1 failed, 2 bad input, 3 canceled or expired
        """;

    private static readonly string[] ValueOptions = ["--symbol", "--side", "--notional", "--quantity", "--venue", "--rest-url", "--ws-url", "--deadline", "--id", "--seed", "--order-entry", "--db", "--dead-man"];
    private static readonly string[] FlagOptions = ["--json", "--reduce-only", "--markouts"];

    public static async Task<int> RunAsync(IReadOnlyList<string> argv, CommandContext context)
    {
        var args = Arguments.Parse(argv, ValueOptions, FlagOptions);
        var venueSettings = VenueSettings.From(args);
        // By default the id is the start time in ms: unique across runs, so client order ids never collide on a real account.
        var now = context.Time.GetUtcNow();
        var spec = SpecFrom(args, now, now.ToUnixTimeMilliseconds());
        var output = context.OutputFor(args.Has("--json"));
        var simulator = new SimulatorOptions { Seed = args.GetInt("--seed", 0, int.MaxValue) ?? 1 };

        var database = Recording.ConnectionString(args, context.Environment);
        await Recording.MigrateAsync(database, context.Stop).ConfigureAwait(false);
        await Recording.EnsureWritableAsync(database, context.Stop).ConfigureAwait(false);
        await using var recorder = new StorageRecorder(database, context.Diagnostic);
        await using var venue = await Venue.OpenAsync(venueSettings, simulator, context.Environment, context.Diagnostic, recorder, await Recording.ClientIdTagAsync(database, context.Stop).ConfigureAwait(false), context.Stop).ConfigureAwait(false);
        await OrderSession.CheckAsync(venue.Engine, [spec], context.Stop).ConfigureAwait(false);

        // Checked first, stored second: a refused order leaves no row behind. The database assigns the id, unless
        // --id names one; then the order is claimed, the step that makes it run once.
        spec = args.Get("--id") is null
            ? (await Recording.CreateOrdersAsync(database, [spec], context.Time, context.Stop).ConfigureAwait(false))[0]
            : await Recording.UseIdAsync(database, spec, context.Time, context.Stop).ConfigureAwait(false);
        await Recording.ClaimAsync(database, [spec], venue.Engine, context.Stop).ConfigureAwait(false);
        if (!output.Json)
        {
            await output.SayAsync($"working {Describe(spec)} on {venue.Name}").ConfigureAwait(false);
        }

        var results = await OrderSession.WorkAsync(venue.Engine, [spec], output, context.Stop).ConfigureAwait(false);
        var code = OrderSession.Report(results, output);
        await OrderSession.WaitForMarkoutsAsync(args.Has("--markouts"), venue.Engine.Options.MarkoutTail, output, context.Time, context.Stop).ConfigureAwait(false);
        await Recording.FinishAsync(recorder, database).ConfigureAwait(false);
        return code;
    }

    /// <summary>The parent order from the options; every problem names its option.</summary>
    public static ParentOrderSpec SpecFrom(Arguments args, DateTimeOffset now, long defaultId)
    {
        var symbol = args.Require("--symbol").Trim().ToUpperInvariant();
        if (symbol.Length is < 2 or > 20 || !symbol.All(char.IsAsciiLetterOrDigit))
        {
            throw new UsageException($"option '--symbol' must be a Binance symbol like BTCUSDT, got '{args.Get("--symbol")}'");
        }

        var side = args.Require("--side").ToLowerInvariant() switch
        {
            "buy" or "1" or "+1" => Side.Buy,
            "sell" or "-1" => Side.Sell,
            _ => throw new UsageException($"option '--side' must be buy or sell, got '{args.Get("--side")}'"),
        };
        var notional = args.GetDecimal("--notional");
        var quantity = args.GetDecimal("--quantity");
        var (sizeType, size, option) = (notional, quantity) switch
        {
            (not null, not null) => throw new UsageException("options '--notional' and '--quantity' exclude each other: give one"),
            (null, null) => throw new UsageException("option '--notional' or '--quantity' is required"),
            ({ } n, null) => (SizeType.Notional, n, "--notional"),
            (null, { } q) => (SizeType.Quantity, q, "--quantity"),
        };
        if (size <= 0)
        {
            throw new UsageException($"option '{option}' must be greater than zero, got {size}");
        }

        var id = args.GetInt("--id", 1, int.MaxValue) ?? defaultId;
        var deadline = args.GetDuration("--deadline");
        return new ParentOrderSpec(id, symbol, side, sizeType, size)
        {
            ReduceOnly = args.Has("--reduce-only"),
            TimeLimit = deadline,
        };
    }

    public static string Describe(ParentOrderSpec spec) =>
        $"#{spec.Id}: {Display.Side(spec.Side)} {Display.Number(spec.Size)} {(spec.SizeType == SizeType.Notional ? "USDT of " + spec.Symbol : spec.Symbol)}";
}
