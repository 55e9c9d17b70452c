using Chaser.Core.Ports;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage;

/// <summary>
/// Claiming stored orders for execution, the one step that makes "each order runs once" hold across requests,
/// processes and hosts: a conditional update <c>new → working</c> per order (atomic in SQLite and PostgreSQL alike),
/// stamped with the venue and account. A batch is claimed whole or not at all, in one transaction: when any order is
/// not new, nothing is claimed and the refusal names the orders that were not.
/// </summary>
public static class OrderClaims
{
    public const string QueuedDetail = "queued: claimed for execution, waiting for its turn";

    public static async Task<IReadOnlyList<OrderRow>> ClaimAsync(this IQueryable<OrderRow> orders, IReadOnlyCollection<long> ids, string venue, string account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(ids);
        var db = ChaserDb.Owning(orders) ?? throw new ArgumentException("orders must be a query of ChaserDb.Orders", nameof(orders));
        var wanted = ids.Distinct().Order().ToArray();
        var notNew = new List<long>();

        // The first heartbeat: from here the claiming process says it is alive until the order is final.
        var now = DateTimeOffset.UtcNow;
        List<OrderRow> rows;

        // One transaction: a claim that fails midway (a dropped connection, a locked database) leaves nothing claimed,
        // and no other claim ever sees part of this batch, so an overlapping batch that is refused can't make a valid
        // one fail with it. Rows are updated in id order, so overlapping claims on PostgreSQL wait for each other in
        // one order and never deadlock; SQLite runs each claim whole (BEGIN IMMEDIATE).
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var id in wanted)
            {
                var updated = await orders.Where(o => o.Id == id && o.Status == OrderStatus.New).ExecuteUpdateAsync(
                    set => set
                        .SetProperty(o => o.Status, OrderStatus.Working)
                        .SetProperty(o => o.StatusDetail, QueuedDetail)
                        .SetProperty(o => o.Venue, venue)
                        .SetProperty(o => o.Account, account)
                        .SetProperty(o => o.HeartbeatAt, now),
                    cancellationToken).ConfigureAwait(false);
                if (updated == 0)
                {
                    notNew.Add(id);
                }
            }

            rows = notNew.Count == 0
                ? await orders.AsNoTracking().Where(o => wanted.Contains(o.Id)).OrderBy(o => o.Id).ToListAsync(cancellationToken).ConfigureAwait(false)
                : [];
            if (notNew.Count == 0)
            {
                // Not cancelable: a commit that went through must not be reported as a failed claim.
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        if (notNew.Count > 0)
        {
            var states = await orders.AsNoTracking().Where(o => wanted.Contains(o.Id)).Select(o => new { o.Id, o.Status })
                .ToDictionaryAsync(o => o.Id, o => o.Status, cancellationToken).ConfigureAwait(false);
            var refused = notNew.ToDictionary(
                id => id,
                id => states.TryGetValue(id, out var status)
                    ? $"order {id} is {status}; only new orders can be executed (an order is executed once)"
                    : $"no such order: {id}");
            throw new OrderClaimException(refused, refused.Keys.Any(id => !states.ContainsKey(id)));
        }

        return rows;
    }

    /// <summary>Cancels an order that was never claimed (<c>new → canceled</c>); false when it is not new any more.</summary>
    public static async Task<bool> CancelNewAsync(this IQueryable<OrderRow> orders, long id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(orders);
        return await orders.Where(o => o.Id == id && o.Status == OrderStatus.New).ExecuteUpdateAsync(
            set => set
                .SetProperty(o => o.Status, OrderStatus.Canceled)
                .SetProperty(o => o.StatusDetail, "canceled before it was executed")
                .SetProperty(o => o.CompletedAt, now),
            cancellationToken).ConfigureAwait(false) == 1;
    }
}
