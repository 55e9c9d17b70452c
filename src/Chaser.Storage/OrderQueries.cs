using Chaser.Core.Domain;
using Chaser.Engine;
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
/// The library API the seed offered through Django: select stored orders with LINQ, work them, read them back.
/// <code>
/// var orders = db.Orders.Where(o => ids.Contains(o.Id));
/// await orders.ExecuteAsync(engine);        // works them all concurrently, returns when every one is final
/// var report = await orders.ReportAsync();  // post-trade metrics per order
/// </code>
/// </summary>
public static class OrderQueries
{
    /// <summary>
    /// Works every order the query selects, concurrently, and returns when each is final. Every order is checked
    /// first (a bad row or an unknown symbol is refused, naming the order, and nothing is claimed); then the orders are
    /// claimed for execution in one all-or-nothing step (<see cref="OrderClaims"/>): an order that is not new, because
    /// it ran or runs already (here or in another process), is refused with <see cref="OrderClaimException"/> naming
    /// it. The engine should record into the same database (a <see cref="StorageRecorder"/>) with the database's client
    /// id tag (refused otherwise); its rows are flushed before this returns.
    /// </summary>
    public static async Task<IReadOnlyList<ExecutionResult>> ExecuteAsync(this IQueryable<OrderRow> orders, ExecutionEngine engine, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(engine);
        var rows = await orders.AsNoTracking().OrderBy(o => o.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        var specs = await CheckAsync(rows, engine, cancellationToken).ConfigureAwait(false);
        await orders.ClaimAsync([.. rows.Select(r => r.Id)], engine.Options.Venue, engine.Options.Account, cancellationToken).ConfigureAwait(false);
        return await OrderClaims.WorkClaimedAsync(engine, specs, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The parent orders stored rows describe, each checked against the exchange (known symbol, postable size);
    /// the first problem is an <see cref="ArgumentException"/> naming the order.
    /// </summary>
    public static async Task<IReadOnlyList<ParentOrderSpec>> CheckAsync(IReadOnlyList<OrderRow> rows, ExecutionEngine engine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(engine);
        // Every order that is not new is named, as the claim itself names them: a caller learns the whole answer at once.
        var refused = rows.Where(r => r.Status != OrderStatus.New).ToDictionary(r => r.Id, r => $"order {r.Id} is {r.Status}; only new orders can be executed (an order is executed once)");
        if (refused.Count > 0)
        {
            throw new OrderClaimException(refused, missing: false);
        }

        if (engine.Recorder is StorageRecorder recording)
        {
            // Orders of this database must carry its tag, or a restart (recovery reads by tag) would not find them.
            var tag = await recording.GetClientIdTagAsync(cancellationToken).ConfigureAwait(false);
            if (!string.Equals(tag, engine.ClientIdTag, StringComparison.Ordinal))
            {
                throw new ArgumentException($"engine: its client id tag '{engine.ClientIdTag}' is not the database's '{tag}'; build it with EngineOptions.ClientIdTag = await db.GetClientIdTagAsync()", nameof(engine));
            }
        }

        var specs = rows.Select(ToSpec).ToList();
        foreach (var spec in specs)
        {
            var problem = await engine.ValidateAsync(spec, 0m, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                throw new ArgumentException($"order {spec.Id}: {problem}", nameof(rows));
            }
        }

        return specs;
    }

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
