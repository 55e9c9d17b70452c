using Chaser.Binance.Signing;

namespace Chaser.Binance.Connector;

/// <summary>Where the connector talks to and as whom. Every address is configurable: Binance's (<see cref="BinanceVenue"/>) or the simulator's.</summary>
public sealed record BinanceConnectorOptions
{
    /// <summary>REST base: a <see cref="BinanceVenue.RestBaseUrl"/> or the simulator's, e.g. http://127.0.0.1:8090.</summary>
    public required Uri RestBaseUrl { get; init; }

    /// <summary>WebSocket base for market and user streams: a <see cref="BinanceVenue.StreamBaseUrl"/> or e.g. ws://127.0.0.1:8090.</summary>
    public required Uri StreamBaseUrl { get; init; }

    /// <summary>
    /// The WebSocket API for order entry (a <see cref="BinanceVenue.OrderEntryWebSocketUrl"/>); null sends orders over REST only.
    /// REST is always the fallback while this connection is down.
    /// </summary>
    public Uri? OrderEntryWebSocketUrl { get; init; }

    public required ApiKey ApiKey { get; init; }

    public required IRequestSigner Signer { get; init; }

    public int RecvWindowMs { get; init; } = 5_000;

    /// <summary>A request without an answer after this long has an unknown outcome (the chaser then queries).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Depth levels streamed per symbol (5, 10 or 20): the chaser uses them to step back when alone at the top.</summary>
    public int DepthLevels { get; init; } = 5;

    /// <summary>Keep the listen key alive this often (Binance expires it after 60 minutes).</summary>
    public TimeSpan ListenKeyKeepAlive { get; init; } = TimeSpan.FromMinutes(30);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Every WebSocket pings this often and drops the connection when no pong comes back within
    /// <see cref="WebSocketPongTimeout"/>: a dead connection is found even where data is rightly silent (user data).
    /// </summary>
    public TimeSpan WebSocketPingInterval { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan WebSocketPongTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A market stream connection without a frame for this long is a dead feed: reconnect and resubscribe.</summary>
    public TimeSpan MarketDataSilenceTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Binance closes a connection after 24 hours (§6): each WebSocket is replaced, make-before-break, after this long.</summary>
    public TimeSpan WebSocketLifetime { get; init; } = TimeSpan.FromHours(23) + TimeSpan.FromMinutes(50);

    /// <summary>
    /// Messages a stream connection sends per second at most. Binance allows 10 incoming a second, pings and pongs
    /// included (§6), and disconnects past that; the WebSocket layer's own pings and pongs are out of our sight, so
    /// half is left to them.
    /// </summary>
    public int StreamMessagesPerSecond { get; init; } = 5;

    /// <summary>Streams per market connection at most (Binance: 1024, §6); past it another connection is opened.</summary>
    public int StreamsPerConnection { get; init; } = 1024;

    /// <summary>Receives diagnostics (reconnects, unexpected answers). Never given a secret.</summary>
    public Action<string>? Diagnostics { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The HTTP handler REST goes through; tests script the exchange's answers with it. Default: pooled sockets.</summary>
    internal HttpMessageHandler? HttpHandler { get; init; }
}
