using System.CommandLine;
using System.Globalization;
using Chaser.Simulator;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;

namespace Chaser.Cli;

/// <summary><c>chaser sim</c>: the Binance USDⓈ-M Futures simulator on loopback, until Ctrl-C.</summary>
internal static class SimCommand
{
    public const string ApiKeyVariable = "CHASER_SIM_API_KEY";
    public const string ApiSecretVariable = "CHASER_SIM_API_SECRET";

    private static readonly Option<string> Host = CliOption.Text("--host", "ADDRESS", "the address to listen on: an IP address or localhost", "127.0.0.1");
    private static readonly Option<int> Port = CliOption.Whole("--port", "N", 0, 65535, 8090, "the port, 0 = any free port");
    private static readonly Option<string?> Symbols = CliOption.Text(
        "--symbols", "A,B",
        "comma-separated symbols (default: BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT,XRPUSDT; also the 60 perpetuals of the recorded " +
        "exchangeInfo in data/binance, e.g. DOGEUSDT,AVAXUSDT)");

    private static readonly Option<MarketSourceKind> Source = CliOption.Choice(
        "--source", "synthetic: a seeded random market; replay: Binance CSV files", MarketSourceKind.Synthetic, [MarketSourceKind.Synthetic, MarketSourceKind.Replay]);

    private static readonly Option<string?> Book = CliOption.Text("--book", "FILE", "replay: bookTicker CSV (.csv or .csv.gz)");
    private static readonly Option<string?> Trades = CliOption.Text("--trades", "FILE", "replay: trades or aggTrades CSV");
    private static readonly Option<string?> DepthSnapshot = CliOption.Text("--depth-snapshot", "FILE", "replay: depth snapshot CSV (with --depth-updates)");
    private static readonly Option<string?> DepthUpdates = CliOption.Text("--depth-updates", "FILE", "replay: depth updates CSV (with --depth-snapshot)");
    private static readonly Option<string> Speed = CliOption.Text("--speed", "X", "replay speed factor", "1");
    private static readonly Option<int> Seed = CliOption.Seed(int.MinValue);
    private static readonly Option<string?> ApiKey = CliOption.Text(
        "--api-key", "KEY", $"the API key clients must send (default: {ApiKeyVariable}, else Binance's documented example key)");

    private static readonly Option<string?> ApiSecret = CliOption.Text(
        "--api-secret", "SECRET", $"the HMAC secret (default: {ApiSecretVariable}, else Binance's documented example secret)");

    private static readonly Option<string?> Ed25519ApiKey = CliOption.Text(
        "--ed25519-api-key", "KEY", "an Ed25519 API key of the account, whose public key is --ed25519-public-key (it can session.logon)");

    private static readonly Option<string?> Ed25519PublicKey = CliOption.Text(
        "--ed25519-public-key", "FILE", "the PEM public key (-----BEGIN PUBLIC KEY-----) registered for --ed25519-api-key");

    private static readonly Option<int> LatencyMs = CliOption.Whole("--latency-ms", "N", 0, 60_000, 0, "added latency for order entry and market data, in ms");
    private static readonly Option<QueueModel> QueueModelOption = CliOption.QueueModel();
    private static readonly Option<bool> LegacyStreams = CliOption.Flag(
        "--legacy-streams",
        "also serve every stream on the unrouted /ws and /stream URLs that Binance retired on 2026-04-23 (by default streams " +
        "flow only on their routes /public, /market, /private, as Binance serves them now)");

    public static readonly Command Definition = new("sim", "run the Binance USDⓈ-M Futures simulator on loopback")
    {
        Host, Port, Symbols, Source, Book, Trades, DepthSnapshot, DepthUpdates, Speed, Seed, ApiKey, ApiSecret, Ed25519ApiKey, Ed25519PublicKey, LatencyMs, QueueModelOption, LegacyStreams,
    };

    public const string Notes = "";

    public static Task<int> RunAsync(ParseResult args, CommandContext context) =>
        SimulatorCommand.RunAsync(OptionsFrom(args, context.Environment), context.Output, context.Error, context.Stop);

    /// <summary>The simulator's options from the command line and the environment; every problem names its option.</summary>
    public static SimulatorOptions OptionsFrom(ParseResult args, Func<string, string?> environment)
    {
        var options = new SimulatorOptions
        {
            Port = args.GetValue(Port),
            LegacyStreams = args.GetValue(LegacyStreams),
            Seed = args.GetValue(Seed),
            Engine = new EngineOptions { QueueModel = args.GetValue(QueueModelOption) },
        };
        var host = args.GetValue(Host)!;
        if (host != "localhost" && !System.Net.IPAddress.TryParse(host, out _))
        {
            throw new UsageException($"option '--host' must be an IP address or localhost, got '{host}'");
        }

        options = options with { Host = host };
        if (args.GetValue(Symbols) is { } symbols)
        {
            var list = symbols.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToUpperInvariant()).ToList();
            if (list.Count == 0)
            {
                throw new UsageException("option '--symbols' needs at least one symbol, e.g. BTCUSDT,ETHUSDT");
            }

            if (list.GroupBy(s => s).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                throw new UsageException($"option '--symbols': {twice.Key} is listed twice");
            }

            if (list.FirstOrDefault(s => SymbolSpec.Find(s) is null) is { } unknown)
            {
                throw new UsageException($"option '--symbols': unknown symbol '{unknown}' (not a default one nor in the recorded exchangeInfo); known: {string.Join(",", SymbolSpec.KnownNames)}");
            }

            options = options with { Symbols = list };
        }

        var speedText = args.GetValue(Speed)!;
        if (!double.TryParse(speedText, NumberStyles.Float, CultureInfo.InvariantCulture, out var speed) || speed <= 0 || double.IsInfinity(speed))
        {
            throw new UsageException($"option '--speed' must be a positive number, got '{speedText}'");
        }

        var latency = TimeSpan.FromMilliseconds(args.GetValue(LatencyMs));
        options = options with { Speed = speed, OrderEntryLatency = latency, MarketDataLatency = latency };

        var key = args.GetValue(ApiKey) ?? environment(ApiKeyVariable);
        var secret = args.GetValue(ApiSecret) ?? environment(ApiSecretVariable);
        if (!string.IsNullOrEmpty(key))
        {
            options = options with { ApiKey = key };
        }

        if (!string.IsNullOrEmpty(secret))
        {
            options = options with { ApiSecret = secret };
        }

        options = WithEd25519Key(options, args.GetValue(Ed25519ApiKey), args.GetValue(Ed25519PublicKey));
        var replayOptions = new[] { Book, Trades, DepthSnapshot, DepthUpdates }.Where(o => args.GetValue(o) is not null).ToList();
        if (args.GetValue(Source) == MarketSourceKind.Replay)
        {
            options = options with { Source = MarketSourceKind.Replay, Replay = ReplayFilesFrom(args, options.Symbols) };
            return options with { Symbols = options.Symbols ?? [options.Replay!.Symbol] };
        }

        return replayOptions.Count > 0 ? throw new UsageException($"option '{replayOptions[0].Name}' needs '--source replay'") : options;
    }

    private static SimulatorOptions WithEd25519Key(SimulatorOptions options, string? apiKey, string? publicKeyFile)
    {
        if (apiKey is null && publicKeyFile is null)
        {
            return options;
        }

        if (string.IsNullOrWhiteSpace(apiKey) || publicKeyFile is null)
        {
            throw new UsageException(apiKey is null || publicKeyFile is not null ? "option '--ed25519-public-key' needs '--ed25519-api-key KEY'" : "option '--ed25519-api-key' needs '--ed25519-public-key FILE'");
        }

        if (apiKey == options.ApiKey)
        {
            throw new UsageException("option '--ed25519-api-key' must differ from the HMAC API key ('--api-key')");
        }

        string pem;
        try
        {
            pem = File.ReadAllText(publicKeyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"option '--ed25519-public-key': cannot read {publicKeyFile}: {e.Message}");
        }

        try
        {
            return options with { Ed25519PublicKeys = new Dictionary<string, byte[]> { [apiKey] = Ed25519PublicKeyPem.Read(pem) } };
        }
        catch (FormatException e)
        {
            throw new UsageException($"option '--ed25519-public-key': {publicKeyFile}: {e.Message}");
        }
    }

    private static ReplayFiles ReplayFilesFrom(ParseResult args, IReadOnlyList<string>? symbols)
    {
        var book = args.GetValue(Book);
        var trades = args.GetValue(Trades);
        var snapshot = args.GetValue(DepthSnapshot);
        var updates = args.GetValue(DepthUpdates);
        if (book is null && snapshot is null && updates is null)
        {
            throw new UsageException("'--source replay' needs '--book FILE' or '--depth-snapshot FILE --depth-updates FILE'");
        }

        if ((snapshot is null) != (updates is null))
        {
            throw new UsageException(snapshot is null ? "option '--depth-updates' needs '--depth-snapshot'" : "option '--depth-snapshot' needs '--depth-updates'");
        }

        foreach (var (option, path) in new[] { ("--book", book), ("--trades", trades), ("--depth-snapshot", snapshot), ("--depth-updates", updates) })
        {
            if (path is not null && !File.Exists(path))
            {
                throw new UsageException($"option '{option}': file not found: {path}");
            }
        }

        // The symbol comes from --symbols, else from the public-data file name (BTCUSDT-UM-…, BTCUSDT-bookTicker-…).
        var first = book ?? snapshot!;
        var fromName = Path.GetFileName(first).Split('-')[0].ToUpperInvariant();
        var symbol = symbols is { Count: > 0 } ? symbols[0] : fromName;
        if (SymbolSpec.Find(symbol) is null)
        {
            throw new UsageException($"option '--symbols' is needed: cannot tell the replayed symbol from '{Path.GetFileName(first)}'");
        }

        return new ReplayFiles { Symbol = symbol, BookTicker = book, Trades = trades, DepthSnapshot = snapshot, DepthUpdates = updates };
    }
}
