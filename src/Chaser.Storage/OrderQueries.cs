using Chaser.Core.Domain;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage;

/// <summary>Post-trade figures of one stored parent order (the seed's <c>orders.df()</c> row).</summary>
public sealed record OrderReport(
    long Id,
    string Symbol,
    int Side,
    decimal Size,
    string SizeType,
    string Strategy,
    string Status,
    decimal FilledQty,
    decimal FilledNotional,
    decimal AvgPrice,
    decimal ArrivalMid,
    decimal? Slippage,
    decimal? SlippageBps,
    decimal? SlippageVsExpected,
    decimal Fees,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    TimeSpan? Duration,
    int ChildOrders,
    int Fills);

/// <summary>
/// The library API the seed offered through Django: select stored orders with LINQ and read them back; working them
/// is the engine's (<c>engine.ExecuteStoredAsync(new OrderStore(connectionString), ids)</c>).
/// <code>
/// var orders = db.Orders.Where(o => ids.Contains(o.Id));
/// var report = await orders.ReportAsync();  // post-trade metrics per order
/// </code>
/// </summary>
public static class OrderQueries
{
    /// <summary>Per-order figures from the stored rows: slippage against the arrival mid and against price_expected, signed so positive is a cost.</summary>
    public static async Task<IReadOnlyList<OrderReport>> ReportAsync(this IQueryable<OrderRow> orders, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(orders);
        var rows = await orders.AsNoTracking()
            .Select(o => new { Order = o, Fills = o.Fills.Count })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. rows.OrderBy(r => r.Order.Id).Select(r => Report(r.Order, r.Fills))];
    }

    /// <summary>The orders matching every filter given (a null filter matches all): ids, strategy, created since.</summary>
    public static IQueryable<OrderRow> Matching(this IQueryable<OrderRow> orders, IReadOnlyCollection<long>? ids = null, string? strategy = null, DateTimeOffset? since = null)
    {
        ArgumentNullException.ThrowIfNull(orders);
        if (ids is not null)
        {
            orders = orders.Where(o => ids.Contains(o.Id));
        }

        if (strategy is not null)
        {
            orders = orders.Where(o => o.Strategy == strategy);
        }

        if (since is { } from)
        {
            orders = orders.Where(o => o.CreatedAt >= from);
        }

        return orders;
    }

    /// <summary>An order's own re-price interval as the row keeps it (whole milliseconds).</summary>
    public static long? ToIntervalMs(TimeSpan? interval) => interval is { } value ? (long)value.TotalMilliseconds : null;

    /// <summary>The parent order a stored row describes; every bad value is named.</summary>
    public static ParentOrderSpec ToSpec(OrderRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var sizeType = row.SizeType switch
        {
            "n" => SizeType.Notional,
            "q" => SizeType.Quantity,
            _ => throw new ArgumentException($"order {row.Id}: size_type must be 'n' (notional) or 'q' (quantity), got '{row.SizeType}'", nameof(row)),
        };
        var side = row.Side switch
        {
            1 => Side.Buy,
            -1 => Side.Sell,
            _ => throw new ArgumentException($"order {row.Id}: side must be 1 (buy) or -1 (sell), got {row.Side}", nameof(row)),
        };
        var onDeadline = row.DeadlineAction switch
        {
            "cancel" => DeadlineAction.CancelAndExpire,
            "take" => DeadlineAction.TakeRemainder,
            _ => throw new ArgumentException($"order {row.Id}: deadline_action must be 'cancel' or 'take', got '{row.DeadlineAction}'", nameof(row)),
        };
        if (row.Strategy is null || row.Strategy.Length > ParentOrderSpec.MaxStrategyLength)
        {
            throw new ArgumentException($"order {row.Id}: strategy must be at most {ParentOrderSpec.MaxStrategyLength} characters", nameof(row));
        }

        if (row.PriceExpected < 0)
        {
            throw new ArgumentException($"order {row.Id}: price_expected must be zero or more, got {row.PriceExpected}", nameof(row));
        }

        if (row.MinRepriceIntervalMs is < 0 or > ParentOrderSpec.MaxMinRepriceIntervalMs)
        {
            throw new ArgumentException($"order {row.Id}: min_reprice_interval_ms must be from 0 to {ParentOrderSpec.MaxMinRepriceIntervalMs}, got {row.MinRepriceIntervalMs}", nameof(row));
        }

        if (row.TimeLimitMs is <= 0)
        {
            throw new ArgumentException($"order {row.Id}: time_limit_ms must be positive, got {row.TimeLimitMs}", nameof(row));
        }

        try
        {
            // Every field the order is worked by: restart recovery and execute run it exactly as it was stored.
            return new ParentOrderSpec(row.Id, row.Symbol, side, sizeType, row.Size)
            {
                ReduceOnly = row.ReduceOnly,
                Deadline = row.Deadline,
                TimeLimit = row.TimeLimitMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
                OnDeadline = onDeadline,
                Strategy = row.Strategy,
                PriceExpected = row.PriceExpected,
                MinRepriceInterval = row.MinRepriceIntervalMs is { } interval ? TimeSpan.FromMilliseconds(interval) : null,
            };
        }
        catch (ArgumentException e)
        {
            // What the spec itself refuses (a zero size, an empty symbol) names the order too: one of a batch of ids.
            throw new ArgumentException($"order {row.Id}: {ReasonOf(e)}", nameof(row), e);
        }
    }

    /// <summary>An argument exception's reason, without the parameter name and value .NET appends to its message.</summary>
    internal static string ReasonOf(ArgumentException e) => e.Message.Split(" (Parameter", 2)[0];

    private static OrderReport Report(OrderRow o, int fills)
    {
        decimal? slippage = o.FilledQty > 0 && o.ArrivalMid > 0 ? o.Side * (o.AvgPrice - o.ArrivalMid) / o.ArrivalMid : null;
        decimal? versusExpected = o.FilledQty > 0 && o.PriceExpected > 0 ? o.Side * (o.AvgPrice - o.PriceExpected) / o.PriceExpected : null;
        return new OrderReport(
            o.Id, o.Symbol, o.Side, o.Size, o.SizeType, o.Strategy, o.Status, o.FilledQty, o.FilledNotional, o.AvgPrice, o.ArrivalMid,
            slippage, slippage * 10_000m, versusExpected, o.Fees, o.StartedAt, o.CompletedAt,
            o.StartedAt is { } s && o.CompletedAt is { } c ? c - s : null,
            o.ChildOrders, fills);
    }
}
