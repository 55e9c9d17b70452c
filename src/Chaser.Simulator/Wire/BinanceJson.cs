using System.Globalization;
using System.Text.Json;
using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Wire;

/// <summary>Binance's JSON shapes: decimals as strings formatted to the symbol's tick/step, ids and times as numbers.</summary>
internal static class BinanceJson
{
    /// <summary>User data event types, as in <c>e</c> and in a private URL's <c>events=</c> filter.</summary>
    public const string OrderTradeUpdate = "ORDER_TRADE_UPDATE";

    public const string TradeLite = "TRADE_LITE";

    public const string AccountUpdate = "ACCOUNT_UPDATE";

    public static string Exact(decimal value) => (value / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);

    public static string Fixed(decimal value, int decimals) =>
        Math.Round(value, decimals).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public static string Avg(SymbolSpec spec, decimal value) => Fixed(value, Math.Max(5, spec.PriceDecimals));

    public static string Quote(SymbolSpec spec, decimal value) => Fixed(value, Math.Max(5, spec.PriceDecimals + spec.QuantityDecimals));

    public static string Usdt(decimal value) => Fixed(value, 8);

    public static byte[] Error(int code, string message) => JsonFrame.Write(w => WriteError(w, code, message));

    public static void WriteError(Utf8JsonWriter w, int code, string message)
    {
        w.WriteStartObject();
        w.WriteNumber("code", code);
        w.WriteString("msg", message);
        w.WriteEndObject();
    }

    /// <summary>The order object of POST/PUT/DELETE/GET /fapi/v1/order.</summary>
    public static void WriteOrder(Utf8JsonWriter w, SymbolSpec spec, OrderSnapshot o, bool includeTime)
    {
        w.WriteStartObject();
        w.WriteNumber("orderId", o.OrderId);
        w.WriteString("symbol", o.Symbol);
        w.WriteString("status", o.Status.ToWire());
        w.WriteString("clientOrderId", o.ClientOrderId);
        w.WriteString("price", spec.FormatPrice(o.Price));
        w.WriteString("avgPrice", Avg(spec, o.AvgPrice));
        w.WriteString("origQty", spec.FormatQty(o.OrigQty));
        w.WriteString("executedQty", spec.FormatQty(o.ExecutedQty));
        w.WriteString("cumQty", spec.FormatQty(o.ExecutedQty));
        w.WriteString("cumQuote", Quote(spec, o.CumQuote));
        w.WriteString("timeInForce", o.TimeInForce.ToWire());
        w.WriteString("type", o.Type.ToWire());
        w.WriteBoolean("reduceOnly", o.ReduceOnly);
        w.WriteBoolean("closePosition", false);
        w.WriteString("side", o.Side.ToWire());
        w.WriteString("positionSide", "BOTH");
        w.WriteString("stopPrice", spec.FormatPrice(0m));
        w.WriteString("workingType", "CONTRACT_PRICE");
        w.WriteBoolean("priceProtect", false);
        w.WriteString("origType", o.Type.ToWire());
        w.WriteString("priceMatch", o.PriceMatch);
        w.WriteString("selfTradePreventionMode", o.SelfTradePreventionMode);
        w.WriteNumber("goodTillDate", o.GoodTillDate);
        if (includeTime)
        {
            w.WriteNumber("time", o.Time);
        }

        w.WriteNumber("updateTime", o.UpdateTime);
        w.WriteEndObject();
    }

    /// <summary>ORDER_TRADE_UPDATE as pushed on the user data stream.</summary>
    public static void WriteOrderTradeUpdate(Utf8JsonWriter w, SymbolSpec spec, OrderUpdate u)
    {
        var o = u.Order;
        var t = u.Trade;
        w.WriteStartObject();
        w.WriteString("e", OrderTradeUpdate);
        w.WriteNumber("E", u.EventTime);
        w.WriteNumber("T", u.TransactionTime);
        w.WriteStartObject("o");
        w.WriteString("s", o.Symbol);
        w.WriteString("c", o.ClientOrderId);
        w.WriteString("S", o.Side.ToWire());
        w.WriteString("o", o.Type.ToWire());
        w.WriteString("f", o.TimeInForce.ToWire());
        w.WriteString("q", spec.FormatQty(o.OrigQty));
        w.WriteString("p", spec.FormatPrice(o.Price));
        w.WriteString("ap", Avg(spec, o.AvgPrice));
        w.WriteString("sp", spec.FormatPrice(0m));
        w.WriteString("x", u.ExecutionType.ToWire());
        w.WriteString("X", o.Status.ToWire());
        w.WriteNumber("i", o.OrderId);
        w.WriteString("l", spec.FormatQty(t?.Qty ?? 0m));
        w.WriteString("z", spec.FormatQty(o.ExecutedQty));
        w.WriteString("L", spec.FormatPrice(t?.Price ?? 0m));
        if (t is not null && t.Commission != 0m)
        {
            // Binance omits N and n when there is no commission.
            w.WriteString("N", t.CommissionAsset);
            w.WriteString("n", Usdt(t.Commission));
        }

        w.WriteNumber("T", u.TransactionTime);
        w.WriteNumber("t", t?.TradeId ?? 0);
        w.WriteString("b", Usdt(u.BidNotional));
        w.WriteString("a", Usdt(u.AskNotional));
        w.WriteBoolean("m", t?.Maker ?? false);
        w.WriteBoolean("R", o.ReduceOnly);
        w.WriteString("wt", "CONTRACT_PRICE");
        w.WriteString("ot", o.Type.ToWire());
        w.WriteString("ps", "BOTH");
        w.WriteBoolean("cp", false);
        w.WriteString("rp", Usdt(t?.RealizedPnl ?? 0m));
        w.WriteBoolean("pP", false);
        w.WriteNumber("si", 0);
        w.WriteNumber("ss", 0);
        w.WriteString("V", o.SelfTradePreventionMode);
        w.WriteString("pm", o.PriceMatch);
        w.WriteNumber("gtd", o.GoodTillDate);
        w.WriteString("er", o.Status == OrderStatus.Expired && o.TimeInForce is TimeInForce.Ioc or TimeInForce.Fok ? "2" : "0");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>
    /// TRADE_LITE (Binance's USDⓈ-M "Event: Trade Lite"): <c>q</c>/<c>p</c> the order's original quantity and
    /// price, <c>L</c>/<c>l</c> this fill's price and quantity, all strings; <c>t</c> trade id and <c>i</c> order id
    /// numbers; <c>m</c> maker.
    /// </summary>
    public static void WriteTradeLite(Utf8JsonWriter w, SymbolSpec spec, OrderUpdate u)
    {
        var o = u.Order;
        var t = u.Trade!;
        w.WriteStartObject();
        w.WriteString("e", TradeLite);
        w.WriteNumber("E", u.EventTime);
        w.WriteNumber("T", u.TransactionTime);
        w.WriteString("s", o.Symbol);
        w.WriteString("q", spec.FormatQty(o.OrigQty));
        w.WriteString("p", spec.FormatPrice(o.Price));
        w.WriteBoolean("m", t.Maker);
        w.WriteString("c", o.ClientOrderId);
        w.WriteString("S", o.Side.ToWire());
        w.WriteString("L", spec.FormatPrice(t.Price));
        w.WriteString("l", spec.FormatQty(t.Qty));
        w.WriteNumber("t", t.TradeId);
        w.WriteNumber("i", o.OrderId);
        w.WriteEndObject();
    }

    public static void WriteAccountUpdate(Utf8JsonWriter w, Func<string, SymbolSpec> specs, AccountUpdate u)
    {
        w.WriteStartObject();
        w.WriteString("e", AccountUpdate);
        w.WriteNumber("E", u.EventTime);
        w.WriteNumber("T", u.TransactionTime);
        w.WriteStartObject("a");
        w.WriteString("m", u.Reason);
        w.WriteStartArray("B");
        foreach (var b in u.Balances)
        {
            w.WriteStartObject();
            w.WriteString("a", b.Asset);
            w.WriteString("wb", Usdt(b.WalletBalance));
            w.WriteString("cw", Usdt(b.CrossWalletBalance));
            w.WriteString("bc", Usdt(b.BalanceChange));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("P");
        foreach (var p in u.Positions)
        {
            var spec = specs(p.Symbol);
            w.WriteStartObject();
            w.WriteString("s", p.Symbol);
            w.WriteString("pa", spec.FormatQty(p.Amount));
            w.WriteString("ep", Avg(spec, p.EntryPrice));
            w.WriteString("bep", Avg(spec, p.BreakEvenPrice));
            w.WriteString("cr", Usdt(p.AccumulatedRealized));
            w.WriteString("up", Usdt(p.UnrealizedPnl));
            w.WriteString("mt", "cross");
            w.WriteString("iw", "0");
            w.WriteString("ps", "BOTH");
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static void WriteLevels(Utf8JsonWriter w, string name, SymbolSpec spec, IReadOnlyList<BookLevel> levels)
    {
        w.WriteStartArray(name);
        foreach (var l in levels)
        {
            w.WriteStartArray();
            w.WriteStringValue(spec.FormatPrice(l.Price));
            w.WriteStringValue(spec.FormatQty(l.Qty));
            w.WriteEndArray();
        }

        w.WriteEndArray();
    }

    public static void WriteBookTickerEvent(Utf8JsonWriter w, SymbolSpec spec, BookTicker t)
    {
        w.WriteStartObject();
        w.WriteString("e", "bookTicker");
        w.WriteNumber("u", t.UpdateId);
        w.WriteString("s", t.Symbol);
        w.WriteString("b", spec.FormatPrice(t.BidPrice));
        w.WriteString("B", spec.FormatQty(t.BidQty));
        w.WriteString("a", spec.FormatPrice(t.AskPrice));
        w.WriteString("A", spec.FormatQty(t.AskQty));
        w.WriteNumber("T", t.TransactionTime);
        w.WriteNumber("E", t.EventTime);
        w.WriteEndObject();
    }

    public static void WriteDepthEvent(Utf8JsonWriter w, SymbolSpec spec, long eventTime, long transactionTime, long first, long final, long previous, IReadOnlyList<BookLevel> bids, IReadOnlyList<BookLevel> asks)
    {
        w.WriteStartObject();
        w.WriteString("e", "depthUpdate");
        w.WriteNumber("E", eventTime);
        w.WriteNumber("T", transactionTime);
        w.WriteString("s", spec.Symbol);
        w.WriteNumber("U", first);
        w.WriteNumber("u", final);
        w.WriteNumber("pu", previous);
        WriteLevels(w, "b", spec, bids);
        WriteLevels(w, "a", spec, asks);
        w.WriteEndObject();
    }

    public static void WriteAggTradeEvent(Utf8JsonWriter w, SymbolSpec spec, PublicTrade t, long eventTime)
    {
        w.WriteStartObject();
        w.WriteString("e", "aggTrade");
        w.WriteNumber("E", eventTime);
        w.WriteNumber("a", t.TradeId);
        w.WriteString("s", t.Symbol);
        w.WriteString("p", spec.FormatPrice(t.Price));
        w.WriteString("q", spec.FormatQty(t.Qty));
        w.WriteString("nq", spec.FormatQty(t.Qty));
        w.WriteNumber("f", t.TradeId);
        w.WriteNumber("l", t.TradeId);
        w.WriteNumber("T", t.Time);
        w.WriteBoolean("m", t.BuyerIsMaker);
        w.WriteEndObject();
    }

    public static void WriteTradeEvent(Utf8JsonWriter w, SymbolSpec spec, PublicTrade t, long eventTime)
    {
        w.WriteStartObject();
        w.WriteString("e", "trade");
        w.WriteNumber("E", eventTime);
        w.WriteNumber("T", t.Time);
        w.WriteString("s", t.Symbol);
        w.WriteNumber("t", t.TradeId);
        w.WriteString("p", spec.FormatPrice(t.Price));
        w.WriteString("q", spec.FormatQty(t.Qty));
        w.WriteString("X", "MARKET");
        w.WriteBoolean("m", t.BuyerIsMaker);
        w.WriteEndObject();
    }
}
