using Chaser.Core.Ports;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage;

/// <summary>
/// The order store port over Chaser's database (SQLite or PostgreSQL): what executing stored orders and restart
/// recovery read and claim. Each call opens its own context, so one store serves concurrent callers.
/// </summary>
public sealed class OrderStore(string? connectionString = null) : IOrderStore
{
    private readonly string? _connectionString = connectionString;

    public async Task<string> GetClientIdTagAsync(CancellationToken cancellationToken)
    {
        await using var db = new ChaserDb(_connectionString);
        return await db.GetClientIdTagAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<StoredOrder>> GetAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var wanted = ids.Distinct().ToArray();
        await using var db = new ChaserDb(_connectionString);
        var rows = await db.Orders.AsNoTracking().Where(o => wanted.Contains(o.Id)).OrderBy(o => o.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(Describe)];
    }

    public async Task<IReadOnlyList<StoredOrder>> GetWorkingAsync(CancellationToken cancellationToken)
    {
        await using var db = new ChaserDb(_connectionString);
        var rows = await db.Orders.AsNoTracking().Where(o => o.Status == OrderStatus.Working).OrderBy(o => o.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(Describe)];
    }

    public async Task ClaimAsync(IReadOnlyCollection<long> ids, string venue, string account, CancellationToken cancellationToken)
    {
        await using var db = new ChaserDb(_connectionString);
        await db.Orders.ClaimAsync(ids, venue, account, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A stored row as the port describes it; a row that can't be worked carries the reason instead of a spec.</summary>
    public static StoredOrder Describe(OrderRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        Core.Domain.ParentOrderSpec? spec = null;
        string? problem = null;
        try
        {
            spec = OrderQueries.ToSpec(row);
        }
        catch (ArgumentException e)
        {
            problem = OrderQueries.ReasonOf(e);
        }

        return new StoredOrder
        {
            Id = row.Id,
            Symbol = row.Symbol,
            Status = row.Status,
            IsNew = row.Status == OrderStatus.New,
            IsWorking = row.Status == OrderStatus.Working,
            Spec = spec,
            Problem = problem,
            Venue = row.Venue,
            Account = row.Account,
            CreatedAt = row.CreatedAt,
            StartedAt = row.StartedAt,
            HeartbeatAt = row.HeartbeatAt,
            ArrivalMid = row.ArrivalMid,
        };
    }
}
