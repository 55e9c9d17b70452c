namespace Chaser.Binance.Requests;

/// <summary>How a request authenticates (API notes §5).</summary>
public enum SecurityType
{
    /// <summary>Public market data: no key.</summary>
    None,

    /// <summary>USER_STREAM (listenKey): the API key header, no signature.</summary>
    ApiKey,

    /// <summary>TRADE / USER_DATA: API key header plus timestamp, recvWindow and signature.</summary>
    Signed,
}

/// <summary>The HTTP verbs Binance's REST API uses.</summary>
public enum RestMethod
{
    Get,
    Post,
    Put,
    Delete,
}

/// <summary>
/// One REST endpoint and what a call costs against the rate limits (API notes §4): IP request weight, and whether it
/// counts on the account's ORDERS limits (10 s and 1 min).
/// </summary>
public sealed record BinanceEndpoint(RestMethod Method, string Path, SecurityType Security, int Weight, int OrderCount)
{
    public static readonly BinanceEndpoint PlaceOrder = new(RestMethod.Post, "/fapi/v1/order", SecurityType.Signed, 0, 1);
    public static readonly BinanceEndpoint ModifyOrder = new(RestMethod.Put, "/fapi/v1/order", SecurityType.Signed, 0, 1);
    public static readonly BinanceEndpoint CancelOrder = new(RestMethod.Delete, "/fapi/v1/order", SecurityType.Signed, 1, 0);
    public static readonly BinanceEndpoint QueryOrder = new(RestMethod.Get, "/fapi/v1/order", SecurityType.Signed, 1, 0);
    public static readonly BinanceEndpoint OpenOrdersOneSymbol = new(RestMethod.Get, "/fapi/v1/openOrders", SecurityType.Signed, 1, 0);
    public static readonly BinanceEndpoint OpenOrdersAllSymbols = new(RestMethod.Get, "/fapi/v1/openOrders", SecurityType.Signed, 40, 0);
    public static readonly BinanceEndpoint AllOrders = new(RestMethod.Get, "/fapi/v1/allOrders", SecurityType.Signed, 5, 0);
    public static readonly BinanceEndpoint UserTrades = new(RestMethod.Get, "/fapi/v1/userTrades", SecurityType.Signed, 5, 0);
    public static readonly BinanceEndpoint CountdownCancelAll = new(RestMethod.Post, "/fapi/v1/countdownCancelAll", SecurityType.Signed, 10, 0);
    public static readonly BinanceEndpoint StartListenKey = new(RestMethod.Post, "/fapi/v1/listenKey", SecurityType.ApiKey, 1, 0);
    public static readonly BinanceEndpoint KeepAliveListenKey = new(RestMethod.Put, "/fapi/v1/listenKey", SecurityType.ApiKey, 1, 0);
    public static readonly BinanceEndpoint CloseListenKey = new(RestMethod.Delete, "/fapi/v1/listenKey", SecurityType.ApiKey, 1, 0);
    public static readonly BinanceEndpoint ExchangeInfo = new(RestMethod.Get, "/fapi/v1/exchangeInfo", SecurityType.None, 1, 0);
    public static readonly BinanceEndpoint ServerTime = new(RestMethod.Get, "/fapi/v1/time", SecurityType.None, 1, 0);
    public static readonly BinanceEndpoint BookTickerOneSymbol = new(RestMethod.Get, "/fapi/v1/ticker/bookTicker", SecurityType.None, 2, 0);

    /// <summary>The order book snapshot; its weight grows with the number of levels.</summary>
    public static BinanceEndpoint Depth(int limit) => limit switch
    {
        <= 50 => DepthUpTo50,
        <= 100 => DepthUpTo100,
        <= 500 => DepthUpTo500,
        _ => DepthUpTo1000,
    };

    private static readonly BinanceEndpoint DepthUpTo50 = new(RestMethod.Get, "/fapi/v1/depth", SecurityType.None, 2, 0);
    private static readonly BinanceEndpoint DepthUpTo100 = new(RestMethod.Get, "/fapi/v1/depth", SecurityType.None, 5, 0);
    private static readonly BinanceEndpoint DepthUpTo500 = new(RestMethod.Get, "/fapi/v1/depth", SecurityType.None, 10, 0);
    private static readonly BinanceEndpoint DepthUpTo1000 = new(RestMethod.Get, "/fapi/v1/depth", SecurityType.None, 20, 0);
}
