using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Server;

/// <summary>Turns request parameters into engine requests with Binance's validation errors (shared by REST and the WebSocket API).</summary>
internal static class OrderRequests
{
    public static NewOrderRequest ParseNew(RequestParameters p, ExchangeEngine engine, out bool resultResponse)
    {
        var symbol = p.Symbol(engine);
        if (!WireNames.TryParseSide(p.Required("side"), out var side))
        {
            throw BinanceErrors.InvalidSide();
        }

        var type = p.Required("type") switch
        {
            "LIMIT" => OrderType.Limit,
            "MARKET" => OrderType.Market,
            "STOP" or "STOP_MARKET" or "TAKE_PROFIT" or "TAKE_PROFIT_MARKET" or "TRAILING_STOP_MARKET" => throw BinanceErrors.UseAlgoEndpoints(),
            _ => throw BinanceErrors.InvalidOrderType(),
        };
        TimeInForce? tif = null;
        if (p.Optional("timeInForce") is { } tifText)
        {
            tif = WireNames.TryParseTimeInForce(tifText, out var parsed) ? parsed : throw BinanceErrors.InvalidTimeInForce();
        }

        if (p.Optional("positionSide") is { } positionSide && positionSide != "BOTH")
        {
            throw new BinanceException(-4061, "Order's position side does not match user's setting.");
        }

        var stp = p.Optional("selfTradePreventionMode") ?? "EXPIRE_MAKER";
        if (stp is not ("NONE" or "EXPIRE_TAKER" or "EXPIRE_MAKER" or "EXPIRE_BOTH"))
        {
            throw BinanceErrors.InvalidParameter("selfTradePreventionMode");
        }

        resultResponse = p.Optional("newOrderRespType") switch
        {
            null or "ACK" => false,
            "RESULT" => true,
            _ => throw BinanceErrors.InvalidParameter("newOrderRespType"),
        };
        return new NewOrderRequest
        {
            Symbol = symbol,
            Side = side,
            Type = type,
            TimeInForce = tif,
            Quantity = p.OptionalDecimal("quantity"),
            Price = p.OptionalDecimal("price"),
            ReduceOnly = p.OptionalBool("reduceOnly"),
            NewClientOrderId = p.Optional("newClientOrderId"),
            PriceMatch = p.Optional("priceMatch"),
            SelfTradePreventionMode = stp,
            GoodTillDate = p.OptionalLong("goodTillDate") ?? 0,
        };
    }

    public static ModifyOrderRequest ParseModify(RequestParameters p, ExchangeEngine engine)
    {
        var symbol = p.Symbol(engine);
        var orderId = p.OptionalLong("orderId");
        var clientId = p.Optional("origClientOrderId");
        if (orderId is null && clientId is null)
        {
            throw BinanceErrors.Mandatory("orderId");
        }

        if (!WireNames.TryParseSide(p.Required("side"), out var side))
        {
            throw BinanceErrors.InvalidSide();
        }

        var priceMatch = p.Optional("priceMatch");
        return new ModifyOrderRequest
        {
            Symbol = symbol,
            OrderId = orderId,
            OrigClientOrderId = clientId,
            Side = side,
            Quantity = p.OptionalDecimal("quantity") ?? throw BinanceErrors.Mandatory("quantity"),
            Price = priceMatch is null or "NONE" ? p.OptionalDecimal("price") ?? throw BinanceErrors.Mandatory("price") : null,
            PriceMatch = priceMatch,
        };
    }

    public static (string Symbol, long? OrderId, string? ClientId) ParseOrderRef(RequestParameters p, ExchangeEngine engine)
    {
        var symbol = p.Symbol(engine);
        var orderId = p.OptionalLong("orderId");
        var clientId = p.Optional("origClientOrderId");
        return orderId is null && clientId is null ? throw BinanceErrors.Mandatory("orderId") : (symbol, orderId, clientId);
    }
}
