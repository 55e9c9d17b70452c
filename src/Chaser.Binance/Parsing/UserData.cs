using System.Text.Json;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;

namespace Chaser.Binance.Parsing;

/// <summary>Which user data stream event a frame carries.</summary>
public enum UserEventType
{
    Unknown,
    OrderTradeUpdate,
    TradeLite,
    AccountUpdate,
    ListenKeyExpired,
}

/// <summary>ORDER_TRADE_UPDATE <c>x</c>: what happened to the order.</summary>
public enum ExecutionType
{
    Unknown,
    New,
    Canceled,
    Calculated,
    Expired,
    Trade,
    Amendment,
}

/// <summary>Binance's order status (<c>X</c>, and <c>status</c> in REST answers).</summary>
public enum BinanceOrderStatus
{
    Unknown,
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Expired,
    ExpiredInMatch,
}

/// <summary>The fields of ORDER_TRADE_UPDATE's <c>o</c> object that an execution engine acts on.</summary>
public readonly record struct OrderTradeUpdate(
    long EventTimeMs,
    long TransactionTimeMs,
    string Symbol,
    string ClientOrderId,
    Side Side,
    string OrderType,
    string TimeInForce,
    decimal OriginalQuantity,
    decimal Price,
    decimal AveragePrice,
    ExecutionType Execution,
    BinanceOrderStatus Status,
    long OrderId,
    decimal LastFilledQuantity,
    decimal CumulativeFilledQuantity,
    decimal LastFilledPrice,
    string? CommissionAsset,
    decimal Commission,
    long TradeTimeMs,
    long TradeId,
    bool IsMaker,
    bool ReduceOnly,
    decimal RealizedProfit,
    int ExpiryReason);

/// <summary><c>{"e":"listenKeyExpired","E":…,"listenKey":…}</c>: the user stream is dead; get a new key and reconnect.</summary>
public readonly record struct ListenKeyExpired(long EventTimeMs, string ListenKey);

/// <summary>One balance of ACCOUNT_UPDATE's <c>a.B</c>.</summary>
public readonly record struct BalanceUpdate(string Asset, decimal WalletBalance, decimal CrossWalletBalance, decimal BalanceChange);

/// <summary>One position of ACCOUNT_UPDATE's <c>a.P</c>.</summary>
public readonly record struct PositionUpdate(
    string Symbol,
    decimal PositionAmount,
    decimal EntryPrice,
    decimal BreakEvenPrice,
    decimal AccumulatedRealized,
    decimal UnrealizedPnl,
    string MarginType,
    string PositionSide);

/// <summary>ACCOUNT_UPDATE: balances and positions after a funding, fill, deposit, ….</summary>
public sealed record AccountUpdate(
    long EventTimeMs,
    long TransactionTimeMs,
    string Reason,
    IReadOnlyList<BalanceUpdate> Balances,
    IReadOnlyList<PositionUpdate> Positions);

/// <summary>
/// Parses user data stream frames. ORDER_TRADE_UPDATE allocates nothing once its client order id, symbol and
/// commission asset are in the string cache (the engine registers each client order id as it creates it).
/// </summary>
public sealed class UserDataParser
{
    private readonly Utf8StringCache _strings;

    public UserDataParser(Utf8StringCache strings)
    {
        ArgumentNullException.ThrowIfNull(strings);
        _strings = strings;
    }

    public static UserEventType EventType(ReadOnlySpan<byte> frame)
    {
        var e = EventName.Find(frame);
        if (e.SequenceEqual("ORDER_TRADE_UPDATE"u8))
        {
            return UserEventType.OrderTradeUpdate;
        }

        if (e.SequenceEqual("TRADE_LITE"u8))
        {
            return UserEventType.TradeLite;
        }

        if (e.SequenceEqual("ACCOUNT_UPDATE"u8))
        {
            return UserEventType.AccountUpdate;
        }

        return e.SequenceEqual("listenKeyExpired"u8) ? UserEventType.ListenKeyExpired : UserEventType.Unknown;
    }

    public OrderTradeUpdate ParseOrderTradeUpdate(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        JsonRead.StartObject(ref reader);
        long eventTime = 0, transactionTime = 0;
        OrderTradeUpdate? order = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            JsonRead.Value(ref reader);
            switch (name)
            {
                case [(byte)'E']: eventTime = JsonRead.Long(ref reader, "E"); break;
                case [(byte)'T']: transactionTime = JsonRead.Long(ref reader, "T"); break;
                case [(byte)'o']: order = ReadOrder(ref reader); break;
                default: reader.Skip(); break;
            }
        }

        return order is { } o
            ? o with { EventTimeMs = eventTime, TransactionTimeMs = transactionTime }
            : throw new JsonException("ORDER_TRADE_UPDATE has no 'o' object");
    }

    public static ListenKeyExpired ParseListenKeyExpired(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        JsonRead.StartObject(ref reader);
        long eventTime = 0;
        string? key = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            JsonRead.Value(ref reader);
            if (name.SequenceEqual("E"u8))
            {
                eventTime = JsonRead.Long(ref reader, "E");
            }
            else if (name.SequenceEqual("listenKey"u8))
            {
                key = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }

        return new ListenKeyExpired(eventTime, key ?? string.Empty);
    }

    public AccountUpdate ParseAccountUpdate(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        JsonRead.StartObject(ref reader);
        long eventTime = 0, transactionTime = 0;
        var reason = string.Empty;
        var balances = new List<BalanceUpdate>();
        var positions = new List<PositionUpdate>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            JsonRead.Value(ref reader);
            switch (name)
            {
                case [(byte)'E']: eventTime = JsonRead.Long(ref reader, "E"); break;
                case [(byte)'T']: transactionTime = JsonRead.Long(ref reader, "T"); break;
                case [(byte)'a']:
                    JsonRead.Expect(ref reader, JsonTokenType.StartObject, "a");
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var inner = reader.ValueSpan;
                        JsonRead.Value(ref reader);
                        switch (inner)
                        {
                            case [(byte)'m']: reason = JsonRead.Cached(ref reader, _strings, "a.m"); break;
                            case [(byte)'B']: ReadArray(ref reader, balances, ReadBalance); break;
                            case [(byte)'P']: ReadArray(ref reader, positions, ReadPosition); break;
                            default: reader.Skip(); break;
                        }
                    }

                    break;
                default: reader.Skip(); break;
            }
        }

        return new AccountUpdate(eventTime, transactionTime, reason, balances, positions);
    }

    private delegate T ElementReader<out T>(ref Utf8JsonReader reader);

    private static void ReadArray<T>(ref Utf8JsonReader reader, List<T> into, ElementReader<T> read)
    {
        JsonRead.Expect(ref reader, JsonTokenType.StartArray, "array");
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            into.Add(read(ref reader));
        }
    }

    private BalanceUpdate ReadBalance(ref Utf8JsonReader reader)
    {
        string asset = string.Empty;
        decimal wallet = 0, cross = 0, change = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            JsonRead.Value(ref reader);
            switch (name)
            {
                case [(byte)'a']: asset = JsonRead.Cached(ref reader, _strings, "B.a"); break;
                case [(byte)'w', (byte)'b']: wallet = JsonRead.Decimal(ref reader, "B.wb"); break;
                case [(byte)'c', (byte)'w']: cross = JsonRead.Decimal(ref reader, "B.cw"); break;
                case [(byte)'b', (byte)'c']: change = JsonRead.Decimal(ref reader, "B.bc"); break;
                default: reader.Skip(); break;
            }
        }

        return new BalanceUpdate(asset, wallet, cross, change);
    }

    private PositionUpdate ReadPosition(ref Utf8JsonReader reader)
    {
        string symbol = string.Empty, marginType = string.Empty, positionSide = string.Empty;
        decimal amount = 0, entry = 0, breakEven = 0, realized = 0, unrealized = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            JsonRead.Value(ref reader);
            switch (name)
            {
                case [(byte)'s']: symbol = JsonRead.Cached(ref reader, _strings, "P.s"); break;
                case [(byte)'p', (byte)'a']: amount = JsonRead.Decimal(ref reader, "P.pa"); break;
                case [(byte)'e', (byte)'p']: entry = JsonRead.Decimal(ref reader, "P.ep"); break;
                case [(byte)'b', (byte)'e', (byte)'p']: breakEven = JsonRead.Decimal(ref reader, "P.bep"); break;
                case [(byte)'c', (byte)'r']: realized = JsonRead.Decimal(ref reader, "P.cr"); break;
                case [(byte)'u', (byte)'p']: unrealized = JsonRead.Decimal(ref reader, "P.up"); break;
                case [(byte)'m', (byte)'t']: marginType = JsonRead.Cached(ref reader, _strings, "P.mt"); break;
                case [(byte)'p', (byte)'s']: positionSide = JsonRead.Cached(ref reader, _strings, "P.ps"); break;
                default: reader.Skip(); break;
            }
        }

        return new PositionUpdate(symbol, amount, entry, breakEven, realized, unrealized, marginType, positionSide);
    }

    private OrderTradeUpdate ReadOrder(ref Utf8JsonReader reader)
    {
        JsonRead.Expect(ref reader, JsonTokenType.StartObject, "o");
        string symbol = string.Empty, clientOrderId = string.Empty, orderType = string.Empty, timeInForce = string.Empty;
        string? commissionAsset = null;
        var side = Side.Buy;
        decimal quantity = 0, price = 0, averagePrice = 0, lastQty = 0, cumQty = 0, lastPrice = 0, commission = 0, realized = 0;
        var execution = ExecutionType.Unknown;
        var status = BinanceOrderStatus.Unknown;
        long orderId = 0, tradeTime = 0, tradeId = 0;
        bool maker = false, reduceOnly = false;
        var expiryReason = 0;
        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            JsonRead.Value(ref reader);
            switch (name)
            {
                case [(byte)'s']: symbol = JsonRead.Cached(ref reader, _strings, "o.s"); break;
                case [(byte)'c']: clientOrderId = JsonRead.Cached(ref reader, _strings, "o.c"); seen |= 1; break;
                case [(byte)'S']: side = WireEnums.Side(JsonRead.Text(ref reader, "o.S")); break;
                case [(byte)'o']: orderType = JsonRead.Cached(ref reader, _strings, "o.o"); break;
                case [(byte)'f']: timeInForce = JsonRead.Cached(ref reader, _strings, "o.f"); break;
                case [(byte)'q']: quantity = JsonRead.Decimal(ref reader, "o.q"); break;
                case [(byte)'p']: price = JsonRead.Decimal(ref reader, "o.p"); break;
                case [(byte)'a', (byte)'p']: averagePrice = JsonRead.Decimal(ref reader, "o.ap"); break;
                case [(byte)'x']: execution = WireEnums.Execution(JsonRead.Text(ref reader, "o.x")); seen |= 2; break;
                case [(byte)'X']: status = WireEnums.Status(JsonRead.Text(ref reader, "o.X")); seen |= 4; break;
                case [(byte)'i']: orderId = JsonRead.Long(ref reader, "o.i"); seen |= 8; break;
                case [(byte)'l']: lastQty = JsonRead.Decimal(ref reader, "o.l"); break;
                case [(byte)'z']: cumQty = JsonRead.Decimal(ref reader, "o.z"); break;
                case [(byte)'L']: lastPrice = JsonRead.Decimal(ref reader, "o.L"); break;
                case [(byte)'N']:
                    commissionAsset = reader.TokenType == JsonTokenType.Null ? null : JsonRead.Cached(ref reader, _strings, "o.N");
                    break;
                case [(byte)'n']: commission = JsonRead.Decimal(ref reader, "o.n"); break;
                case [(byte)'T']: tradeTime = JsonRead.Long(ref reader, "o.T"); break;
                case [(byte)'t']: tradeId = JsonRead.Long(ref reader, "o.t"); break;
                case [(byte)'m']: maker = JsonRead.Bool(ref reader, "o.m"); break;
                case [(byte)'R']: reduceOnly = JsonRead.Bool(ref reader, "o.R"); break;
                case [(byte)'r', (byte)'p']: realized = JsonRead.Decimal(ref reader, "o.rp"); break;
                case [(byte)'e', (byte)'r']: expiryReason = (int)JsonRead.Long(ref reader, "o.er"); break;
                default: reader.Skip(); break;
            }
        }

        if (seen != 15)
        {
            throw new JsonException("ORDER_TRADE_UPDATE.o lacks one of c, x, X, i");
        }

        return new OrderTradeUpdate(
            0, 0, symbol, clientOrderId, side, orderType, timeInForce, quantity, price, averagePrice, execution, status, orderId,
            lastQty, cumQty, lastPrice, commissionAsset, commission, tradeTime, tradeId, maker, reduceOnly, realized, expiryReason);
    }
}

/// <summary>Binance's enum spellings.</summary>
public static class WireEnums
{
    public static Side Side(ReadOnlySpan<byte> text) => text.SequenceEqual("BUY"u8) ? Core.Domain.Side.Buy
        : text.SequenceEqual("SELL"u8) ? Core.Domain.Side.Sell
        : throw new JsonException("side is neither BUY nor SELL");

    public static ExecutionType Execution(ReadOnlySpan<byte> text) => text switch
    {
        _ when text.SequenceEqual("NEW"u8) => ExecutionType.New,
        _ when text.SequenceEqual("TRADE"u8) => ExecutionType.Trade,
        _ when text.SequenceEqual("CANCELED"u8) => ExecutionType.Canceled,
        _ when text.SequenceEqual("EXPIRED"u8) => ExecutionType.Expired,
        _ when text.SequenceEqual("AMENDMENT"u8) => ExecutionType.Amendment,
        _ when text.SequenceEqual("CALCULATED"u8) => ExecutionType.Calculated,
        _ => ExecutionType.Unknown,
    };

    public static BinanceOrderStatus Status(ReadOnlySpan<byte> text) => text switch
    {
        _ when text.SequenceEqual("NEW"u8) => BinanceOrderStatus.New,
        _ when text.SequenceEqual("PARTIALLY_FILLED"u8) => BinanceOrderStatus.PartiallyFilled,
        _ when text.SequenceEqual("FILLED"u8) => BinanceOrderStatus.Filled,
        _ when text.SequenceEqual("CANCELED"u8) => BinanceOrderStatus.Canceled,
        _ when text.SequenceEqual("EXPIRED"u8) => BinanceOrderStatus.Expired,
        _ when text.SequenceEqual("EXPIRED_IN_MATCH"u8) => BinanceOrderStatus.ExpiredInMatch,
        _ => BinanceOrderStatus.Unknown,
    };

    /// <summary>Core's status; EXPIRED_IN_MATCH (self-trade prevention) is an expiry to the chaser.</summary>
    public static ExchangeOrderStatus ToCore(this BinanceOrderStatus status) => status switch
    {
        BinanceOrderStatus.New => ExchangeOrderStatus.New,
        BinanceOrderStatus.PartiallyFilled => ExchangeOrderStatus.PartiallyFilled,
        BinanceOrderStatus.Filled => ExchangeOrderStatus.Filled,
        BinanceOrderStatus.Canceled => ExchangeOrderStatus.Canceled,
        BinanceOrderStatus.Expired or BinanceOrderStatus.ExpiredInMatch => ExchangeOrderStatus.Expired,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown order status"),
    };
}
