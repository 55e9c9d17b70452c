namespace Chaser.Simulator.Engine;

public enum OrderSide
{
    Buy,
    Sell,
}

public enum OrderType
{
    Limit,
    Market,
}

public enum TimeInForce
{
    Gtc,
    Ioc,
    Fok,
    Gtx,
    Gtd,
}

public enum OrderStatus
{
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Expired,
    ExpiredInMatch,
}

public enum ExecutionType
{
    New,
    Canceled,
    Calculated,
    Expired,
    Trade,
    Amendment,
}

public enum BookSide
{
    Bid,
    Ask,
}

/// <summary>Binance's spelling of the engine's enums on the wire.</summary>
public static class WireNames
{
    public static string ToWire(this OrderSide side) => side == OrderSide.Buy ? "BUY" : "SELL";

    public static string ToWire(this OrderType type) => type == OrderType.Limit ? "LIMIT" : "MARKET";

    public static string ToWire(this TimeInForce tif) => tif switch
    {
        TimeInForce.Gtc => "GTC",
        TimeInForce.Ioc => "IOC",
        TimeInForce.Fok => "FOK",
        TimeInForce.Gtx => "GTX",
        _ => "GTD",
    };

    public static string ToWire(this OrderStatus status) => status switch
    {
        OrderStatus.New => "NEW",
        OrderStatus.PartiallyFilled => "PARTIALLY_FILLED",
        OrderStatus.Filled => "FILLED",
        OrderStatus.Canceled => "CANCELED",
        OrderStatus.Expired => "EXPIRED",
        _ => "EXPIRED_IN_MATCH",
    };

    public static string ToWire(this ExecutionType type) => type switch
    {
        ExecutionType.New => "NEW",
        ExecutionType.Canceled => "CANCELED",
        ExecutionType.Calculated => "CALCULATED",
        ExecutionType.Expired => "EXPIRED",
        ExecutionType.Trade => "TRADE",
        _ => "AMENDMENT",
    };

    public static bool TryParseSide(string? text, out OrderSide side)
    {
        side = text == "SELL" ? OrderSide.Sell : OrderSide.Buy;
        return text is "BUY" or "SELL";
    }

    public static bool TryParseTimeInForce(string? text, out TimeInForce tif)
    {
        (var ok, tif) = text switch
        {
            "GTC" => (true, TimeInForce.Gtc),
            "IOC" => (true, TimeInForce.Ioc),
            "FOK" => (true, TimeInForce.Fok),
            "GTX" => (true, TimeInForce.Gtx),
            "GTD" => (true, TimeInForce.Gtd),
            _ => (false, TimeInForce.Gtc),
        };
        return ok;
    }
}
