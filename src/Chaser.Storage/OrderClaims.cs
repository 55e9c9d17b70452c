using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Engine;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage;

/// <summary>Orders that could not be claimed for execution: each id with the reason (missing, or not new).</summary>
public sealed class OrderClaimException(IReadOnlyDictionary<long, string> refused, bool missing)
    : InvalidOperationException(string.Join("; ", refused.OrderBy(r => r.Key).Select(r => r.Value)))
{
    /// <summary>Every id that was refused, with its reason.</summary>
    public IReadOnlyDictionary<long, string> Refused { get; } = refused;

    /// <summary>True when at least one id names no stored order (a 404 rather than a 409).</summary>
    public bool Missing { get; } = missing;
}

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

    /// <summary>
    /// Works claimed orders concurrently until each is final. An order the engine refuses (it already holds the id)
    /// ends failed with the reason, recorded, instead of staying claimed; the others go on.
    /// </summary>
    public static async Task<ExecutionResult[]> WorkClaimedAsync(ExecutionEngine engine, IEnumerable<ParentOrderSpec> claimed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        try
        {
            return await Task.WhenAll(claimed.Select(spec => WorkOneAsync(engine, spec, cancellationToken))).ConfigureAwait(false);
        }
        finally
        {
            // Whatever happened to the orders, what was recorded of them reaches the database.
            if (engine.Recorder is StorageRecorder storage)
            {
                await storage.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private static async Task<ExecutionResult> WorkOneAsync(ExecutionEngine engine, ParentOrderSpec spec, CancellationToken cancellationToken)
    {
        try
        {
            return await engine.ExecuteAsync(spec, cancellationToken).ConfigureAwait(false);
        }
        catch (OrderAlreadyHeldException e)
        {
            var now = engine.Time.GetUtcNow();
            var result = new ExecutionResult { Spec = spec, Status = FinishReason.Failed, Detail = e.Message, StartedAt = now, CompletedAt = now };
            engine.Recorder.OrderCompleted(result);
            return result;
        }
    }
}
