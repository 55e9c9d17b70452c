using System.Globalization;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;
using Chaser.Simulator.Sources;

namespace Chaser.Simulator;

/// <summary>
/// The `chaser sim` command: parses its options, starts the simulator, prints the base URLs and runs until
/// cancelled. Returns 0 on a clean stop, 2 on bad arguments or when the server cannot start (port in use, bad replay file).
/// </summary>
public static class SimulatorCommand
{
    private static readonly string[] ReplayOptionNames = ["--book", "--trades", "--depth-snapshot", "--depth-updates"];

    public const string Usage = """
        usage: chaser sim [--host 127.0.0.1] [--port 8090] [--symbols BTCUSDT,ETHUSDT]
                          [--source synthetic|replay] [--book FILE] [--trades FILE]
                          [--depth-snapshot FILE --depth-updates FILE] [--speed X] [--seed N]
                          [--api-key K --api-secret S] [--latency-ms N] [--legacy-streams]

          --host            address to listen on (default 127.0.0.1)
          --port            port, 0 = any free port (default 8090)
          --symbols         comma-separated symbols (default: BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT,XRPUSDT; also the
                            60 perpetuals of the recorded exchangeInfo in data/binance, e.g. DOGEUSDT,AVAXUSDT)
          --source          synthetic (seeded random market, default) or replay (Binance CSV files)
          --book            replay: bookTicker CSV (.csv or .csv.gz)
          --trades          replay: trades or aggTrades CSV
          --depth-snapshot  replay: depth snapshot CSV (with --depth-updates)
          --depth-updates   replay: depth updates CSV (with --depth-snapshot)
          --speed           replay speed factor (default 1)
          --seed            synthetic market seed (default 1)
          --api-key         API key clients must send (env CHASER_SIM_API_KEY; default: Binance's documented example key)
          --api-secret      HMAC secret (env CHASER_SIM_API_SECRET; default: Binance's documented example secret)
          --latency-ms      added latency for order entry and market data, in ms (default 0)
          --legacy-streams  also serve every stream on the unrouted /ws and /stream URLs that
                            Binance retired on 2026-04-23 (default: streams only on their
                            routes /public, /market, /private, as Binance serves them now)
        """;

    /// <summary>Runs until <paramref name="ct"/> is cancelled; a bad option or a port in use is one line on <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        SimulatorOptions options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException ex)
        {
            await error.WriteLineAsync("chaser sim: " + ex.Message + " (chaser sim --help for the options)");
            return 2;
        }

        if (options is null)
        {
            await output.WriteLineAsync(Usage);
            return 0;
        }

        SimulatorServer server;
        try
        {
            server = await SimulatorServer.StartAsync(options, ct);
        }
        catch (RecordedDataException ex)
        {
            await error.WriteLineAsync("chaser sim: " + ex.Message);
            return 2;
        }
        catch (FileNotFoundException ex)
        {
            await error.WriteLineAsync("chaser sim: " + ex.Message);
            return 2;
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
        {
            // Kestrel reports a port in use as an IOException naming the address.
            await error.WriteLineAsync($"chaser sim: option '--port': cannot listen on {options.Host}:{options.Port}: {ex.Message}");
            return 2;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            await error.WriteLineAsync("chaser sim: the simulator could not start: " + ex.Message);
            return 2;
        }

        await using (server)
        {
            await output.WriteLineAsync("Chaser simulator — Binance USDⓈ-M Futures on loopback");
            await output.WriteLineAsync($"  REST:          {SimulatorServer.BaseText(server.RestBaseUrl)}");
            foreach (var line in WebSocketLines(server))
            {
                await output.WriteLineAsync(line);
            }

            await output.WriteLineAsync($"  WebSocket API: {server.WebSocketApiUrl}");
            await output.WriteLineAsync($"  API key:       {server.ApiKey}");
            // The documented example secret is public and worth showing; a secret the user chose is never printed.
            await output.WriteLineAsync(server.ApiSecret == SimulatorOptions.DefaultApiSecret
                ? $"  API secret:    {server.ApiSecret}  (Binance's documented example)"
                : "  API secret:    (as given by --api-secret / CHASER_SIM_API_SECRET, not shown)");
            await output.WriteLineAsync($"  Symbols:       {string.Join(",", server.Engine.Symbols.Select(s => s.Symbol))}");
            await output.WriteLineAsync($"  Market:        {server.SourceDescription}");
            await output.FlushAsync(CancellationToken.None);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or the host stopping: shut down cleanly.
            }
        }

        await output.WriteLineAsync("simulator stopped");
        return 0;
    }

    /// <summary>
    /// The stream base and its routed forms (binance-futures-api.md §6, §7), each line at most 80 columns: streams
    /// flow only on their route, so a client must know which route serves which stream.
    /// </summary>
    private static IEnumerable<string> WebSocketLines(SimulatorServer server)
    {
        yield return $"  WebSocket:     {SimulatorServer.BaseText(server.WebSocketBaseUrl)}  (streams only on their routes)";
        yield return "    /public/ws/<stream>, /public/stream?streams=a/b   bookTicker, depth, trade";
        yield return "    /market/ws/<stream>, /market/stream?streams=a/b   aggTrade, markPrice";
        yield return "    /private/ws/<listenKey>, /private/stream?listenKey=<key>&events=A/B";
        if (server.Options.LegacyStreams)
        {
            yield return "    /ws/<stream>, /stream?streams=a/b   every stream (--legacy-streams)";
        }
    }

    /// <summary>Returns null for --help; throws ArgumentException naming the offending option.</summary>
    public static SimulatorOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] known = ["--host", "--port", "--symbols", "--source", "--book", "--trades", "--depth-snapshot", "--depth-updates", "--speed", "--seed", "--api-key", "--api-secret", "--latency-ms"];
        var legacyStreams = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                return null!;
            }

            // the one flag: it takes no value
            if (arg == "--legacy-streams")
            {
                legacyStreams = true;
                continue;
            }

            if (arg.StartsWith("--legacy-streams=", StringComparison.Ordinal))
            {
                throw new ArgumentException("option '--legacy-streams' takes no value");
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq > 0 ? arg[..eq] : arg;
            if (!known.Contains(name))
            {
                throw new ArgumentException($"unknown option '{arg}'");
            }

            string value;
            if (eq > 0)
            {
                value = arg[(eq + 1)..];
            }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                throw new ArgumentException($"option '{name}' needs a value");
            }

            values[name] = value;
        }

        var options = new SimulatorOptions { Port = 8090, LegacyStreams = legacyStreams };
        if (values.TryGetValue("--host", out var host))
        {
            if (host != "localhost" && !System.Net.IPAddress.TryParse(host, out _))
            {
                throw new ArgumentException($"option '--host' must be an IP address or localhost, got '{host}'");
            }

            options = options with { Host = host };
        }

        if (values.TryGetValue("--port", out var port))
        {
            options = options with { Port = ParseInt("--port", port, 0, 65535) };
        }

        if (values.TryGetValue("--symbols", out var symbols))
        {
            var list = symbols.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToUpperInvariant()).ToList();
            if (list.Count == 0)
            {
                throw new ArgumentException("option '--symbols' needs at least one symbol, e.g. BTCUSDT,ETHUSDT");
            }

            if (list.GroupBy(s => s).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                throw new ArgumentException($"option '--symbols': {twice.Key} is listed twice");
            }

            if (list.FirstOrDefault(s => SymbolSpec.Find(s) is null) is { } unknown)
            {
                throw new ArgumentException($"option '--symbols': unknown symbol '{unknown}' (not a default one nor in the recorded exchangeInfo); known: {string.Join(",", SymbolSpec.KnownNames)}");
            }

            options = options with { Symbols = list };
        }

        if (values.TryGetValue("--seed", out var seed))
        {
            options = options with { Seed = ParseInt("--seed", seed, int.MinValue, int.MaxValue) };
        }

        if (values.TryGetValue("--speed", out var speedText))
        {
            if (!double.TryParse(speedText, NumberStyles.Float, CultureInfo.InvariantCulture, out var speed) || speed <= 0 || double.IsInfinity(speed))
            {
                throw new ArgumentException($"option '--speed' must be a positive number, got '{speedText}'");
            }

            options = options with { Speed = speed };
        }

        if (values.TryGetValue("--latency-ms", out var latency))
        {
            var ms = ParseInt("--latency-ms", latency, 0, 60_000);
            options = options with { OrderEntryLatency = TimeSpan.FromMilliseconds(ms), MarketDataLatency = TimeSpan.FromMilliseconds(ms) };
        }

        var key = values.GetValueOrDefault("--api-key") ?? Environment.GetEnvironmentVariable("CHASER_SIM_API_KEY");
        var secret = values.GetValueOrDefault("--api-secret") ?? Environment.GetEnvironmentVariable("CHASER_SIM_API_SECRET");
        if (!string.IsNullOrEmpty(key))
        {
            options = options with { ApiKey = key };
        }

        if (!string.IsNullOrEmpty(secret))
        {
            options = options with { ApiSecret = secret };
        }

        var source = values.GetValueOrDefault("--source", "synthetic");
        var replayOptions = ReplayOptionNames.Where(values.ContainsKey).ToList();
        switch (source)
        {
            case "synthetic":
                if (replayOptions.Count > 0)
                {
                    throw new ArgumentException($"option '{replayOptions[0]}' needs '--source replay'");
                }

                break;
            case "replay":
                options = options with { Source = MarketSourceKind.Replay, Replay = ReplayFilesFrom(values, options.Symbols) };
                options = options with { Symbols = options.Symbols ?? [options.Replay!.Symbol] };
                break;
            default:
                throw new ArgumentException($"option '--source' must be synthetic or replay, got '{source}'");
        }

        return options;
    }

    private static ReplayFiles ReplayFilesFrom(Dictionary<string, string> values, IReadOnlyList<string>? symbols)
    {
        var book = values.GetValueOrDefault("--book");
        var snapshot = values.GetValueOrDefault("--depth-snapshot");
        var updates = values.GetValueOrDefault("--depth-updates");
        if (book is null && snapshot is null && updates is null)
        {
            throw new ArgumentException("'--source replay' needs '--book FILE' or '--depth-snapshot FILE --depth-updates FILE'");
        }

        if ((snapshot is null) != (updates is null))
        {
            throw new ArgumentException(snapshot is null ? "option '--depth-updates' needs '--depth-snapshot'" : "option '--depth-snapshot' needs '--depth-updates'");
        }

        foreach (var (option, path) in values.Where(kv => kv.Key is "--book" or "--trades" or "--depth-snapshot" or "--depth-updates"))
        {
            if (!File.Exists(path))
            {
                throw new ArgumentException($"option '{option}': file not found: {path}");
            }
        }

        // The symbol comes from --symbols, else from the public-data file name (BTCUSDT-UM-…, BTCUSDT-bookTicker-…).
        var first = book ?? snapshot!;
        var fromName = Path.GetFileName(first).Split('-')[0].ToUpperInvariant();
        var symbol = symbols is { Count: > 0 } ? symbols[0] : fromName;
        if (SymbolSpec.Find(symbol) is null)
        {
            throw new ArgumentException($"option '--symbols' is needed: cannot tell the replayed symbol from '{Path.GetFileName(first)}'");
        }

        return new ReplayFiles { Symbol = symbol, BookTicker = book, Trades = values.GetValueOrDefault("--trades"), DepthSnapshot = snapshot, DepthUpdates = updates };
    }

    private static int ParseInt(string option, string text, int min, int max) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v
            : throw new ArgumentException($"option '{option}' must be an integer between {min} and {max}, got '{text}'");
}
