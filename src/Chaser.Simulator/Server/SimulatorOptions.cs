using Chaser.Core.Domain;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Sources;

namespace Chaser.Simulator.Server;

public enum MarketSourceKind
{
    Synthetic,
    Replay,

    /// <summary>No automatic market: tests drive the engine directly (ReplaceBook, ApplyLevels, ApplyTrade).</summary>
    Manual,
}

/// <summary>Everything that configures one simulator instance. Defaults suit local use and tests.</summary>
public sealed record SimulatorOptions
{
    /// <summary>The API key of the documented Binance signing example; local use only.</summary>
    public const string DefaultApiKey = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";

    /// <summary>The secret of the documented Binance signing example; local use only.</summary>
    public const string DefaultApiSecret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 = an ephemeral port; read the bound address back from the server.</summary>
    public int Port { get; init; }

    /// <summary>Symbols to list, by name (see <see cref="SymbolSpec.Find"/>); null = all of <see cref="SymbolSpec.Defaults"/>.</summary>
    public IReadOnlyList<string>? Symbols { get; init; }

    public EngineOptions Engine { get; init; } = new();

    public MarketSourceKind Source { get; init; } = MarketSourceKind.Synthetic;

    public int Seed { get; init; } = 1;

    public SyntheticOptions Synthetic { get; init; } = new();

    public ReplayFiles? Replay { get; init; }

    /// <summary>Replay speed factor (2 = twice real time).</summary>
    public double Speed { get; init; } = 1.0;

    /// <summary>Replay: start the market clock at the recording's first event, then loop back when done.</summary>
    public bool LoopReplay { get; init; } = true;

    public string ApiKey { get; init; } = DefaultApiKey;

    public string ApiSecret { get; init; } = DefaultApiSecret;

    /// <summary>
    /// Ed25519 keys of the same account, API key → the 32-byte public key registered for it. Requests signed with one
    /// carry a base64 Ed25519 signature; only these keys can <c>session.logon</c> on the WebSocket API (an HMAC key is
    /// refused with -4056, as Binance does).
    /// </summary>
    public IReadOnlyDictionary<string, byte[]> Ed25519PublicKeys { get; init; } = new Dictionary<string, byte[]>();

    /// <summary>Added before order entry requests are processed (REST and WebSocket API).</summary>
    public TimeSpan OrderEntryLatency { get; init; }

    /// <summary>Added before market data frames are sent.</summary>
    public TimeSpan MarketDataLatency { get; init; }

    public RateLimitOptions RateLimits { get; init; } = new();

    public FaultOptions Faults { get; init; } = new();

    public TimeSpan ListenKeyValidity { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>The server pings every connection this often (Binance: 3 minutes, binance-futures-api.md §6).</summary>
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// A market/user stream connection from which no pong frame came back within this time after a ping is dropped
    /// (Binance: 10 minutes; an unsolicited pong counts, other messages do not).
    /// </summary>
    public TimeSpan PongTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The server closes a market/user stream connection this long after it opened (Binance: 24 hours, §6).</summary>
    public TimeSpan ConnectionLifetime { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Serve every stream on the unrouted /ws and /stream URLs, as before Binance retired them on 2026-04-23, for old
    /// clients. Off (the default), those URLs accept connections and SUBSCRIBEs but deliver nothing, and each stream
    /// flows only on its route: /public, /market, /private (binance-futures-api.md §6).
    /// </summary>
    public bool LegacyStreams { get; init; }

    /// <summary>Binance closes a market/user stream connection that sends more messages than this in any one second.</summary>
    public int StreamMessagesPerSecond { get; init; } = 10;

    /// <summary>Binance refuses a SUBSCRIBE that would take one connection past this many streams.</summary>
    public int StreamsPerConnection { get; init; } = 1024;

    /// <summary>Clock of the exchange (server time, recvWindow, rate-limit windows, listenKey expiry).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

public sealed record RateLimitOptions
{
    public bool Enabled { get; init; } = true;
    public int RequestWeightPerMinute { get; init; } = 2400;
    public int OrdersPer10Seconds { get; init; } = 300;
    public int OrdersPerMinute { get; init; } = 1200;

    /// <summary>First IP ban after continuing past a 429; doubles on each repeat, capped at 3 days.</summary>
    public TimeSpan FirstBan { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>Seeded, reproducible faults. Probabilities are per request / per event, 0 disables.</summary>
public sealed record FaultOptions
{
    public int Seed { get; init; } = 1;

    /// <summary>REST: answer 503 "Service Unavailable." without executing.</summary>
    public double ServiceUnavailableProbability { get; init; }

    /// <summary>REST: answer 429 -1003 without executing.</summary>
    public double TooManyRequestsProbability { get; init; }

    /// <summary>REST order entry: execute, then answer 503 -1007 (execution status unknown).</summary>
    public double UnknownStatusProbability { get; init; }

    /// <summary>REST: hold the request for <see cref="TimeoutDelay"/> and then answer 408.</summary>
    public double TimeoutProbability { get; init; }

    public TimeSpan TimeoutDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Per market-data frame: close the WebSocket connection.</summary>
    public double DropConnectionProbability { get; init; }

    /// <summary>Per user-stream event: send it twice.</summary>
    public double DuplicateUserEventProbability { get; init; }

    /// <summary>Per user-stream event: hold it back for <see cref="UserEventDelay"/>.</summary>
    public double DelayUserEventProbability { get; init; }

    public TimeSpan UserEventDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Per second of market time: freeze the market data for <see cref="StallDuration"/>.</summary>
    public double StallMarketDataProbability { get; init; }

    public TimeSpan StallDuration { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>Binance public-data CSV files (gzip or plain) of one symbol.</summary>
public sealed record ReplayFiles
{
    public required string Symbol { get; init; }
    public string? BookTicker { get; init; }
    public string? Trades { get; init; }
    public string? DepthSnapshot { get; init; }
    public string? DepthUpdates { get; init; }

    /// <summary>
    /// The symbol a public-data file name starts with (<c>BTCUSDT-UM-…</c>, <c>BTCUSDT-bookTicker-…</c>), or null when the
    /// name does not start with one: the files carry no symbol inside, so their names are the only record of it.
    /// </summary>
    public static string? SymbolInName(string path)
    {
        var name = Path.GetFileName(path);
        var dash = name.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0)
        {
            return null;
        }

        var token = name[..dash].ToUpperInvariant();
        return SymbolAssets.QuoteAsset(token) is not null && token.Length <= 20 && token.All(char.IsAsciiLetterOrDigit) ? token : null;
    }
}
