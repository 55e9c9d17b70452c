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
        if (!IsPositiveOnGrid(value, origin, increment))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"'{name}' must be positive and a multiple of {increment}");
        }

        return value;
    }

    /// <summary>
    /// Whether <paramref name="value"/> lies on the grid of <paramref name="increment"/> (positive) from
    /// <paramref name="origin"/>, exactly as <c>(value - origin) % increment == 0</c> says: all three as integers at one
    /// scale, the difference and its remainder on 64 bits (every price of an order, its tick and min price fit), and
    /// <see cref="IsMultiple"/> of decimal's difference otherwise.
    /// </summary>
    internal static bool IsOnGrid(decimal value, decimal origin, decimal increment)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var v = ((ulong)(uint)bits[1] << 32) | (uint)bits[0];
        var valueScale = (bits[3] >> 16) & 0xFF;
        var unusual = bits[2] != 0 || bits[3] < 0;
        decimal.GetBits(increment, bits);
        var i = ((ulong)(uint)bits[1] << 32) | (uint)bits[0];
        var incrementScale = (bits[3] >> 16) & 0xFF;
        unusual |= bits[2] != 0 || bits[3] < 0 || i == 0;
        return IsOnGrid(value, v, valueScale, origin, increment, i, incrementScale, unusual, bits);
    }

    /// <summary>
    /// <c>value &gt; 0 &amp;&amp; (increment &lt;= 0 || (value - origin) % increment == 0)</c>, what <see cref="OnGrid"/>
    /// asks, the signs read from the bits <see cref="IsOnGrid(decimal, decimal, decimal)"/> reads anyway rather than by
    /// decimal comparisons (each a call that rescales to compare with zero).
    /// </summary>
    internal static bool IsPositiveOnGrid(decimal value, decimal origin, decimal increment)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        if (bits[3] < 0 || (bits[0] | bits[1] | bits[2]) == 0)
        {
            return false;
        }

        var v = ((ulong)(uint)bits[1] << 32) | (uint)bits[0];
        var valueScale = (bits[3] >> 16) & 0xFF;
        var unusual = bits[2] != 0;
        decimal.GetBits(increment, bits);
        if (bits[3] < 0 || (bits[0] | bits[1] | bits[2]) == 0)
        {
            // No grid to be on.
            return true;
        }

        var i = ((ulong)(uint)bits[1] << 32) | (uint)bits[0];
        var incrementScale = (bits[3] >> 16) & 0xFF;
        unusual |= bits[2] != 0;
        return IsOnGrid(value, v, valueScale, origin, increment, i, incrementScale, unusual, bits);
    }

    private static bool IsOnGrid(decimal value, ulong v, int valueScale, decimal origin, decimal increment, ulong i, int incrementScale, bool unusual, Span<int> bits)
    {
        decimal.GetBits(origin, bits);
        var o = ((ulong)(uint)bits[1] << 32) | (uint)bits[0];
        var originScale = (bits[3] >> 16) & 0xFF;
        unusual |= bits[2] != 0 || bits[3] < 0;
        var scale = Math.Max(valueScale, Math.Max(originScale, incrementScale));
        if (unusual || scale - valueScale > 19 || scale - originScale > 19 || scale - incrementScale > 19
            || Math.BigMul(v, PowersOfTen[scale - valueScale], out var valueUnits) != 0
            || Math.BigMul(o, PowersOfTen[scale - originScale], out var originUnits) != 0
            || Math.BigMul(i, PowersOfTen[scale - incrementScale], out var incrementUnits) != 0)
        {
            return IsMultiple(value - origin, increment);
        }

        // Decimal's difference of these is exact (they fit 64 bits at its scale), so its remainder is this one.
        var difference = valueUnits >= originUnits ? valueUnits - originUnits : originUnits - valueUnits;
        return difference % incrementUnits == 0;
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

        // The sign does not change whether the remainder is zero. Every price and quantity of an order fits 64 bits at
        // the common scale, where the remainder is one machine division; 128 bits otherwise.
        var valueHigh = Math.BigMul(((ulong)(uint)valueBits[1] << 32) | (uint)valueBits[0], PowersOfTen[scale - valueScale], out var valueLow);
        var incrementHigh = Math.BigMul(((ulong)(uint)incrementBits[1] << 32) | (uint)incrementBits[0], PowersOfTen[scale - incrementScale], out var incrementLow);
        if (valueHigh == 0 && incrementHigh == 0)
        {
            return valueLow % incrementLow == 0;
        }

        return new UInt128(valueHigh, valueLow) % new UInt128(incrementHigh, incrementLow) == 0;
    }

    private static readonly ulong[] PowersOfTen =
    [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000,
        100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
        10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000, 10_000_000_000_000_000_000,
    ];

    private static ReadOnlySpan<byte> SideText(Side side) => side switch
    {
        Side.Buy => "BUY"u8,
        Side.Sell => "SELL"u8,
        _ => throw new ArgumentOutOfRangeException(nameof(side), side, "side must be Buy or Sell"),
    };
}
