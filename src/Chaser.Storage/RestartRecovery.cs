using Chaser.Core.Chasing;
using Chaser.Core.Ports;
using Chaser.Engine;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage;

/// <summary>What a restart found and did.</summary>
public sealed record RecoveryReport(int Orders, int OrphansCanceled, int FillsRestored);

/// <summary>
/// On start, every parent order the tables still call <c>working</c> was cut off by a crash. The exchange is the
/// source of truth: our open child orders on those symbols are canceled (no orphan keeps resting), each parent's
/// children and their trades are read back (allOrders + userTrades by the client ids <c>chs-&lt;tag&gt;-&lt;parent&gt;-…</c>, this database's tag only), the
/// missing fills are stored (fills are keyed by trade id, so nothing is counted twice), and the parent is finalised
/// with totals recomputed from the exchange: <c>filled</c> when nothing postable remains, otherwise <c>canceled</c>
/// ("interrupted by a restart"), so that it can be re-submitted as a new order for the remainder.
/// </summary>
public static class RestartRecovery
{
    public static async Task<RecoveryReport> RecoverAsync(string database, IExchangeConnector connector, IExchangeHistory history, Action<string>? diagnostics = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(history);
        List<OrderRow> working;
        string tag;
        await using (var db = new ChaserDb(database))
        {
            working = await db.Orders.AsNoTracking().Where(o => o.Status == OrderStatus.Working).ToListAsync(cancellationToken).ConfigureAwait(false);

            // Only this database's orders are ours: another one on the same account uses the same parent ids.
            tag = await db.GetClientIdTagAsync(cancellationToken).ConfigureAwait(false);
        }

        if (working.Count == 0)
        {
            return new RecoveryReport(0, 0, 0);
        }

        var orphans = 0;
        foreach (var symbol in working.Select(o => o.Symbol).Distinct())
        {
            var before = await CountOpenAsync(history, tag, working.Where(o => o.Symbol == symbol), cancellationToken).ConfigureAwait(false);
            await connector.CancelAllAsync(symbol, tag, cancellationToken).ConfigureAwait(false);
            orphans += before;
        }

        var restored = 0;
        await using var recorder = new StorageRecorder(database, diagnostics);
        foreach (var order in working)
        {
            var since = (order.StartedAt ?? order.CreatedAt) - TimeSpan.FromMinutes(1);
            var children = await history.GetChildHistoryAsync(order.Symbol, tag, order.Id, since, cancellationToken).ConfigureAwait(false);
            var fills = children.SelectMany(c => c.Fills).GroupBy(f => f.TradeId).Select(g => g.First()).ToList();
            foreach (var fill in fills)
            {
                recorder.Fill(new FillRecord(order.Id, fill.ClientOrderId, fill.TradeId, fill.Price, fill.Quantity, fill.Fee, fill.FeeAsset, fill.IsMaker, fill.ExchangeTime, fill.Time));
            }

            restored += fills.Count;
            var spec = OrderQueries.ToSpec(order);
            var filledQuantity = fills.Sum(f => f.Quantity);
            var filledNotional = fills.Sum(f => f.Quantity * f.Price);
            var remaining = spec.SizeType == Core.Domain.SizeType.Notional ? spec.Size - filledNotional : spec.Size - filledQuantity;
            var done = remaining <= 0;
            recorder.OrderCompleted(new ExecutionResult
            {
                Spec = spec,
                Status = done ? FinishReason.Filled : FinishReason.Canceled,
                Detail = done ? "target reached (recovered after a restart)" : $"interrupted by a restart; finalised from the exchange with {filledQuantity} filled",
                FilledQuantity = filledQuantity,
                FilledNotional = filledNotional,
                Fees = fills.Sum(f => f.Fee),
                ArrivalMid = order.ArrivalMid,
                StartedAt = order.StartedAt ?? order.CreatedAt,
                CompletedAt = DateTimeOffset.UtcNow,
                ChildOrders = children.Count,
                Fills = [],
            });
            diagnostics?.Invoke($"recovered order {order.Id}: {children.Count} child order(s), {fills.Count} fill(s), {filledQuantity} filled");
        }

        await recorder.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new RecoveryReport(working.Count, orphans, restored);
    }

    private static async Task<int> CountOpenAsync(IExchangeHistory history, string tag, IEnumerable<OrderRow> orders, CancellationToken cancellationToken)
    {
        var open = 0;
        foreach (var order in orders)
        {
            var children = await history.GetChildHistoryAsync(order.Symbol, tag, order.Id, (order.StartedAt ?? order.CreatedAt) - TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);
            open += children.Count(c => c.Status is ExchangeOrderStatus.New or ExchangeOrderStatus.PartiallyFilled);
        }

        return open;
    }
}
