using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Engine;
using Chaser.Reporting;
using Chaser.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi;

namespace Chaser.Api;

/// <summary>How the HTTP API runs: its database, the engine that works orders, and the hash of its bearer token.</summary>
public sealed record ApiOptions
{
    public required string Database { get; init; }

    public required ExecutionEngine Engine { get; init; }

    /// <summary>SHA-256 of the bearer token; the token itself is never kept.</summary>
    public required byte[] TokenHash { get; init; }

    public long MaxRequestBodyBytes { get; init; } = 1 << 20;

    public int RequestsPerMinute { get; init; } = 1_200;

    /// <summary>Receives diagnostics (background executions that failed); never a secret.</summary>
    public Action<string>? Diagnostics { get; init; }

    public static byte[] HashToken(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>
    /// Orders an execute of this host is claiming or handing to the engine (how many requests each), so that a cancel
    /// in that moment knows the order is ours: the venue and account stamped on a claim are shared by every process
    /// that trades the same account, so they can't tell.
    /// </summary>
    internal ConcurrentDictionary<long, int> Handing { get; } = new();
}

/// <summary>
/// The HTTP API: create parent orders, execute them concurrently, read them back with their fills, mids, child orders
/// and decisions, cancel, and report — every request authenticated with <c>Authorization: Bearer &lt;token&gt;</c>,
/// rate-limited and size-limited, errors as RFC 7807 problem details naming the field.
/// </summary>
public static class ChaserApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    /// <summary>What a 503 for a busy or unreachable database asks the client to wait.</summary>
    private const int DatabaseRetryAfterSeconds = 2;

    private const int MaxLogLine = 1_000;

    /// <summary>Registers the API's services on a builder (auth, limits, OpenAPI).</summary>
    public static void AddChaserApi(this WebApplicationBuilder builder, ApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        builder.Services.AddSingleton(options);
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi(ApiDocument.Configure);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        });
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;

            // The client holding the token has its own budget: requests without it (or with a wrong one) are counted
            // per address in another, so a local process flooding bad tokens cannot lock the real client out.
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                RateLimitPartition.GetFixedWindowLimiter(
                    Authorized(context.Request, options.TokenHash) ? "client" : "anonymous " + (context.Connection.RemoteIpAddress?.ToString() ?? "local"),
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = options.RequestsPerMinute, Window = RateWindow }));
            limiter.OnRejected = async (rejected, ct) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : RateWindow;
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await Results.Problem(
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Too many requests",
                    detail: $"more than {options.RequestsPerMinute} requests a minute; retry after {seconds} s").ExecuteAsync(rejected.HttpContext);
            };
        });
    }

    /// <summary>Maps the middleware and routes.</summary>
    public static void MapChaserApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<ApiOptions>();
        app.Use((context, next) => ProblemsForFailures(context, next, options));
        app.UseRateLimiter();
        app.Use(async (context, next) =>
        {
            // Kestrel enforces MaxRequestBodySize while the body is read (then ProblemsForFailures answers 413); a
            // declared length over it is refused before anything is read, on any server.
            if (context.Request.ContentLength > options.MaxRequestBodyBytes)
            {
                await TooLarge(options).ExecuteAsync(context);
                return;
            }

            await next(context);
        });
        app.Use(async (context, next) =>
        {
            if (!Dashboard.IsPublic(context.Request.Path) && !Authorized(context.Request, options.TokenHash))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await Results.Problem(statusCode: 401, title: "Unauthorized", detail: "send Authorization: Bearer <token> (the token `chaser serve` printed, or CHASER_API_TOKEN)").ExecuteAsync(context);
                return;
            }

            await next(context);
        });

        app.Use(async (context, next) =>
        {
            // Everything the dashboard loads comes from here: no CDN, no inline script, images only from us or blobs.
            context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            await next(context);
        });

        Dashboard.Map(app);
        app.MapOpenApi("/openapi/{documentName}.json");
        var api = app.MapGroup("/api");
        api.MapPost("/orders", CreateOrdersAsync)
            .Documented("createOrders", "Create parent orders", "Stores one order (an object) or several (an array) with status new, after checking each field, the symbol on the venue and that the size can be posted at the current price; a refused field is named (`[1].size` in an array) and nothing is stored. The answer has the same shape as the body.")
            .OneOrMany<OrderRequest>("201", "One order, or an array of at most 1,000.", "The stored order(s), status new.", typeof(OrderView))
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapPost("/orders/execute", ExecuteAsync)
            .Documented("executeOrders", "Execute orders", "Claims every listed order at once (new → working) and works them concurrently in the background; poll GET /api/orders?ids= until each is final (filled, canceled, failed or expired; the reason in status_detail). All or nothing: an unknown id is 404, an id already claimed is 409 (both name the ids under `ids`), and then nothing is claimed.")
            .Body<ExecuteRequest>("The ids of new orders: {\"ids\":[1,2]}.")
            .Produces<ExecuteAccepted>(StatusCodes.Status202Accepted).Answer(202, "Every order is claimed and working (or queued behind another on its symbol and side).")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .Answer(404, "An id is not an order; `ids` lists them. Nothing was claimed.").Answer(409, "An order is not new (claimed a moment ago or already run); `ids` lists them. Nothing was claimed.");
        api.MapGet("/orders/{id:long}", async (long id, CancellationToken ct) => await WithDb(options, async db =>
            await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == id, ct) is { } order ? Results.Json(OrderView.Of(order), Json) : NotFound(id)))
            .Documented("getOrder", "One order", "The parent order's row: its fields, status (with the reason in status_detail), fills so far and counters.")
            .WithOrderId().Produces<OrderView>().Answer(200, "The order.").ProducesProblem(StatusCodes.Status404NotFound).Answer(404, "No such order.");
        api.MapGet("/orders", ListAsync)
            .Documented("listOrders", "List orders", "Orders by id, oldest first, at most 1,000, filtered by the query.")
            .WithQuery(ApiDocument.IdsQuery, ("status", JsonSchemaType.String, "Only orders in this status: new, working, filled, canceled, failed or expired."), ApiDocument.StrategyQuery)
            .Produces<OrderView[]>().Answer(200, "The matching orders.").ProducesValidationProblem();
        api.MapGet("/orders/{id:long}/fills", (long id, CancellationToken ct) => Children(options, id, db => db.Fills.Where(f => f.OrderId == id).OrderBy(f => f.ExchangeTime), ct))
            .Documented("getFills", "An order's fills", "Every execution of the order's child orders, in exchange time order; each trade once.")
            .WithOrderId().Produces<FillRow[]>().Answer(200, "The fills.").ProducesProblem(StatusCodes.Status404NotFound).Answer(404, "No such order.");
        api.MapGet("/orders/{id:long}/mids", (long id, CancellationToken ct) => Children(options, id, db => db.Mids.Where(m => m.OrderId == id).OrderBy(m => m.ReceivedTime), ct))
            .Documented("getMids", "An order's mid samples", "The book's top (bid, ask, mid) each time its mid changed while the order worked, and for the markout tail after it.")
            .WithOrderId().Produces<MidRow[]>().Answer(200, "The samples, in arrival order.").ProducesProblem(StatusCodes.Status404NotFound).Answer(404, "No such order.");
        api.MapGet("/orders/{id:long}/child-orders", (long id, CancellationToken ct) => Children(options, id, db => db.ChildOrders.Where(c => c.OrderId == id).OrderBy(c => c.Sequence), ct))
            .Documented("getChildOrders", "An order's child orders", "The latest known state of each post-only (or market) child order sent for the order.")
            .WithOrderId().Produces<ChildOrderRow[]>().Answer(200, "The child orders, by sequence.").ProducesProblem(StatusCodes.Status404NotFound).Answer(404, "No such order.");
        api.MapGet("/orders/{id:long}/events", (long id, CancellationToken ct) => Children(options, id, db => db.Events.Where(e => e.OrderId == id).OrderBy(e => e.Time), ct))
            .Documented("getEvents", "An order's decisions", "Every decision of the chaser (place, modify, cancel, query, finish) with its trigger, rule and tick-to-order latency.")
            .WithOrderId().Produces<EventRow[]>().Answer(200, "The decisions, in time order.").ProducesProblem(StatusCodes.Status404NotFound).Answer(404, "No such order.");
        api.MapPost("/orders/{id:long}/cancel", async (long id, CancellationToken ct) => await WithDb(options, async db =>
        {
            if (await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == id, ct) is not { } order)
            {
                return NotFound(id);
            }

            if (OrderStatus.IsFinal(order.Status))
            {
                return Results.Problem(statusCode: 409, title: "Order is final", detail: $"order {id} is already {order.Status}");
            }

            // A new order is canceled where it stands; a claimed one (queued or working) by the engine that holds it.
            if (await db.Orders.CancelNewAsync(id, DateTimeOffset.UtcNow, ct))
            {
                return Results.Json(new CancelAnswer(id, OrderStatus.Canceled), Json);
            }

            // Claimed by this host a moment ago but not yet handed to the engine: the engine takes the cancel when it starts.
            var ours = options.Engine.Holds(id) || options.Handing.ContainsKey(id);
            if (!ours)
            {
                return Results.Problem(statusCode: 409, title: "Not held here", detail: $"order {id} is worked by another process (venue {order.Venue ?? "unknown"}); cancel it there");
            }

            options.Engine.Cancel(id);
            return Results.Accepted($"/api/orders/{id}", new CancelAnswer(id, "canceling"));
        }))
            .Documented("cancelOrder", "Cancel an order", "A new order is canceled where it stands (200); a queued or working one is canceled by the engine that holds it (202: poll the order until it is final).")
            .WithOrderId().Produces<CancelAnswer>().Answer(200, "The order was new and is now canceled.")
            .Produces<CancelAnswer>(StatusCodes.Status202Accepted).Answer(202, "The engine cancels it; its child order's final state is awaited.")
            .ProducesProblem(StatusCodes.Status404NotFound).Answer(404, "No such order.")
            .ProducesProblem(StatusCodes.Status409Conflict).Answer(409, "The order is already final, or is worked by another process.");
        api.MapGet("/report", ReportAsync)
            .Documented("getReport", "The post-trade report", "Per-order metrics (slippage against the arrival mid, price_expected and the market VWAP, and implementation shortfall against the arrival mid with fees and the unfilled remainder valued at the end mid, all positive = cost; fill rate, maker fraction, markouts, latency) and aggregates by symbol, side and strategy, over the newest `limit` matching orders. `Accept: text/csv` returns the rows as CSV.")
            .WithQuery(ApiDocument.IdsQuery, ApiDocument.StrategyQuery, ("since", JsonSchemaType.String, "Only orders created at or after this ISO 8601 time, e.g. 2026-11-30T09:00:00Z."), ("limit", JsonSchemaType.Integer, "At most this many orders, the newest (1 to 10000; 1000 by default)."))
            .Produces<ExecutionReport>().AlsoText("text/csv").Answer(200, "The report (JSON), or with Accept: text/csv its rows as CSV (the same column names).")
            .ProducesValidationProblem();
        api.MapGet("/orders/{id:long}/chart.png", async (HttpRequest request, long id, CancellationToken ct) =>
        {
            // The dashboard is dark; files and other pages keep the light default.
            var theme = request.Query["theme"].ToString().ToLowerInvariant() switch
            {
                "" or "light" => ChartTheme.Light,
                "dark" => ChartTheme.Dark,
                _ => (ChartTheme?)null,
            };
            if (theme is null)
            {
                return Refused(request, options, new Dictionary<string, string[]> { ["theme"] = ["must be light or dark"] });
            }

            return await WithDb(options, async db =>
            {
                var executions = await StoredExecution.LoadAsync(db, db.Orders.Where(o => o.Id == id), ct);
                return executions.Count == 0 ? NotFound(id) : Results.Bytes(ExecutionChart.RenderPng(executions[0], theme: theme.Value), "image/png");
            });
        })
            .Documented("getChart", "An order's chart", "A PNG: bid, ask and mid, our child order's price (a rejected post-only child as a mark, never as resting), fills sized by quantity, the arrival mid and the average price.")
            .WithOrderId().WithQuery(("theme", JsonSchemaType.String, "light (the default) or dark, the dashboard's colours."))
            .ProducesValidationProblem().Produces<byte[]>(StatusCodes.Status200OK, "image/png").Answer(200, "The chart.").ProducesProblem(StatusCodes.Status404NotFound).Answer(404, "No such order.");
        api.MapGet("/stream", (HttpContext context, IHostApplicationLifetime lifetime, CancellationToken ct) =>
        {
            context.Response.Headers.CacheControl = "no-cache";

            // Ends with the client or with the server: an open dashboard must not hold a shutdown (and the working
            // orders it cancels) for the host's shutdown timeout.
            var stopping = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
            context.Response.RegisterForDispose(stopping);
            return TypedResults.ServerSentEvents(Dashboard.StreamAsync(options, 100, stopping.Token));
        })
            .Documented("stream", "Live orders", "Server-sent events: the latest 100 orders with live progress, sent whenever something changes (the dashboard's feed).")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream").Answer(200, "An event stream; each event's data is a JSON snapshot.");
    }

    private static bool Authorized(HttpRequest request, byte[] tokenHash)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(ApiOptions.HashToken(header[7..].Trim()), tokenHash);
    }

    private static async Task<IResult> CreateOrdersAsync(HttpRequest request, ApiOptions options, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        using var document = await RequestBody.ReadAsync(request, errors, ct);
        if (document is null)
        {
            return Refused(request, options, errors);
        }

        var body = document.RootElement;
        var items = body.ValueKind == JsonValueKind.Array ? body.EnumerateArray().ToArray() : [body];
        if (items.Length is 0 or > RequestBody.MaxItems)
        {
            return Refused(request, options, new Dictionary<string, string[]>
            {
                ["body"] = [items.Length == 0 ? "no orders given" : $"at most {RequestBody.MaxItems} orders per request, got {items.Length}"],
            });
        }

        var rows = new List<OrderRow>();
        for (var i = 0; i < items.Length; i++)
        {
            var prefix = body.ValueKind == JsonValueKind.Array ? $"[{i}]." : "";
            if (OrderInput.TryParse(items[i], prefix, errors) is { } row)
            {
                rows.Add(row);
            }
        }

        if (errors.Count > 0)
        {
            return Refused(request, options, errors);
        }

        try
        {
            await CheckOnVenueAsync(rows, body.ValueKind == JsonValueKind.Array, options.Engine, errors, ct);
        }
        catch (HttpRequestException e)
        {
            Log(options, $"create: the venue could not be asked about the orders: {e.Message}");
            return Results.Problem(statusCode: 503, title: "Venue unavailable", detail: "the exchange could not be reached to check the orders; nothing was stored, try again");
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        return await WithDb(options, async db =>
        {
            // At the precision the database keeps (microseconds), so that the answer is the row as read back later.
            var now = new DateTimeOffset(ChaserDb.ToStoredTicks(DateTimeOffset.UtcNow), TimeSpan.Zero);
            foreach (var row in rows)
            {
                row.CreatedAt = now;
            }

            db.Orders.AddRange(rows);
            await db.SaveChangesAsync(ct);
            var views = rows.Select(OrderView.Of).ToArray();
            return body.ValueKind == JsonValueKind.Array
                ? Results.Json(views, Json, statusCode: 201)
                : Results.Json(views[0], Json, statusCode: 201);
        });
    }

    private static async Task<IResult> ExecuteAsync(HttpRequest request, ApiOptions options, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        using var document = await RequestBody.ReadAsync(request, errors, ct);
        if ((document is null ? null : RequestBody.Ids(document.RootElement, errors)) is not { } ids)
        {
            return Refused(request, options, errors);
        }

        return await WithDb(options, async db =>
        {
            // Checked before anything is claimed: a bad row or an unknown symbol names its order, and every order stays new.
            var found = await db.Orders.AsNoTracking().Where(o => ids.Contains(o.Id)).OrderBy(o => o.Id).ToListAsync(ct);
            IReadOnlyList<ParentOrderSpec> specs;
            try
            {
                var missing = ids.Except(found.Select(o => o.Id)).Order().ToArray();
                if (missing.Length > 0)
                {
                    return Results.Problem(statusCode: 404, title: "Not found", detail: $"no such order: {string.Join(", ", missing)}");
                }

                specs = await StoredOrders.CheckAsync(new OrderStore(options.Database), [.. found.Select(OrderStore.Describe)], options.Engine, ct);

                // The one atomic step that makes an order run once: new → working, here or in any other process.
                // Marked as ours before it commits, so that a cancel right after it finds the order here.
                Handing(options, ids, +1);
                try
                {
                    await db.Orders.ClaimAsync(ids, options.Engine.Options.Venue, options.Engine.Options.Account, ct);
                }
                catch
                {
                    Handing(options, ids, -1);
                    throw;
                }
            }
            catch (OrderClaimException e)
            {
                return Results.Problem(statusCode: e.Missing ? 404 : 409, title: e.Missing ? "Not found" : "Already executed", detail: e.Message, extensions: new Dictionary<string, object?> { ["ids"] = e.Refused.Keys.Order().ToArray() });
            }
            catch (ArgumentException e)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["ids"] = [e.Message.Split(" (Parameter", 2)[0]] });
            }
            catch (HttpRequestException e)
            {
                Log(options, $"execute {string.Join(",", ids)}: the venue could not be asked about the orders: {e.Message}");
                return Results.Problem(statusCode: 503, title: "Venue unavailable", detail: "the exchange could not be reached to check the orders; none was claimed, try again");
            }

            // Claimed: from here every order ends final with a reason, whatever happens to the others.
            _ = Task.Run(async () =>
            {
                try
                {
                    // Every order is held by the engine once this returns its task (each joins before its first await).
                    var work = StoredOrders.WorkClaimedAsync(options.Engine, specs, CancellationToken.None);
                    Handing(options, ids, -1);
                    await work;
                }
                catch (Exception e)
                {
                    Log(options, $"execute {string.Join(",", ids)}: {e.GetType().Name}: {e.Message}");
                }
            }, CancellationToken.None);
            return Results.Accepted("/api/orders?ids=" + string.Join(",", ids), new ExecuteAccepted(ids, "working"));
        });
    }

    /// <summary>
    /// What can be known at create is checked at create: the symbol is traded on the venue and the size can be posted
    /// at the current price (when a book arrives within a moment), each problem under the order's field.
    /// </summary>
    private static async Task CheckOnVenueAsync(List<OrderRow> rows, bool bulk, ExecutionEngine engine, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var probe = OrderQueries.ToSpec(new OrderRow
            {
                Id = 1,
                Symbol = row.Symbol,
                Side = row.Side,
                SizeType = row.SizeType,
                Size = row.Size,
                ReduceOnly = row.ReduceOnly,
                Deadline = row.Deadline,
                TimeLimitMs = row.TimeLimitMs,
                DeadlineAction = row.DeadlineAction,
            });
            var problem = await engine.CheckAsync(probe, 0m, ct);
            if (problem is null && await engine.WaitForBookAsync(row.Symbol, TimeSpan.FromSeconds(2), ct) is { } book)
            {
                // At the price the child would rest at: on the tick grid, as the exchange will see it.
                problem = await engine.CheckAsync(probe, row.Side > 0 ? book.Bid : book.Ask, ct);
            }

            if (problem is not null)
            {
                errors[(bulk ? $"[{i}]." : "") + problem.Field] = [problem.Reason];
            }
        }
    }

    private static async Task<IResult> ListAsync(HttpRequest request, ApiOptions options, CancellationToken ct)
    {
        if (!TryIds(request, out var ids, out var problem))
        {
            return problem!;
        }

        var status = request.Query["status"].ToString();
        var strategy = request.Query["strategy"].ToString();
        if (status.Length > 0 && !OrderStatus.All.Contains(status))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["status"] = [$"must be one of {string.Join(", ", OrderStatus.All)}"] });
        }

        return await WithDb(options, async db =>
        {
            var query = db.Orders.AsNoTracking().Matching(ids, strategy.Length > 0 ? strategy : null);
            if (status.Length > 0)
            {
                query = query.Where(o => o.Status == status);
            }

            var rows = await query.OrderBy(o => o.Id).Take(1_000).ToListAsync(ct);
            return Results.Json(rows.Select(OrderView.Of), Json);
        });
    }

    private static async Task<IResult> ReportAsync(HttpRequest request, ApiOptions options, CancellationToken ct)
    {
        if (!TryIds(request, out var ids, out var problem))
        {
            return problem!;
        }

        var strategy = request.Query["strategy"].ToString();
        var sinceText = request.Query["since"].ToString();
        var limitText = request.Query["limit"].ToString();
        var limit = 1_000;
        if (limitText.Length > 0 && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 10_000))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"must be a whole number from 1 to 10000, got '{limitText}'"] });
        }

        DateTimeOffset? since = null;
        if (sinceText.Length > 0)
        {
            if (!DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["since"] = [$"'{sinceText}' is not an ISO 8601 time, e.g. 2026-11-30T09:00:00Z"] });
            }

            since = parsed;
        }

        return await WithDb(options, async db =>
        {
            // The newest `limit` matching orders: each brings its mids, events and tape, so the work stays bounded.
            var newest = db.Orders.Matching(ids, strategy.Length > 0 ? strategy : null, since).OrderByDescending(o => o.Id).Take(limit);
            var report = ExecutionReport.Build(await StoredExecution.LoadAsync(db, newest, ct), DateTimeOffset.UtcNow);
            if (request.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase))
            {
                return Results.Text(ReportFiles.ToCsv(report.Orders), "text/csv; charset=utf-8");
            }

            return Results.Json(report, ReportFiles.Json);
        });
    }

    private static bool TryIds(HttpRequest request, out long[]? ids, out IResult? problem)
    {
        ids = null;
        problem = null;
        var text = request.Query["ids"].ToString();
        if (text.Length == 0)
        {
            return true;
        }

        var parsed = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                problem = Results.ValidationProblem(new Dictionary<string, string[]> { ["ids"] = [$"'{part}' is not an order id; use ids=1,2,3"] });
                return false;
            }

            parsed.Add(id);
        }

        ids = [.. parsed];
        return true;
    }

    private static async Task<IResult> Children<T>(ApiOptions options, long id, Func<ChaserDb, IQueryable<T>> select, CancellationToken ct)
        where T : class =>
        await WithDb(options, async db =>
            await db.Orders.AnyAsync(o => o.Id == id, ct)
                ? Results.Json(await select(db).AsNoTracking().ToListAsync(ct), Json)
                : NotFound(id));

    private static async Task<IResult> WithDb(ApiOptions options, Func<ChaserDb, Task<IResult>> action)
    {
        await using var db = new ChaserDb(options.Database);
        return await action(db);
    }

    /// <summary>A 400 naming each refused field, and one diagnostic line (field names and reasons, never the values).</summary>
    private static IResult Refused(HttpRequest request, ApiOptions options, Dictionary<string, string[]> errors)
    {
        Log(options, $"{request.Method} {request.Path} refused: {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"))}");
        return Results.ValidationProblem(errors);
    }

    /// <summary>
    /// One diagnostic line: request paths, keys and parser messages come from the client, so control characters (a
    /// terminal escape in a key) are blanked and the line is capped.
    /// </summary>
    private static void Log(ApiOptions options, string line)
    {
        if (options.Diagnostics is not { } diagnostics)
        {
            return;
        }

        var clean = new StringBuilder(Math.Min(line.Length, MaxLogLine));
        foreach (var c in line.AsSpan(0, Math.Min(line.Length, MaxLogLine)))
        {
            clean.Append(char.IsControl(c) || char.IsSurrogate(c) ? '?' : c);
        }

        diagnostics(line.Length > MaxLogLine ? clean.Append('…').ToString() : clean.ToString());
    }

    private static IResult TooLarge(ApiOptions options) => Results.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Request body too large",
        detail: $"the body may be at most {options.MaxRequestBodyBytes} bytes; send large batches as several requests");

    /// <summary>
    /// The last word on every request that throws: a database that is busy, locked or down is 503 with Retry-After, a
    /// value the database refuses is 400, a body over the limit is 413, and anything else — a bug — is a bare 500
    /// problem. Each is logged through <see cref="ApiOptions.Diagnostics"/>; no answer carries a stack trace.
    /// </summary>
    private static async Task ProblemsForFailures(HttpContext context, RequestDelegate next, ApiOptions options)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody to answer.
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            var where = $"{context.Request.Method} {context.Request.Path}";
            var failure = DatabaseErrors.Classify(e);
            IResult problem;
            if (e is BadHttpRequestException bad)
            {
                Log(options, $"{where}: bad request ({bad.StatusCode}): {bad.Message}");
                problem = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? TooLarge(options)
                    : Results.Problem(statusCode: bad.StatusCode, title: "Bad request", detail: bad.Message);
            }
            else if (failure is { Kind: DatabaseFailureKind.Unavailable })
            {
                Log(options, $"{where}: database unavailable: {failure.Reason}");
                problem = Results.Problem(
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Database unavailable",
                    detail: $"the database is busy, locked or unreachable; retry after {DatabaseRetryAfterSeconds} s");
            }
            else if (failure is { Kind: DatabaseFailureKind.ValueRefused })
            {
                Log(options, $"{where}: the database refused a value: {failure.Reason}");
                problem = Results.ValidationProblem(new Dictionary<string, string[]> { ["request"] = [$"the database refused a value: {failure.Reason}"] });
            }
            else
            {
                var cause = e.GetBaseException();
                Log(options, $"{where}: internal error: {e.GetType().Name}: {e.Message}{(cause == e ? "" : $" (cause: {cause.GetType().Name}: {cause.Message})")}");
                problem = Results.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "Internal error", detail: "the server failed on this request; it was logged");
            }

            context.Response.Clear();
            if (failure is { Kind: DatabaseFailureKind.Unavailable })
            {
                context.Response.Headers.RetryAfter = DatabaseRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            }

            await problem.ExecuteAsync(context);
        }
    }

    private static void Handing(ApiOptions options, long[] ids, int change)
    {
        foreach (var id in ids)
        {
            if (options.Handing.AddOrUpdate(id, change, (_, n) => n + change) <= 0)
            {
                options.Handing.TryRemove(KeyValuePair.Create(id, 0));
            }
        }
    }

    private static IResult NotFound(long id) => Results.Problem(statusCode: 404, title: "Not found", detail: $"no order {id}");
}
