using System.Globalization;

namespace Chaser.Simulator.Engine;

/// <summary>A rejection as Binance reports it: an error code, its message and the HTTP status it comes with.</summary>
public sealed class BinanceException : Exception
{
    public BinanceException(int code, string message, int httpStatus = 400)
        : base(message)
    {
        Code = code;
        HttpStatus = httpStatus;
    }

    public BinanceException()
        : this(-1000, "An unknown error occured while processing the request.")
    {
    }

    public BinanceException(string message)
        : this(-1000, message)
    {
    }

    public BinanceException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = -1000;
        HttpStatus = 500;
    }

    public int Code { get; }

    public int HttpStatus { get; }

    /// <summary>For 429/418: seconds until the limit window ends or the ban lifts (the Retry-After header).</summary>
    public int RetryAfterSeconds { get; set; }
}

/// <summary>Binance's error codes with their exact messages.</summary>
public static class BinanceErrors
{
    private static string F(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    public static BinanceException Unknown() => new(-1000, "An unknown error occured while processing the request.", 500);

    public static BinanceException TooManyRequests(string msg, int status) => new(-1003, msg, status);

    public static BinanceException TooManyOrders(int limit, string interval) =>
        new(-1015, $"Too many new orders; current limit is {limit} orders per {interval}.", 429);

    public static BinanceException RecvWindow() => new(-1021, "Timestamp for this request is outside of the recvWindow.");

    public static BinanceException AheadOfServer() => new(-1021, "Timestamp for this request was 1000ms ahead of the server's time.");

    public static BinanceException BadSignature() => new(-1022, "Signature for this request is not valid.");

    public static BinanceException IllegalChars(string name) => new(-1100, $"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.");

    public static BinanceException Mandatory(string name) => new(-1102, $"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.");

    public static BinanceException NotRequired(string name) => new(-1106, $"Parameter '{name}' sent when not required.");

    public static BinanceException Precision() => new(-1111, "Precision is over the maximum defined for this asset.");

    public static BinanceException InvalidTimeInForce() => new(-1115, "Invalid timeInForce.");

    public static BinanceException InvalidOrderType() => new(-1116, "Invalid orderType.");

    public static BinanceException InvalidSide() => new(-1117, "Invalid side.");

    public static BinanceException InvalidSymbol() => new(-1121, "Invalid symbol.");

    public static BinanceException InvalidListenKey() => new(-1125, "This listenKey does not exist.");

    public static BinanceException InvalidParameter(string name) => new(-1130, $"Data sent for parameter '{name}' is not valid.");

    public static BinanceException UnknownOrder() => new(-2011, "Unknown order sent.");

    public static BinanceException OrderDoesNotExist() => new(-2013, "Order does not exist.");

    public static BinanceException ApiKeyFormat() => new(-2014, "API-key format invalid.", 401);

    public static BinanceException InvalidApiKey(string ip) => new(-2015, $"Invalid API-key, IP, or permissions for action, request ip: {ip}", 401);

    public static BinanceException MarginInsufficient() => new(-2019, "Margin is insufficient.");

    public static BinanceException ReduceOnlyRejected() => new(-2022, "ReduceOnly Order is rejected.");

    public static BinanceException MaxOpenOrders() => new(-2025, "Reach max open order limit.");

    public static BinanceException QuantityNotPositive() => new(-4003, "Quantity less than or equal to zero.");

    public static BinanceException QuantityBelowMin() => new(-4004, "Quantity less than min qty.");

    public static BinanceException QuantityAboveMax() => new(-4005, "Quantity greater than max quantity.");

    public static BinanceException PriceBelowMin() => new(-4013, "Price less than min price.");

    public static BinanceException PriceNotOnTick() => new(-4014, "Price not increased by tick size.");

    public static BinanceException InvalidClientOrderId() => new(-4015, "Client order id is not valid.");

    public static BinanceException PriceAboveLimit(string limit) => new(-4016, $"Limit price can't be higher than {limit}.");

    public static BinanceException QuantityNotOnStep() => new(-4023, "Quantity not increased by step size.");

    public static BinanceException PriceBelowLimit(string limit) => new(-4024, $"Limit price can't be lower than {limit}.");

    public static BinanceException InvalidLeverage(int leverage) => new(-4028, $"Leverage {leverage} is not valid");

    public static BinanceException DuplicateClientOrderId() => new(-4116, "ClientOrderId is duplicated.");

    public static BinanceException UseAlgoEndpoints() => new(-4120, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.");

    public static BinanceException MarketOutsidePercentPrice() => new(-4131, "The counterparty's best price does not meet the PERCENT_PRICE filter limit.");

    public static BinanceException NotionalTooSmall(decimal minNotional) =>
        new(-4164, $"Order's notional must be no smaller than {F(minNotional)} (unless you choose reduce only).");

    public static BinanceException FokRejected() =>
        new(-5021, "Due to the order could not be filled immediately, the FOK order has been rejected. The order will not be recorded in the order history");

    public static BinanceException PostOnlyRejected() =>
        new(-5022, "Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history");

    public static BinanceException ModifyOnlyLimit() => new(-5025, "Only limit order is supported.");

    public static BinanceException ModifyTooMany() => new(-5026, "Exceed maximum modify order limit.");

    public static BinanceException NothingToModify() => new(-5027, "No need to modify the order.");

    public static BinanceException BadGoodTillDate() => new(-5040, "goodTillDate timestamp must be greater than current time plus 600 seconds and smaller than 253402300799000");
}
