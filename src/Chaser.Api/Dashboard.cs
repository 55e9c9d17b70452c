using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Chaser.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Api;

/// <summary>One parent order as the dashboard shows it live: stored state overlaid with the engine's progress.</summary>
public sealed record LiveOrder(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("symbol")] string Symbol,
    [property: JsonPropertyName("side")] int Side,
    [property: JsonPropertyName("size")] decimal Size,
    [property: JsonPropertyName("size_type")] string SizeType,
    [property: JsonPropertyName("strategy")] string Strategy,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("status_detail")] string? StatusDetail,
    [property: JsonPropertyName("filled_qty")] decimal FilledQty,
    [property: JsonPropertyName("filled_notional")] decimal FilledNotional,
    [property: JsonPropertyName("progress")] decimal Progress,
    [property: JsonPropertyName("avg_price")] decimal? AvgPrice,
    [property: JsonPropertyName("resting_price")] decimal? RestingPrice,
    [property: JsonPropertyName("best_price")] decimal? BestPrice,
    [property: JsonPropertyName("mid")] decimal? Mid,
    [property: JsonPropertyName("arrival_mid")] decimal? ArrivalMid,
    [property: JsonPropertyName("fills")] int? Fills,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt)
{
    /// <summary>Cost against the arrival mid in basis points (positive = cost); null before the first fill.</summary>
    [JsonPropertyName("slippage_bps")]
    public decimal? SlippageBps => AvgPrice is { } average && ArrivalMid is > 0
        ? Math.Round(Side * (average - ArrivalMid.Value) / ArrivalMid.Value * 10_000m, 4)
        : null;

    /// <summary>For a queued order, the order right in front of it in its symbol and side's queue.</summary>
    [JsonPropertyName("queued_behind")]
    public long? QueuedBehind { get; init; }
}

/// <summary>
/// The dashboard at <c>/</c>: a static page (HTML, JS, CSS embedded in this assembly, no CDN) that reads the API with
/// the bearer token the user pastes (kept in the page's memory only) and follows <c>GET /api/stream</c>, a
/// server-sent event stream of the recent orders with live progress. The page itself carries no data, so it is served
/// without the token; every data route still needs it.
/// </summary>
internal static class Dashboard
{
    /// <summary>The dashboard's status of a claimed order still waiting for its turn (stored as working).</summary>
    public const string Queued = "queued";

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private static readonly Assembly Assembly = typeof(Dashboard).Assembly;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    /// <summary>Static paths served without the token.</summary>
    public static bool IsPublic(PathString path) =>
        path == "/" || path == "/favicon.ico" || path.StartsWithSegments("/assets", StringComparison.Ordinal);

    public static void Map(WebApplication app)
    {
        app.MapGet("/", () => Asset("index.html", "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/favicon.ico", () => Asset("favicon.svg", "image/svg+xml")).ExcludeFromDescription();
        app.MapGet("/assets/{name}", (string name) => Asset(name, Path.GetExtension(name) switch
        {
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            _ => "application/octet-stream",
        })).ExcludeFromDescription();
    }

    private static IResult Asset(string name, string contentType)
    {
        using var stream = Assembly.GetManifestResourceStream("dashboard/" + name);
        if (stream is null)
        {
            return Results.NotFound();
        }

        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Results.Bytes(copy.ToArray(), contentType);
    }

    /// <summary>
    /// Snapshots of the latest orders every 250 ms, sent only when something changed (and a keep-alive comment
    /// otherwise, every 15 s, so proxies keep the connection open).
    /// </summary>
    public static async IAsyncEnumerable<System.Net.ServerSentEvents.SseItem<string>> StreamAsync(ApiOptions options, int limit, [EnumeratorCancellation] CancellationToken ct)
    {
        string? last = null;
        var lastSent = DateTime.UtcNow;
        while (!ct.IsCancellationRequested)
        {
            string json;
            try
            {
                json = JsonSerializer.Serialize(await SnapshotAsync(options, limit, ct).ConfigureAwait(false), Json);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            if (json != last)
            {
                last = json;
                lastSent = DateTime.UtcNow;
                yield return new System.Net.ServerSentEvents.SseItem<string>(json, "orders");
            }
            else if (DateTime.UtcNow - lastSent > KeepAlive)
            {
                lastSent = DateTime.UtcNow;
                yield return new System.Net.ServerSentEvents.SseItem<string>("{}", "keepalive");
            }

            try
            {
                await Task.Delay(Tick, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    public static async Task<IReadOnlyList<LiveOrder>> SnapshotAsync(ApiOptions options, int limit, CancellationToken ct)
    {
        await using var db = new ChaserDb(options.Database);
        var rows = await db.Orders.AsNoTracking().OrderByDescending(o => o.Id).Take(limit)
            .Select(o => new { Order = o, Fills = o.Fills.Count }).ToListAsync(ct).ConfigureAwait(false);
        var live = options.Engine.Progress;
        var queued = options.Engine.Queued;
        return [.. rows.Select(r =>
        {
            var o = r.Order;
            if (queued.TryGetValue(o.Id, out var place) && !OrderStatus.IsFinal(o.Status))
            {
                // Claimed, but waiting for the order in front of it on its symbol and side: nothing on the exchange yet.
                var detail = place.Ahead == 1 ? $"queued behind #{place.Behind}" : $"queued behind #{place.Behind} ({place.Ahead} orders ahead)";
                return new LiveOrder(o.Id, o.Symbol, o.Side, o.Size, o.SizeType, o.Strategy, Queued, detail, 0m, 0m, 0m, null, null, null, null, null, 0, o.CreatedAt)
                {
                    QueuedBehind = place.Behind,
                };
            }

            if (live.TryGetValue(o.Id, out var p) && !OrderStatus.IsFinal(o.Status))
            {
                // Working now: the engine's numbers are fresher than the stored row.
                var average = p.FilledQuantity > 0 ? p.FilledNotional / p.FilledQuantity : (decimal?)null;
                return new LiveOrder(o.Id, o.Symbol, o.Side, o.Size, o.SizeType, o.Strategy, OrderStatus.Working, null, p.FilledQuantity, p.FilledNotional,
                    Fraction(o, p.FilledQuantity, p.FilledNotional), average, p.RestingPrice, p.BestPrice > 0 ? p.BestPrice : null,
                    p.Mid > 0 ? p.Mid : null, p.ArrivalMid > 0 ? p.ArrivalMid : null, p.Fills, o.CreatedAt);
            }

            // Claimed but not started: our engine holds it at the head of its queue (connecting, subscribing), or it
            // waits in another process's queue or for the hand-over to ours, as the claim wrote.
            var (status, statusDetail) = (o.Status, o.StatusDetail) switch
            {
                (OrderStatus.Working, OrderClaims.QueuedDetail) when options.Engine.Holds(o.Id) => (OrderStatus.Working, "starting"),
                (OrderStatus.Working, OrderClaims.QueuedDetail) => (Queued, o.StatusDetail),
                _ => (o.Status, o.StatusDetail),
            };
            return new LiveOrder(o.Id, o.Symbol, o.Side, o.Size, o.SizeType, o.Strategy, status, statusDetail, o.FilledQty, o.FilledNotional,
                Fraction(o, o.FilledQty, o.FilledNotional), o.FilledQty > 0 ? o.AvgPrice : null, null, null, null,
                o.ArrivalMid > 0 ? o.ArrivalMid : null, r.Fills, o.CreatedAt);
        })];
    }

    private static decimal Fraction(OrderRow order, decimal quantity, decimal notional) =>
        order.Size > 0 ? Math.Round((order.SizeType == "n" ? notional : quantity) / order.Size, 6) : 0m;
}
