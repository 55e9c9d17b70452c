using Chaser.Core.Chasing;

namespace Chaser.Binance.Parsing;

public enum CoreOrderEventKind
{
    /// <summary>Nothing for the chaser (an unknown execution type).</summary>
    None,
    Accepted,
    Fill,
    Finished,
}

/// <summary>One ORDER_TRADE_UPDATE as the Core event it means; only the field named by <see cref="Kind"/> is set.</summary>
public readonly record struct CoreOrderEvent(CoreOrderEventKind Kind, OrderAccepted Accepted, Fill Fill, OrderFinished Finished);

/// <summary>Maps ORDER_TRADE_UPDATE onto the chaser's events (API notes §7).</summary>
public static class OrderEventMapping
{
    /// <summary>
    /// x=NEW → accepted; x=AMENDMENT → accepted modify (same order id, new price); x=TRADE → fill (fully filled when
    /// X=FILLED); x=CANCELED / EXPIRED → finished with the cumulative executed quantity. CALCULATED (liquidation or
    /// ADL) is an execution too and maps to a fill when it carries a quantity.
    /// </summary>
    public static CoreOrderEvent ToCore(in OrderTradeUpdate update, DateTimeOffset receivedAt)
    {
        var exchangeTime = JsonRead.Time(update.TransactionTimeMs != 0 ? update.TransactionTimeMs : update.EventTimeMs);
        switch (update.Execution)
        {
            case ExecutionType.New:
            case ExecutionType.Amendment:
                return new CoreOrderEvent(
                    CoreOrderEventKind.Accepted,
                    new OrderAccepted(
                        update.ClientOrderId,
                        update.OrderId,
                        update.Price,
                        update.OriginalQuantity,
                        IsModify: update.Execution == ExecutionType.Amendment,
                        exchangeTime,
                        receivedAt),
                    default,
                    default);
            case ExecutionType.Trade:
            case ExecutionType.Calculated when update.LastFilledQuantity > 0:
                return new CoreOrderEvent(
                    CoreOrderEventKind.Fill,
                    default,
                    new Fill(
                        update.ClientOrderId,
                        update.TradeId,
                        update.LastFilledPrice,
                        update.LastFilledQuantity,
                        update.Commission,
                        update.CommissionAsset,
                        update.IsMaker,
                        update.CumulativeFilledQuantity,
                        OrderFullyFilled: update.Status == BinanceOrderStatus.Filled,
                        update.TradeTimeMs != 0 ? JsonRead.Time(update.TradeTimeMs) : exchangeTime,
                        receivedAt),
                    default);
            case ExecutionType.Canceled:
            case ExecutionType.Expired:
                var status = update.Status is BinanceOrderStatus.Unknown or BinanceOrderStatus.New or BinanceOrderStatus.PartiallyFilled
                    ? (update.Execution == ExecutionType.Canceled ? ExchangeOrderStatus.Canceled : ExchangeOrderStatus.Expired)
                    : update.Status.ToCore();
                return new CoreOrderEvent(
                    CoreOrderEventKind.Finished,
                    default,
                    default,
                    new OrderFinished(update.ClientOrderId, status, update.CumulativeFilledQuantity, exchangeTime, receivedAt));
            default:
                return default;
        }
    }
}
