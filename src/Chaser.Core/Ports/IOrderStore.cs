using Chaser.Core.Domain;

namespace Chaser.Core.Ports;

/// <summary>
/// A parent order as the store keeps it: what executing it and recovering it after a restart read. <see cref="Spec"/>
/// is the order as it is worked; a stored row that can't be worked (a bad value written past the checks) has none, and
/// <see cref="Problem"/> names the field and the reason.
/// </summary>
public sealed record StoredOrder
{
    public required long Id { get; init; }

    public required string Symbol { get; init; }

    /// <summary>The stored status (new, working, filled, canceled, failed, expired), for messages.</summary>
    public required string Status { get; init; }

    /// <summary>Not claimed yet: the only state an order is executed from.</summary>
    public bool IsNew { get; init; }

    /// <summary>Claimed and not final: queued or worked by some process, or cut off by a crash.</summary>
    public bool IsWorking { get; init; }

    public ParentOrderSpec? Spec { get; init; }

    public string? Problem { get; init; }

    /// <summary>The venue and account it was claimed for; null while new.</summary>
    public string? Venue { get; init; }

    public string? Account { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the process working it last said it is alive.</summary>
    public DateTimeOffset? HeartbeatAt { get; init; }

    public decimal ArrivalMid { get; init; }
}

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
/// Where parent orders are kept, as the engine's services (execute stored orders, restart recovery) use it: read them,
/// claim them for execution once. A port: storage implements it (SQLite, PostgreSQL); what the orders do while they
/// work goes through <see cref="IExecutionRecorder"/>.
/// </summary>
public interface IOrderStore
{
    /// <summary>The tag inside the client order ids of this store's orders (a restart recognises its own orders by it).</summary>
    Task<string> GetClientIdTagAsync(CancellationToken cancellationToken);

    /// <summary>The stored orders among <paramref name="ids"/>, in id order; an id that names no order is left out.</summary>
    Task<IReadOnlyList<StoredOrder>> GetAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken);

    /// <summary>Every order the store still calls working, in id order.</summary>
    Task<IReadOnlyList<StoredOrder>> GetWorkingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Claims the orders for execution on a venue and account, atomically across processes: each goes
    /// <c>new → working</c> (queued), all of them or none. Refused with <see cref="OrderClaimException"/> naming every
    /// order that is missing or not new, and then nothing is claimed.
    /// </summary>
    Task ClaimAsync(IReadOnlyCollection<long> ids, string venue, string account, CancellationToken cancellationToken);
}
