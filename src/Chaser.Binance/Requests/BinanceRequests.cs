using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Rules;

namespace Chaser.Binance.Requests;

/// <summary>What every signed request appends before its signature: the signer, the server-aligned timestamp and recvWindow.</summary>
public readonly record struct SigningContext(Signing.IRequestSigner Signer, long TimestampMs, int RecvWindowMs = 5000);

/// <summary>A new child order: LIMIT GTX (post-only) or MARKET.</summary>
public readonly record struct NewOrder(
    string Symbol,
    Side Side,
    ChildOrderType Type,
    decimal Price,
    decimal Quantity,
    string ClientOrderId,
    bool ReduceOnly = false,
    bool ResultResponse = false);

/// <summary>A modify (PUT order): Binance wants both price and the new <b>total</b> quantity.</summary>
public readonly record struct ModifyOrder(string Symbol, Side Side, string ClientOrderId, decimal Price, decimal Quantity);

/// <summary>
/// Writes the query strings of Binance's REST requests into a caller-supplied buffer and returns their length. Signed
/// requests end with <c>signature</c> (last, as Binance requires) over everything before it; order requests take
/// their parameters from <see cref="OrderParameters"/> (the same ones the WebSocket API frame carries, in sorted
/// order), the others end with <c>recvWindow</c> and <c>timestamp</c>. Orders are addressed by our client order id
/// so that a request never has to wait for the exchange's id.
/// </summary>
public static class BinanceRequests
{
    /// <summary>Enough for any request written here with the longest signer (Ed25519, URL-encoded).</summary>
    public const int MaxQueryLength = 1024;

    public static int NewOrder(Span<byte> destination, in NewOrder order, SymbolRules rules, in SigningContext signing)
    {
        var query = new QueryStringWriter(destination);
        OrderParameters.NewOrder(ref query, order, rules, signing);
        query.Sign(signing.Signer);
        return query.Length;
    }

    public static int ModifyOrder(Span<byte> destination, in ModifyOrder modify, SymbolRules rules, in SigningContext signing)
    {
        var query = new QueryStringWriter(destination);
        OrderParameters.ModifyOrder(ref query, modify, rules, signing);
        query.Sign(signing.Signer);
        return query.Length;
    }

    /// <summary>DELETE order by client order id.</summary>
    public static int CancelOrder(Span<byte> destination, string symbol, string clientOrderId, in SigningContext signing) =>
        ByClientOrderId(destination, symbol, clientOrderId, signing);

    /// <summary>GET order by client order id.</summary>
    public static int QueryOrder(Span<byte> destination, string symbol, string clientOrderId, in SigningContext signing) =>
        ByClientOrderId(destination, symbol, clientOrderId, signing);

    /// <summary>GET openOrders; a null symbol asks for every symbol (weight 40 instead of 1).</summary>
    public static int OpenOrders(Span<byte> destination, string? symbol, in SigningContext signing)
    {
        var query = new QueryStringWriter(destination);
        if (symbol is not null)
        {
            query.Add("symbol"u8, symbol);
        }

        return Finish(ref query, signing);
    }

    /// <summary>GET allOrders of a symbol from a time on (what a restart reconciles).</summary>
    public static int AllOrders(Span<byte> destination, string symbol, long startTimeMs, int limit, in SigningContext signing)
    {
        var query = new QueryStringWriter(destination);
        query.Add("symbol"u8, symbol);
        query.Add("startTime"u8, startTimeMs);
        query.Add("limit"u8, (long)Math.Clamp(limit, 1, 1000));
        return Finish(ref query, signing);
    }

    /// <summary>GET userTrades of one order (the fills to reconcile after an unknown outcome or a reconnect).</summary>
    public static int UserTrades(Span<byte> destination, string symbol, long? orderId, long? fromTradeId, int limit, in SigningContext signing)
    {
        var query = new QueryStringWriter(destination);
        query.Add("symbol"u8, symbol);
        if (orderId is { } id)
        {
            query.Add("orderId"u8, id);
        }

        if (fromTradeId is { } from)
        {
            query.Add("fromId"u8, from);
        }

        query.Add("limit"u8, (long)Math.Clamp(limit, 1, 1000));
        return Finish(ref query, signing);
    }

    /// <summary>The dead-man switch: cancel all of a symbol's orders unless renewed within <paramref name="countdownMs"/> (0 disables).</summary>
    public static int CountdownCancelAll(Span<byte> destination, string symbol, long countdownMs, in SigningContext signing)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(countdownMs);
        var query = new QueryStringWriter(destination);
        query.Add("symbol"u8, symbol);
        query.Add("countdownTime"u8, countdownMs);
        return Finish(ref query, signing);
    }

    /// <summary>GET depth snapshot.</summary>
    public static int Depth(Span<byte> destination, string symbol, int limit)
    {
        var query = new QueryStringWriter(destination);
        query.Add("symbol"u8, symbol);
        query.Add("limit"u8, (long)limit);
        return query.Length;
    }

    /// <summary>GET exchangeInfo; no parameters (futures' exchangeInfo always lists every symbol).</summary>
    public static int ExchangeInfo(Span<byte> destination) => 0;

    /// <summary>GET time; no parameters.</summary>
    public static int ServerTime(Span<byte> destination) => 0;

    /// <summary>listenKey POST takes no parameters; PUT and DELETE act on the account's current key.</summary>
    public static int ListenKey(Span<byte> destination) => 0;

    private static int ByClientOrderId(Span<byte> destination, string symbol, string clientOrderId, in SigningContext signing)
    {
        var query = new QueryStringWriter(destination);
        OrderParameters.ByClientOrderId(ref query, symbol, clientOrderId, signing);
        query.Sign(signing.Signer);
        return query.Length;
    }

    private static int Finish(ref QueryStringWriter query, in SigningContext signing)
    {
        query.Add("recvWindow"u8, (long)signing.RecvWindowMs);
        query.Add("timestamp"u8, signing.TimestampMs);
        query.Sign(signing.Signer);
        return query.Length;
    }
}
