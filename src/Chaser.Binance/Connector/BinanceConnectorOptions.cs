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

    /// <summary>Receives diagnostics (reconnects, unexpected answers). Never given a secret.</summary>
    public Action<string>? Diagnostics { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The HTTP handler REST goes through; tests script the exchange's answers with it. Default: pooled sockets.</summary>
    internal HttpMessageHandler? HttpHandler { get; init; }
}
