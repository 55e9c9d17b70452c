using System.Globalization;
using Chaser.Core.Ports;

namespace Chaser.Storage;

/// <summary>
/// The order store port over Chaser's database (SQLite or PostgreSQL): what executing stored orders and restart
/// recovery read and claim. Each call opens its own context, so one store serves concurrent callers.
/// </summary>
public sealed class OrderStore(string? connectionString = null) : IOrderStore
{
    private readonly string? _connectionString = connectionString;

    public Task<string> GetClientIdTagAsync(CancellationToken cancellationToken) => ChaserDb.ClientIdTagAsync(_connectionString, cancellationToken);

    public async Task<IReadOnlyList<StoredOrder>> GetAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var wanted = ids.Distinct().Order().ToArray();
        var rows = new List<OrderRow>(wanted.Length);
        foreach (var chunk in wanted.Chunk(500))
        {
            var list = string.Join(", ", chunk.Select((_, i) => "@p" + i.ToString(CultureInfo.InvariantCulture)));
            rows.AddRange(await PlainOrderRows.SelectAsync(_connectionString, $"id IN ({list})", [.. chunk.Cast<object>()], cancellationToken).ConfigureAwait(false));
        }

        return [.. rows.Select(Describe)];
    }

    public async Task<IReadOnlyList<StoredOrder>> GetWorkingAsync(CancellationToken cancellationToken)
    {
        var rows = await PlainOrderRows.SelectAsync(_connectionString, "status = @p0", [OrderStatus.Working], cancellationToken).ConfigureAwait(false);
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
