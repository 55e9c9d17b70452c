using Chaser.Core.Analytics;
using Chaser.Core.Domain;
using Chaser.Storage;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Reporting;

/// <summary>
/// One parent order with everything recorded about it: the rows post-trade metrics and charts are built from. Fills,
/// quotes and prints are placed on the exchange's clock (so the book update a fill caused is never mistaken for the
/// book it filled against); the order's start and end, and decisions, are on ours. Binance requires clocks synced
/// within the receive window, so the two differ by milliseconds.
/// </summary>
public sealed record StoredExecution(
    OrderRow Order,
    IReadOnlyList<FillRow> Fills,
    IReadOnlyList<MidRow> Mids,
    IReadOnlyList<EventRow> Events,
    IReadOnlyList<ChildOrderRow> Children,
    IReadOnlyList<MarketTradeRow> MarketTrades)
{
    public Side Side => Order.Side > 0 ? Side.Buy : Side.Sell;

    /// <summary>Loads the orders a query selects, in id order, each with its related rows.</summary>
    public static async Task<IReadOnlyList<StoredExecution>> LoadAsync(ChaserDb db, IQueryable<OrderRow> orders, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(orders);
        var rows = await orders.AsNoTracking().OrderBy(o => o.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        var ids = rows.Select(o => o.Id).ToArray();
        var fills = (await db.Fills.AsNoTracking().Where(f => ids.Contains(f.OrderId)).ToListAsync(cancellationToken).ConfigureAwait(false)).ToLookup(f => f.OrderId);
        var mids = (await db.Mids.AsNoTracking().Where(m => ids.Contains(m.OrderId)).ToListAsync(cancellationToken).ConfigureAwait(false)).ToLookup(m => m.OrderId);
        var events = (await db.Events.AsNoTracking().Where(e => ids.Contains(e.OrderId)).ToListAsync(cancellationToken).ConfigureAwait(false)).ToLookup(e => e.OrderId);
        var children = (await db.ChildOrders.AsNoTracking().Where(c => ids.Contains(c.OrderId)).ToListAsync(cancellationToken).ConfigureAwait(false)).ToLookup(c => c.OrderId);
        var trades = (await db.MarketTrades.AsNoTracking().Where(t => ids.Contains(t.OrderId)).ToListAsync(cancellationToken).ConfigureAwait(false)).ToLookup(t => t.OrderId);

        // Sorted here rather than in SQL: SQLite keeps times as integers and decimals as text, both fine to sort in memory.
        return [.. rows.Select(o => new StoredExecution(
            o,
            [.. fills[o.Id].OrderBy(f => f.ReceivedTime).ThenBy(f => f.TradeId)],
            [.. mids[o.Id].OrderBy(m => m.ReceivedTime).ThenBy(m => m.Id)],
            [.. events[o.Id].OrderBy(e => e.Time).ThenBy(e => e.Id)],
            [.. children[o.Id].OrderBy(c => c.Sequence)],
            [.. trades[o.Id].OrderBy(t => t.ReceivedTime).ThenBy(t => t.Id)]))];
    }

    /// <summary>The trace the core's metrics are computed from; an order still working is measured up to <paramref name="now"/>.</summary>
    public ExecutionTrace ToTrace(DateTimeOffset now)
    {
        var started = Order.StartedAt ?? Order.CreatedAt;
        var completed = Order.CompletedAt ?? (now > started ? now : started);

        // The end mid is the last one the order recorded, by when it was received (our clock, like completed_at): the
        // markout tail's samples, taken after the end, are not it.
        var end = Mids.LastOrDefault(m => m.Bid > 0 && m.Ask > 0 && m.ReceivedTime <= completed);
        return new ExecutionTrace
        {
            Side = Side,
            SizeType = Order.SizeType == "n" ? SizeType.Notional : SizeType.Quantity,
            Size = Order.Size,
            PriceExpected = Order.PriceExpected > 0 ? Order.PriceExpected : null,
            StartedAt = started,
            CompletedAt = completed,
            ArrivalMid = Order.ArrivalMid,
            EndMid = end is null ? null : (end.Bid + end.Ask) / 2m,
            QuoteAsset = SymbolAssets.QuoteAsset(Order.Symbol),
            Fills = [.. Fills.Select(f => new TraceFill(f.ExchangeTime, f.Price, f.Qty, f.Fee, f.IsMaker, f.FeeAsset))],
            Quotes = [.. Mids.Where(m => m.Bid > 0 && m.Ask > 0).OrderBy(m => m.ExchangeTime).Select(m => new TraceQuote(m.ExchangeTime, m.Bid, m.Ask))],

            // No recorded print means no tape was recorded (orders stored before market trades were), not a silent market.
            Tape = MarketTrades.Count > 0 ? [.. MarketTrades.OrderBy(t => t.ExchangeTime).Select(t => new TracePrint(t.ExchangeTime, t.Price, t.Qty))] : null,
            ChildOrders = Order.ChildOrders,
            Modifies = Order.Modifies,
            Cancels = Order.Cancels,
            PostOnlyRejects = Order.PostOnlyRejects,
            TickToOrderMicroseconds = [.. Events.Where(e => e.TickToOrderUs is not null).Select(e => e.TickToOrderUs!.Value)],
            HopMicroseconds = [.. Events.Where(e => e.HopUs is not null).Select(e => e.HopUs!.Value)],
            OrderRequestTimes = [.. Events.Where(e => e.Kind is "place" or "modify").Select(e => e.Time)],
        };
    }

    public ExecutionMetrics Metrics(DateTimeOffset now) => ExecutionMetrics.Compute(ToTrace(now));
}
