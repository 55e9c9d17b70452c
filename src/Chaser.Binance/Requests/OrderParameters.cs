using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Rules;

namespace Chaser.Binance.Requests;

/// <summary>
/// Receives a request's parameters one at a time: the REST query string (<see cref="QueryStringWriter"/>) and the
/// WebSocket API frame (<see cref="WsApiFrameWriter"/>) are two spellings of the same parameters.
/// </summary>
public interface IParameterWriter
{
    /// <summary>A value that is already plain ASCII with nothing to escape (enum spellings such as <c>BUY</c>, <c>GTX</c>).</summary>
    void AddRaw(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);

    /// <summary>A text value (symbol, client order id).</summary>
    void Add(ReadOnlySpan<byte> name, ReadOnlySpan<char> value);

    /// <summary>An integer (timestamp, recvWindow): a JSON number on the WebSocket API.</summary>
    void Add(ReadOnlySpan<byte> name, long value);

    void Add(ReadOnlySpan<byte> name, bool value);

    /// <summary>A decimal in minimal plain notation: a JSON string on the WebSocket API.</summary>
    void Add(ReadOnlySpan<byte> name, decimal value);
}

/// <summary>
/// The one place that knows which parameters each order request has, whichever wire carries it. Parameters are written
/// in ordinal (alphabetical) order of their names, timestamp and recvWindow included: the WebSocket API signs the
/// parameters sorted that way (API notes §8; Binance "WebSocket API general info": "the signature payload … sorting
/// them by name in alphabetical order"), so its frame is written and signed in one pass without sorting; REST signs
/// the query as sent, in whatever order. Prices and quantities must already be on the symbol's grid (rounded by
/// <see cref="SymbolRules"/>): off-grid fails here rather than spending rate budget on a certain -4014/-4023/-1111.
/// </summary>
internal static class OrderParameters
{
    public static void NewOrder<TWriter>(ref TWriter writer, in NewOrder order, SymbolRules rules, in SigningContext signing)
        where TWriter : IParameterWriter, allows ref struct
    {
        ArgumentNullException.ThrowIfNull(rules);
        var postOnly = order.Type == ChildOrderType.PostOnly;
        var step = postOnly || rules.MarketStepSize <= 0 ? rules.StepSize : rules.MarketStepSize;
        writer.Add("newClientOrderId"u8, order.ClientOrderId);
        if (order.ResultResponse)
        {
            writer.AddRaw("newOrderRespType"u8, "RESULT"u8);
        }

        if (postOnly)
        {
            writer.Add("price"u8, OnGrid("price", order.Price, rules.TickSize, rules.MinPrice));
        }

        writer.Add("quantity"u8, OnGrid("quantity", order.Quantity, step));
        writer.Add("recvWindow"u8, (long)signing.RecvWindowMs);
        if (order.ReduceOnly)
        {
            writer.Add("reduceOnly"u8, true);
        }

        writer.AddRaw("side"u8, SideText(order.Side));
        writer.Add("symbol"u8, order.Symbol);
        if (postOnly)
        {
            writer.AddRaw("timeInForce"u8, "GTX"u8);
        }

        writer.Add("timestamp"u8, signing.TimestampMs);
        writer.AddRaw("type"u8, postOnly ? "LIMIT"u8 : "MARKET"u8);
    }

    /// <summary>A modify (PUT order / order.modify): Binance wants both the price and the new total quantity.</summary>
    public static void ModifyOrder<TWriter>(ref TWriter writer, in ModifyOrder modify, SymbolRules rules, in SigningContext signing)
        where TWriter : IParameterWriter, allows ref struct
    {
        ArgumentNullException.ThrowIfNull(rules);
        writer.Add("origClientOrderId"u8, modify.ClientOrderId);
        writer.Add("price"u8, OnGrid("price", modify.Price, rules.TickSize, rules.MinPrice));
        writer.Add("quantity"u8, OnGrid("quantity", modify.Quantity, rules.StepSize));
        writer.Add("recvWindow"u8, (long)signing.RecvWindowMs);
        writer.AddRaw("side"u8, SideText(modify.Side));
        writer.Add("symbol"u8, modify.Symbol);
        writer.Add("timestamp"u8, signing.TimestampMs);
    }

    /// <summary>Cancel or query one order by our client order id.</summary>
    public static void ByClientOrderId<TWriter>(ref TWriter writer, string symbol, string clientOrderId, in SigningContext signing)
        where TWriter : IParameterWriter, allows ref struct
    {
        writer.Add("origClientOrderId"u8, clientOrderId);
        writer.Add("recvWindow"u8, (long)signing.RecvWindowMs);
        writer.Add("symbol"u8, symbol);
        writer.Add("timestamp"u8, signing.TimestampMs);
    }

    /// <summary>
    /// A price or quantity that must lie on its exchange grid (tick or step). Off-grid means the caller skipped the
    /// rounding in <c>SymbolRules</c>.
    /// </summary>
    public static decimal OnGrid(string name, decimal value, decimal increment, decimal origin = 0m)
    {
        if (value <= 0 || (increment > 0 && !IsMultiple(value - origin, increment)))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"'{name}' must be positive and a multiple of {increment}");
        }

        return value;
    }

    /// <summary>
    /// Whether <paramref name="value"/> is a whole multiple of <paramref name="increment"/> (positive), exactly as
    /// <c>value % increment == 0</c> says, without decimal's general remainder on the hot path: both as integers at
    /// one scale (every price and quantity of an order fits 64 bits with at most 19 digits of rescaling), the
    /// remainder taken on 128 bits; anything larger falls back to <c>%</c>.
    /// </summary>
    internal static bool IsMultiple(decimal value, decimal increment)
    {
        Span<int> valueBits = stackalloc int[4];
        Span<int> incrementBits = stackalloc int[4];
        decimal.GetBits(value, valueBits);
        decimal.GetBits(increment, incrementBits);
        var valueScale = (valueBits[3] >> 16) & 0xFF;
        var incrementScale = (incrementBits[3] >> 16) & 0xFF;
        var scale = Math.Max(valueScale, incrementScale);
        if (valueBits[2] != 0 || incrementBits[2] != 0 || scale - valueScale > 19 || scale - incrementScale > 19)
        {
            return value % increment == 0;
        }

        // The sign does not change whether the remainder is zero.
        var valueUnits = (UInt128)(((ulong)(uint)valueBits[1] << 32) | (uint)valueBits[0]) * PowerOfTen(scale - valueScale);
        var incrementUnits = (UInt128)(((ulong)(uint)incrementBits[1] << 32) | (uint)incrementBits[0]) * PowerOfTen(scale - incrementScale);
        return valueUnits % incrementUnits == 0;
    }

    private static ulong PowerOfTen(int exponent)
    {
        var power = 1UL;
        for (var i = 0; i < exponent; i++)
        {
            power *= 10;
        }

        return power;
    }

    private static ReadOnlySpan<byte> SideText(Side side) => side switch
    {
        Side.Buy => "BUY"u8,
        Side.Sell => "SELL"u8,
        _ => throw new ArgumentOutOfRangeException(nameof(side), side, "side must be Buy or Sell"),
    };
}
