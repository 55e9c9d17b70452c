using Chaser.Core.Chasing;
using Chaser.Core.Ports;

namespace Chaser.Engine;

/// <summary>
/// What a restart found and did. <see cref="OtherVenues"/> are orders left working on another venue or account than
/// the one connected: they are not touched (their truth is on that exchange) and are named so that someone acts.
/// </summary>
public sealed record RecoveryReport(int Orders, int OrphansCanceled, int FillsRestored)
{
    public IReadOnlyList<string> OtherVenues { get; init; } = [];
}

/// <summary>
/// On start, every parent order the tables still call <c>working</c> was cut off by a crash. The exchange is the
/// source of truth: our open child orders on those symbols are canceled (no orphan keeps resting), each parent's
/// children and their trades are read back (allOrders + userTrades by the client ids <c>chs-&lt;tag&gt;-&lt;parent&gt;-…</c>, this database's tag only), the
/// missing fills are stored (fills are keyed by trade id, so nothing is counted twice), and the parent is finalised
/// with totals recomputed from the exchange: <c>filled</c> when the chaser would have called the target reached
/// (something executed and the remainder can't be posted), otherwise <c>canceled</c> ("interrupted by a restart"), so
/// that it can be re-submitted as a new order for the remainder. Only orders claimed for the venue and account this
/// process is connected to are reconciled: the exchange of another venue knows nothing of them.
/// </summary>
public static class RestartRecovery
{
    /// <summary>How long after its last heartbeat an order counts as abandoned: several heartbeats missed.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Reconciles the store's working orders of <paramref name="venue"/> and <paramref name="account"/> with the
    /// exchange; restored fills and the final rows go through <paramref name="recorder"/> (the store's own), flushed
    /// before this returns.
    /// </summary>
    public static async Task<RecoveryReport> RecoverAsync(IOrderStore store, IExecutionRecorder recorder, IExchangeConnector connector, IExchangeHistory history, string venue, string account, Action<string>? diagnostics = null, TimeSpan? lease = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(history);
        time ??= TimeProvider.System;
        var all = await store.GetWorkingAsync(cancellationToken).ConfigureAwait(false);

        // Only this database's orders are ours: another one on the same account uses the same parent ids.
        var tag = await store.GetClientIdTagAsync(cancellationToken).ConfigureAwait(false);

        var working = all.Where(o => o.Venue == venue && o.Account == account).ToList();
        var others = all.Except(working)
            .Select(o => $"order {o.Id} ({o.Symbol}) is working on {(o.Venue is null ? "an unrecorded venue" : o.Venue)}{(o.Account is { Length: > 0 } a && o.Venue == venue ? $" account {a}" : "")}; not reconciled here")
            .ToList();

        // An order whose heartbeat is fresh may be worked by a live process (a `chaser execute` on the same database):
        // wait out its lease, and leave alone every one whose heartbeat went on meanwhile.
        var live = await StillAliveAsync(store, working, lease ?? DefaultLease, diagnostics, time, cancellationToken).ConfigureAwait(false);
        working.RemoveAll(o => live.Contains(o.Id));
        others.AddRange(live.Order().Select(id => $"order {id} is worked by another live process (its heartbeat goes on); not reconciled here"));
        foreach (var other in others)
        {
            diagnostics?.Invoke(other);
        }

        if (working.Count == 0)
        {
            return new RecoveryReport(0, 0, 0) { OtherVenues = others };
        }

        var orphans = 0;
        foreach (var symbol in working.Select(o => o.Symbol).Distinct())
        {
            var before = await CountOpenAsync(history, tag, working.Where(o => o.Symbol == symbol), cancellationToken).ConfigureAwait(false);
            await connector.CancelAllAsync(symbol, tag, cancellationToken).ConfigureAwait(false);
            orphans += before;
        }

        var restored = 0;
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
            var spec = order.Spec ?? throw new ArgumentException(order.Problem, nameof(store));
            var filledQuantity = fills.Sum(f => f.Quantity);
            var filledNotional = fills.Sum(f => f.Quantity * f.Price);
            var rules = await connector.GetSymbolRulesAsync(order.Symbol, cancellationToken).ConfigureAwait(false);
            var lastPrice = fills.Count > 0 ? fills.MaxBy(f => f.ExchangeTime)!.Price : 0m;
            var done = ChaserStateMachine.TargetReached(spec, rules, filledQuantity, filledNotional, lastPrice);
            recorder.OrderCompleted(new ExecutionResult
            {
                Spec = spec,
                Status = done ? FinishReason.Filled : FinishReason.Canceled,
                Detail = done ? "target reached (recovered after a restart)"
                    : children.Count == 0 ? "interrupted by a restart before anything was sent; re-submit it as a new order"
                    : $"interrupted by a restart; finalised from the exchange with {filledQuantity} filled",
                FilledQuantity = filledQuantity,
                FilledNotional = filledNotional,
                Fees = fills.Sum(f => f.Fee),
                ArrivalMid = order.ArrivalMid,
                StartedAt = order.StartedAt ?? order.CreatedAt,
                CompletedAt = time.GetUtcNow(),
                ChildOrders = children.Count,
                Fills = [],
            });
            diagnostics?.Invoke($"recovered order {order.Id}: {children.Count} child order(s), {fills.Count} fill(s), {filledQuantity} filled");
        }

        await recorder.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new RecoveryReport(working.Count, orphans, restored) { OtherVenues = others };
    }

    /// <summary>The orders among <paramref name="working"/> that another process keeps alive (or finished) while their lease runs out.</summary>
    private static async Task<HashSet<long>> StillAliveAsync(IOrderStore store, List<StoredOrder> working, TimeSpan lease, Action<string>? diagnostics, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var fresh = working.Where(o => o.HeartbeatAt is { } beat && now - beat < lease).ToDictionary(o => o.Id, o => o.HeartbeatAt!.Value);
        if (fresh.Count == 0)
        {
            return [];
        }

        var wait = fresh.Values.Max() + lease - now;
        diagnostics?.Invoke($"recovery: {fresh.Count} order(s) had a heartbeat less than {lease.TotalSeconds:0} s ago; waiting {wait.TotalSeconds:0.0} s to see whether a live process works them");
        await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);

        var later = await store.GetAsync(fresh.Keys, cancellationToken).ConfigureAwait(false);
        return [.. later.Where(o => !o.IsWorking || o.HeartbeatAt > fresh[o.Id]).Select(o => o.Id)];
    }

    private static async Task<int> CountOpenAsync(IExchangeHistory history, string tag, IEnumerable<StoredOrder> orders, CancellationToken cancellationToken)
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
