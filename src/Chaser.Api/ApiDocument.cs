using System.ComponentModel;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Chaser.Api;

/// <summary>
/// The OpenAPI document (<c>/openapi/v1.json</c>): enough to generate a typed client — every route's request and
/// response schemas, its query parameters, every status code it can answer, and the bearer scheme that guards it.
/// The handlers read their bodies and queries by hand (to name each refused field), so what they accept is declared here.
/// </summary>
internal static class ApiDocument
{
    public const string BearerScheme = "bearer";

    /// <summary>The document's title, description and security: every route needs the bearer token.</summary>
    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Chaser",
                Version = "v1",
                Description = "Work parent orders on Binance USDⓈ-M Futures with one post-only limit order resting at the best price: "
                    + "create orders, execute them concurrently, follow them, cancel them, and read the post-trade report. "
                    + "Every error is an RFC 7807 problem body; a refused field is named under `errors`.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The token `chaser serve` printed at start, or CHASER_API_TOKEN.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
            return Task.CompletedTask;
        });

        // What the order fields take, exactly as OrderInput reads them (the record's CLR types can't say it).
        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonTypeInfo.Type == typeof(OrderRequest) && schema.Properties is { } properties)
            {
                DescribeOrderFields(properties);

                // OrderInput refuses any other field, naming it.
                schema.AdditionalPropertiesAllowed = false;
            }

            return Task.CompletedTask;
        });

        // The answers every route shares get a description that says when they happen.
        options.AddOperationTransformer((operation, _, _) =>
        {
            foreach (var (status, response) in operation.Responses ?? [])
            {
                if (Shared.TryGetValue(status, out var description))
                {
                    response.Description = description;
                }
            }

            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// A decimal as a string, as <see cref="Chaser.Core.Domain.DecimalText"/> reads it for the API: surrounding
    /// whitespace, a sign, digits with at most one '.' (<c>0.5</c>, <c>.5</c>, <c>15000</c>); no exponent, no ','.
    /// </summary>
    public const string DecimalStringPattern = @"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)\s*$";

    private static void DescribeOrderFields(IDictionary<string, IOpenApiSchema> properties)
    {
        // Each replaced schema keeps the description and default generated from the record.
        void Replace(string name, OpenApiSchema schema)
        {
            if (properties.TryGetValue(name, out var generated))
            {
                schema.Description = generated.Description;
                schema.Default = generated.Default;
            }

            properties[name] = schema;
        }

        static OpenApiSchema Strings(params string[] values) =>
            new() { Type = JsonSchemaType.String, Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))] };

        static OpenApiSchema Decimal(bool nullable) => new()
        {
            OneOf = nullable
                ? [new OpenApiSchema { Type = JsonSchemaType.Number }, new OpenApiSchema { Type = JsonSchemaType.String, Pattern = DecimalStringPattern }, new OpenApiSchema { Type = JsonSchemaType.Null }]
                : [new OpenApiSchema { Type = JsonSchemaType.Number }, new OpenApiSchema { Type = JsonSchemaType.String, Pattern = DecimalStringPattern }],
        };

        Replace("side", new OpenApiSchema { OneOf = [new OpenApiSchema { Type = JsonSchemaType.Integer, Enum = [JsonValue.Create(1), JsonValue.Create(-1)] }, Strings("buy", "sell")] });
        Replace("size", Decimal(nullable: false));
        Replace("price_expected", Decimal(nullable: true));
        Replace("size_type", Strings("n", "q"));
        Replace("type", new OpenApiSchema { OneOf = [Strings("limit", "l"), new OpenApiSchema { Type = JsonSchemaType.Null }] });
        Replace("deadline_action", new OpenApiSchema { OneOf = [Strings("cancel", "take"), new OpenApiSchema { Type = JsonSchemaType.Null }] });

        // Not nullable: OrderInput refuses null for these (it is not one of the names, not true or false).
        Replace("exchange", Strings([.. OrderInput.ExchangeNames]));
        Replace("reduce_only", new OpenApiSchema { Type = JsonSchemaType.Boolean });
        Replace("liquidated", new OpenApiSchema { Type = JsonSchemaType.Boolean });
    }

    private static readonly Dictionary<string, string> Shared = new()
    {
        ["400"] = "Bad input: each refused field is named under `errors` with the reason; nothing was stored or claimed.",
        ["401"] = "The bearer token is missing or wrong.",
        ["413"] = "The body is over the size limit (at most 1,000 orders or ids a request).",
        ["429"] = "Rate limited: retry after the `Retry-After` header's seconds.",
        ["500"] = "A defect on the server; it was logged. No stack trace is returned.",
        ["503"] = "The database is busy, locked or unreachable, or the exchange could not be reached; retry after `Retry-After` seconds.",
    };

    /// <summary>What every route can answer besides its own outcomes.</summary>
    public static RouteHandlerBuilder Documented(this RouteHandlerBuilder route, string name, string summary, string description) =>
        route.WithName(name).WithSummary(summary).WithDescription(description)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    /// <summary>Query parameters the handler reads from <see cref="HttpRequest.Query"/>.</summary>
    public static RouteHandlerBuilder WithQuery(this RouteHandlerBuilder route, params (string Name, JsonSchemaType Type, string Description)[] parameters) =>
        route.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            foreach (var (name, type, description) in parameters)
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = name,
                    In = ParameterLocation.Query,
                    Required = false,
                    Description = description,
                    Schema = new OpenApiSchema { Type = type },
                });
            }

            return Task.CompletedTask;
        });

    /// <summary>A JSON body or answer that is either one <typeparamref name="T"/> or an array of them.</summary>
    public static RouteHandlerBuilder OneOrMany<T>(this RouteHandlerBuilder route, string status, string requestDescription, string responseDescription, Type response) =>
        route.AddOpenApiOperationTransformer(async (operation, context, ct) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = requestDescription,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = new OpenApiSchema { OneOf = [await context.GetOrCreateSchemaAsync(typeof(T), null, ct), await context.GetOrCreateSchemaAsync(typeof(T[]), null, ct)] } },
                },
            };
            operation.Responses ??= [];
            operation.Responses[status] = new OpenApiResponse
            {
                Description = responseDescription,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = new OpenApiSchema { OneOf = [await context.GetOrCreateSchemaAsync(response, null, ct), await context.GetOrCreateSchemaAsync(response.MakeArrayType(), null, ct)] } },
                },
            };
        });

    /// <summary>Sets the description of one of the route's own answers.</summary>
    public static RouteHandlerBuilder Answer(this RouteHandlerBuilder route, int status, string description) =>
        route.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.Responses?.TryGetValue(status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var response) == true)
            {
                response.Description = description;
            }

            return Task.CompletedTask;
        });

    /// <summary>The route's JSON body, described.</summary>
    public static RouteHandlerBuilder Body<T>(this RouteHandlerBuilder route, string description)
        where T : notnull =>
        route.Accepts<T>("application/json").AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.RequestBody is OpenApiRequestBody body)
            {
                body.Required = true;
                body.Description = description;
            }

            return Task.CompletedTask;
        });

    /// <summary>A second representation of the route's 200 answer: the same rows as text.</summary>
    public static RouteHandlerBuilder AlsoText(this RouteHandlerBuilder route, string contentType) =>
        route.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.Responses?.TryGetValue("200", out var response) == true && response is OpenApiResponse ok)
            {
                ok.Content ??= new Dictionary<string, OpenApiMediaType>();
                ok.Content[contentType] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
            }

            return Task.CompletedTask;
        });

    /// <summary>The id in the route's path, described.</summary>
    public static RouteHandlerBuilder WithOrderId(this RouteHandlerBuilder route) =>
        route.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            foreach (var parameter in operation.Parameters ?? [])
            {
                if (parameter is OpenApiParameter { Name: "id" } id)
                {
                    id.Description = "The parent order's id (from POST /api/orders).";
                }
            }

            return Task.CompletedTask;
        });

    public static readonly (string, JsonSchemaType, string) IdsQuery = ("ids", JsonSchemaType.String, "Only these order ids, comma-separated: ids=1,2,3.");

    public static readonly (string, JsonSchemaType, string) StrategyQuery = ("strategy", JsonSchemaType.String, "Only orders with this strategy tag.");
}

/// <summary>One parent order as POST /api/orders takes it (the seed's fields; sizes as JSON numbers or numeric strings).</summary>
public sealed record OrderRequest(
    [property: Description("A Binance USDⓈ-M symbol traded on the venue, e.g. BTCUSDT.")] string Symbol,
    [property: Description("1 (buy) or -1 (sell); the strings \"buy\" and \"sell\" are accepted too.")] int Side,
    [property: Description("Greater than zero: quote notional (USDT) for size_type n, base quantity for q; at most 18 decimals; a JSON number or a string like \"0.5\".")] decimal Size,
    [property: Description("n (notional, quote currency) or q (base quantity).")] string SizeType,
    [property: Description("binfut (Binance USDⓈ-M Futures; binanceusdm and binance_futures mean the same), stored as binfut; the only exchange.")] string? Exchange = "binfut",
    [property: Description("limit (or l): the post-only chase at the best price, the only type Chaser works.")] string? Type = "limit",
    [property: Description("The trader's benchmark price for slippage; 0 for none.")] decimal? PriceExpected = 0,
    [property: Description("A tag of at most 64 characters that groups orders in the report.")] string? Strategy = "",
    [property: Description("Binance's reduceOnly on every child order.")] bool? ReduceOnly = false,
    [property: Description("The seed's liquidated flag, recorded with the order.")] bool? Liquidated = false,
    [property: Description("An ISO 8601 time at which the order is canceled and expires.")] DateTimeOffset? Deadline = null,
    [property: Description("How long the order may work once it starts (not while queued): 90s, 10m, 1h.")] string? TimeLimit = null,
    [property: Description("What happens when the deadline or time_limit is reached with the target not filled: cancel (cancel the child and expire) or take (then take the remainder with a market order; needs a deadline or time_limit).")] string? DeadlineAction = "cancel",
    [property: Description("This order's least time between two re-pricing requests, from 0 to 10m in whole milliseconds: 200ms, 1s, 1.5s; left out, the engine's (200ms by default).")] string? MinRepriceInterval = null);

/// <summary>The body of POST /api/orders/execute.</summary>
public sealed record ExecuteRequest([property: Description("The orders to work: each new, listed once, at most 1,000.")] long[] Ids);

/// <summary>The answer to an accepted execute: every order is claimed (working or queued) and runs in the background.</summary>
public sealed record ExecuteAccepted(long[] Ids, string Status);

/// <summary>The answer to a cancel: "canceled" (a new order, at once) or "canceling" (its engine cancels it).</summary>
public sealed record CancelAnswer(long Id, string Status);
