namespace Chaser.Binance.Connector;

/// <summary>
/// One of Binance's published USDⓈ-M Futures environments: where its REST API, its market and user streams and its
/// WebSocket API live. Every address Binance publishes is written here and nowhere else (API notes §10); hosts take
/// them from here and may override any of them.
/// </summary>
public sealed record BinanceVenue(string Name, string Description, Uri RestBaseUrl, Uri StreamBaseUrl, Uri OrderEntryWebSocketUrl)
{
    /// <summary>The WebSocket API's path on its host (Binance's and the simulator's alike).</summary>
    public const string OrderEntryPath = "/ws-fapi/v1";

    /// <summary>Production (API notes §10): streams are routed (/public, /market, /private) since 2026-04-23.</summary>
    public static BinanceVenue Live { get; } = new(
        "live",
        "Binance USDⓈ-M Futures (real money)",
        new Uri("https://fapi.binance.com"),
        new Uri("wss://fstream.binance.com"),
        new Uri("wss://ws-fapi.binance.com" + OrderEntryPath));

    /// <summary>
    /// Demo trading, which Binance now points API users to instead of the testnet (API notes §10; sieblyio/binance
    /// issue 593, ccxt issues 28090 and 29099): its own REST host, the testnet's stream and WebSocket API hosts. Its
    /// keys are made on demo.binance.com and do not work on the testnet, nor the testnet's here.
    /// </summary>
    public static BinanceVenue Demo { get; } = new(
        "demo",
        "Binance demo trading (demo.binance.com keys)",
        new Uri("https://demo-fapi.binance.com"),
        new Uri("wss://fstream.binancefuture.com"),
        new Uri("wss://testnet.binancefuture.com" + OrderEntryPath));

    /// <summary>The older futures testnet (API notes §10): the same stream and WebSocket API hosts as demo trading.</summary>
    public static BinanceVenue Testnet { get; } = new(
        "testnet",
        "Binance futures testnet (testnet.binancefuture.com keys)",
        new Uri("https://testnet.binancefuture.com"),
        Demo.StreamBaseUrl,
        Demo.OrderEntryWebSocketUrl);

    public static IReadOnlyList<BinanceVenue> All { get; } = [Live, Demo, Testnet];

    /// <summary>The venue of that name (<c>live</c>, <c>demo</c>, <c>testnet</c>), or null.</summary>
    public static BinanceVenue? Find(string name) => All.FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.Ordinal));

    /// <summary>The WebSocket API a custom host serves beside its streams (the simulator does, at the same path as Binance).</summary>
    public static Uri OrderEntryOn(Uri streamBase) => new(streamBase, OrderEntryPath);
}
