using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;

namespace Chaser.Engine;

/// <summary>
/// Working orders kept in an order store (the library API the seed offered through Django, and what
/// <c>POST /api/orders/execute</c> does): check them, claim them once, work them concurrently until each is final.
/// <code>
/// var engine = new ExecutionEngine(connector, new StorageRecorder(connectionString),
///     options: new EngineOptions { ClientIdTag = await db.GetClientIdTagAsync() });
/// await engine.ExecuteStoredAsync(new OrderStore(connectionString), ids);   // returns when every one is final
/// </code>
/// </summary>
public static class StoredOrders
{
    /// <summary>
    /// Works the stored orders <paramref name="ids"/> name, concurrently, and returns when each is final. Every order is
    /// checked first (an unknown id, a bad row or an unknown symbol is refused, naming the order, and nothing is
    /// claimed); then the orders are claimed in one all-or-nothing step: an order that is not new, because it ran or
    /// runs already (here or in another process), is refused with <see cref="OrderClaimException"/> naming it. The
    /// engine must carry the store's client id tag (refused otherwise) and should record into the same database; what
    /// it recorded is flushed before this returns.
    /// </summary>
    public static async Task<IReadOnlyList<ExecutionResult>> ExecuteStoredAsync(this ExecutionEngine engine, IOrderStore store, IReadOnlyCollection<long> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ids);
        var orders = await store.GetAsync(ids, cancellationToken).ConfigureAwait(false);
        var missing = ids.Except(orders.Select(o => o.Id)).Order().ToArray();
        if (missing.Length > 0)
        {
            throw new OrderClaimException(missing.ToDictionary(id => id, id => $"no such order: {id}"), missing: true);
        }

        var specs = await CheckAsync(store, orders, engine, cancellationToken).ConfigureAwait(false);
        await store.ClaimAsync([.. orders.Select(o => o.Id)], engine.Options.Venue, engine.Options.Account, cancellationToken).ConfigureAwait(false);
        return await WorkClaimedAsync(engine, specs, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The parent orders stored orders describe, each checked against the exchange (known symbol, postable size):
    /// every order that is not new is refused at once (<see cref="OrderClaimException"/>), then the first other problem
    /// is an <see cref="ArgumentException"/> naming the order.
    /// </summary>
    public static async Task<IReadOnlyList<ParentOrderSpec>> CheckAsync(IOrderStore store, IReadOnlyList<StoredOrder> orders, ExecutionEngine engine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(engine);
        // Every order that is not new is named, as the claim itself names them: a caller learns the whole answer at once.
        var refused = orders.Where(o => !o.IsNew).ToDictionary(o => o.Id, o => $"order {o.Id} is {o.Status}; only new orders can be executed (an order is executed once)");
        if (refused.Count > 0)
        {
            throw new OrderClaimException(refused, missing: false);
        }

        // The store's orders must carry its tag, or a restart (recovery reads by tag) would not find them.
        var tag = await store.GetClientIdTagAsync(cancellationToken).ConfigureAwait(false);
        if (!string.Equals(tag, engine.ClientIdTag, StringComparison.Ordinal))
        {
            throw new ArgumentException($"engine: its client id tag '{engine.ClientIdTag}' is not the database's '{tag}'; build it with EngineOptions.ClientIdTag = await db.GetClientIdTagAsync()", nameof(engine));
        }

        var specs = orders.Select(o => o.Spec ?? throw new ArgumentException(o.Problem, nameof(orders))).ToList();
        foreach (var spec in specs)
        {
            var problem = await engine.ValidateAsync(spec, 0m, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                throw new ArgumentException($"order {spec.Id}: {problem}", nameof(orders));
            }
        }

        return specs;
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
            await engine.Recorder.FlushAsync(CancellationToken.None).ConfigureAwait(false);
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
