using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Chaser.Engine;
using Chaser.Simulator.Server;
using Chaser.Storage;
using Chaser.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Chaser.Api.Tests;

/// <summary>The HTTP API in-process (TestServer) over a fresh SQLite database and the simulator.</summary>
public sealed partial class ApiTests : IAsyncLifetime
{
    private const string Token = "test-token-7f3a";
    // A short busy timeout, so that a test holding the database's write lock sees the API give up within seconds.
    private readonly string _database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-api-{Guid.NewGuid():N}.db") + ";Default Timeout=3";
    private SimulatorServer _simulator = null!;
    private StorageRecorder _recorder = null!;
    private ExecutionEngine _engine = null!;
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        string tag;
        await using (var db = new ChaserDb(_database))
        {
            await DatabaseMigrator.MigrateAsync(db, Ct);
            tag = await db.GetClientIdTagAsync(Ct);
        }

        _simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        _recorder = new StorageRecorder(_database);
        _engine = new ExecutionEngine(
            SimulatorConnector.For(_simulator),
            _recorder,
            options: new EngineOptions { ClientIdTag = tag });
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.AddChaserApi(new ApiOptions { Database = _database, Engine = _engine, TokenHash = ApiOptions.HashToken(Token) });
        _app = builder.Build();
        _app.MapChaserApi();
        await _app.StartAsync(Ct);
        _client = _app.GetTestClient();
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _engine.DisposeAsync();
        await _recorder.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token")]
    [InlineData("Basic dGVzdDp0ZXN0")]
    public async Task Every_route_needs_the_bearer_token(string? authorization)
    {
        foreach (var path in new[] { "/api/orders", "/api/orders/1", "/api/report", "/api/stream", "/api/orders/1/chart.png", "/openapi/v1.json" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            using var client = _app.GetTestClient();
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.DoesNotContain(Token, await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Bad_orders_get_problem_details_naming_each_field_and_nothing_is_stored()
    {
        using var response = await PostAsync("/api/orders", """[{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n"},{"symbol":"BTC USDT","side":2,"size":0,"size_type":"x","price_expected":-1}]""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var errors = problem.RootElement.GetProperty("errors");
        Assert.Equal(["[1].price_expected", "[1].side", "[1].size", "[1].size_type", "[1].symbol"], errors.EnumerateObject().Select(e => e.Name).Order());
        Assert.Equal("[]", await GetStringAsync("/api/orders"));
    }

    [Fact]
    public async Task Ten_orders_created_in_bulk_and_executed_all_complete_and_read_back()
    {
        var orders = string.Join(',', Enumerable.Range(0, 10).Select(i =>
            $$"""{"symbol":"{{(i % 2 == 0 ? "BTCUSDT" : "ETHUSDT")}}","side":{{(i % 4 < 2 ? 1 : -1)}},"size":{{200 + (i * 10)}},"size_type":"n","strategy":"bulk","price_expected":{{(i % 2 == 0 ? 65000 : 3400)}}}"""));
        using var created = await PostAsync("/api/orders", "[" + orders + "]");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var ids = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToArray();
        Assert.Equal(10, ids.Length);

        using var executing = await PostAsync("/api/orders/execute", $$"""{"ids":[{{string.Join(',', ids)}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, executing.StatusCode);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        JsonElement[] rows = [];
        while (DateTime.UtcNow < deadline)
        {
            rows = [.. JsonDocument.Parse(await GetStringAsync($"/api/orders?ids={string.Join(',', ids)}")).RootElement.EnumerateArray()];
            if (rows.All(r => r.GetProperty("status").GetString() == "filled"))
            {
                break;
            }

            await Task.Delay(250, Ct);
        }

        Assert.All(rows, r => Assert.Equal("filled", r.GetProperty("status").GetString()));
        var first = ids[0];
        var fills = JsonDocument.Parse(await GetStringAsync($"/api/orders/{first}/fills")).RootElement;
        Assert.True(fills.GetArrayLength() > 0);
        Assert.Equal(rows[0].GetProperty("filled_qty").GetDecimal(), fills.EnumerateArray().Sum(f => f.GetProperty("qty").GetDecimal()));
        Assert.True(JsonDocument.Parse(await GetStringAsync($"/api/orders/{first}/mids")).RootElement.GetArrayLength() > 0);
        Assert.True(JsonDocument.Parse(await GetStringAsync($"/api/orders/{first}/child-orders")).RootElement.GetArrayLength() > 0);
        Assert.True(JsonDocument.Parse(await GetStringAsync($"/api/orders/{first}/events")).RootElement.GetArrayLength() > 0);
        Assert.Equal(10, JsonDocument.Parse(await GetStringAsync("/api/orders?strategy=bulk&status=filled")).RootElement.GetArrayLength());

        using var csvRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/report?ids={string.Join(',', ids)}");
        csvRequest.Headers.Accept.ParseAdd("text/csv");
        using var csv = await _client.SendAsync(csvRequest, Ct);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync(Ct)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(11, lines.Length);
        Assert.StartsWith("id,symbol,side,strategy,status,status_detail,size,size_type,", lines[0], StringComparison.Ordinal);
        Assert.All(lines.Skip(1), l => Assert.Contains(",bulk,filled,", l, StringComparison.Ordinal));

        // The JSON report: a row per order with the metrics, and the aggregate table by symbol, side and strategy.
        using var report = JsonDocument.Parse(await GetStringAsync($"/api/report?strategy=bulk"));
        using var newestTwo = JsonDocument.Parse(await GetStringAsync($"/api/report?strategy=bulk&limit=2"));
        Assert.Equal(ids[^2..], newestTwo.RootElement.GetProperty("orders").EnumerateArray().Select(r => r.GetProperty("id").GetInt64()));
        using var badLimit = await _client.GetAsync(new Uri("/api/report?limit=0", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        Assert.Contains("limit", await badLimit.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        var reported = report.RootElement.GetProperty("orders").EnumerateArray().ToArray();
        Assert.Equal(ids, reported.Select(r => r.GetProperty("id").GetInt64()));
        Assert.All(reported, r => Assert.Equal(1m, r.GetProperty("maker_fraction").GetDecimal()));
        Assert.All(reported, r => Assert.NotEqual(JsonValueKind.Null, r.GetProperty("slippage_bps").ValueKind));

        // Implementation shortfall: side × (filled notional − arrival mid × filled qty) + fees + the remainder's opportunity
        // cost, in USDT (each figure to 8 places), and in bp of the notional target; the aggregates carry it too.
        Assert.All(reported, r =>
        {
            decimal Field(string name) => r.GetProperty(name).GetDecimal();
            var side = r.GetProperty("side").GetString() == "buy" ? 1 : -1;
            var shortfall = (side * (Field("filled_notional") - (Field("arrival_mid") * Field("filled_qty")))) + Field("fees") + Field("opportunity_cost");
            Assert.InRange(Field("implementation_shortfall") - shortfall, -0.00000002m, 0.00000002m);
            Assert.InRange((Field("implementation_shortfall") / Field("size") * 10_000m) - Field("implementation_shortfall_bps"), -0.0002m, 0.0002m);
        });
        Assert.All(report.RootElement.GetProperty("aggregates").EnumerateArray(), a => Assert.Equal(JsonValueKind.Number, a.GetProperty("implementation_shortfall_bps").ValueKind));
        Assert.Contains(",implementation_shortfall,implementation_shortfall_bps,", lines[0], StringComparison.Ordinal);
        Assert.Equal(
            ["BTCUSDT/sell", "BTCUSDT/buy", "ETHUSDT/sell", "ETHUSDT/buy"],
            report.RootElement.GetProperty("aggregates").EnumerateArray().Select(a => $"{a.GetProperty("symbol").GetString()}/{a.GetProperty("side").GetString()}"));
        Assert.Equal(10, report.RootElement.GetProperty("aggregates").EnumerateArray().Sum(a => a.GetProperty("orders").GetInt32()));

        // The chart of one order, and the live stream's first snapshot listing the orders as filled.
        using var chart = await _client.GetAsync(new Uri($"/api/orders/{first}/chart.png", UriKind.Relative), Ct);
        Assert.Equal("image/png", chart.Content.Headers.ContentType?.MediaType);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await chart.Content.ReadAsByteArrayAsync(Ct))[..4]);
        using var stream = await _client.GetAsync(new Uri("/api/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(Ct));
        Assert.Equal("event: orders", await reader.ReadLineAsync(Ct));
        var snapshot = JsonDocument.Parse((await reader.ReadLineAsync(Ct))!["data: ".Length..]).RootElement;
        Assert.Equal(ids.Reverse(), snapshot.EnumerateArray().Select(o => o.GetProperty("id").GetInt64()));
        Assert.All(snapshot.EnumerateArray(), o => Assert.Equal("filled", o.GetProperty("status").GetString()));
        // Progress is filled ÷ target in the target's unit; a filled order may stop up to one lot short of a notional target.
        Assert.All(snapshot.EnumerateArray(), o => Assert.Equal(
            Math.Round(o.GetProperty("filled_notional").GetDecimal() / o.GetProperty("size").GetDecimal(), 6),
            o.GetProperty("progress").GetDecimal()));

        // A finished order can't be canceled or executed again; an unknown one is 404.
        using var cancel = await PostAsync($"/api/orders/{first}/cancel", "");
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        using var again = await PostAsync("/api/orders/execute", $$"""{"ids":[{{first}}]}""");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using var missing = await _client.GetAsync(new Uri("/api/orders/999999", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task The_dashboard_page_is_served_without_the_token_and_loads_nothing_from_elsewhere()
    {
        using var anonymous = _app.GetTestClient();
        using var page = await anonymous.GetAsync(new Uri("/", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var html = await page.Content.ReadAsStringAsync(Ct);

        // Every script, stylesheet and icon the page names is ours and is served.
        var assets = System.Text.RegularExpressions.Regex.Matches(html, "(?:src|href)=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(["/assets/favicon.svg", "/assets/app.css", "/assets/app.js"], assets);
        foreach (var asset in assets)
        {
            using var response = await anonymous.GetAsync(new Uri(asset, UriKind.Relative), Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var missing = await anonymous.GetAsync(new Uri("/assets/nothing.js", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_routes()
    {
        using var doc = JsonDocument.Parse(await GetStringAsync("/openapi/v1.json"));
        var paths = doc.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Contains("/api/orders", paths);
        Assert.Contains("/api/orders/execute", paths);
        Assert.Contains("/api/report", paths);
        Assert.Contains("/api/orders/{id}/chart.png", paths);
        Assert.Contains("/api/stream", paths);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_api_route_with_schemas_status_codes_and_the_bearer_scheme()
    {
        using var doc = JsonDocument.Parse(await GetStringAsync("/openapi/v1.json"));
        var root = doc.RootElement;
        var scheme = root.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        Assert.True(root.GetProperty("security")[0].TryGetProperty("bearer", out _));
        var schemas = root.GetProperty("components").GetProperty("schemas");

        // Every route the app maps under /api is in the document, so a route added without its description fails here.
        var routes = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal))
            .Select(e => (Path: System.Text.RegularExpressions.Regex.Replace(e.RoutePattern.RawText!, "{(\\w+):[^}]+}", "{$1}"), Method: e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Single().ToLowerInvariant()))
            .ToArray();
        Assert.Equal(12, routes.Length);
        var paths = root.GetProperty("paths");
        foreach (var (path, method) in routes)
        {
            var where = $"{method} {path}";
            Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty(method, out _), $"{where} is not in the document");
            var operation = paths.GetProperty(path).GetProperty(method);
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("operationId").GetString()), where);
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), where);
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("description").GetString()), where);
            var responses = operation.GetProperty("responses");
            foreach (var status in new[] { "401", "429", "500", "503" })
            {
                Assert.True(responses.TryGetProperty(status, out _), $"{where} lacks {status}");
            }

            Assert.Contains(responses.EnumerateObject(), r => r.Name.StartsWith('2'));
            foreach (var response in responses.EnumerateObject())
            {
                Assert.False(string.IsNullOrWhiteSpace(response.Value.GetProperty("description").GetString()), $"{where} {response.Name}");
                Assert.True(response.Value.TryGetProperty("content", out var content), $"{where} {response.Name} has no content");
                foreach (var media in content.EnumerateObject())
                {
                    Assert.True(media.Value.TryGetProperty("schema", out var schema), $"{where} {response.Name} {media.Name} has no schema");
                    AssertResolvable(schema, schemas, $"{where} {response.Name}");
                }

                if (!response.Name.StartsWith('2'))
                {
                    Assert.True(content.TryGetProperty("application/problem+json", out _), $"{where} {response.Name} is not a problem body");
                }
            }

            if (path.StartsWith("/api/orders/{id}", StringComparison.Ordinal))
            {
                Assert.True(responses.TryGetProperty("404", out _), $"{where} lacks 404");
            }

            if (method == "post" && !path.EndsWith("/cancel", StringComparison.Ordinal))
            {
                var body = operation.GetProperty("requestBody");
                Assert.True(body.GetProperty("required").GetBoolean(), where);
                AssertResolvable(body.GetProperty("content").GetProperty("application/json").GetProperty("schema"), schemas, where);
                Assert.True(responses.TryGetProperty("400", out _), $"{where} lacks 400");
            }
        }

        string[] Query(string path) => [.. paths.GetProperty(path).GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Where(p => p.GetProperty("in").GetString() == "query" && p.GetProperty("description").GetString()!.Length > 0).Select(p => p.GetProperty("name").GetString()!)];
        Assert.Equal(["ids", "status", "strategy"], Query("/api/orders"));
        Assert.Equal(["ids", "strategy", "since", "limit"], Query("/api/report"));
        Assert.True(paths.GetProperty("/api/report").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/csv", out _));
        foreach (var (schema, field) in new[] { ("ReportRow", "implementation_shortfall"), ("ReportRow", "implementation_shortfall_bps"), ("ReportRow", "opportunity_cost"), ("ReportRow", "end_mid"), ("AggregateRow", "implementation_shortfall_bps") })
        {
            Assert.True(schemas.GetProperty(schema).GetProperty("properties").TryGetProperty(field, out var property), $"{schema}.{field}");
            Assert.False(string.IsNullOrWhiteSpace(property.GetProperty("description").GetString()), $"{schema}.{field} is not described");
        }


        // The create body names the seed's fields, each described.
        var order = paths.GetProperty("/api/orders").GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("oneOf")[0];
        var fields = order.GetProperty("properties");
        foreach (var field in new[] { "symbol", "side", "size", "size_type", "exchange", "type", "price_expected", "strategy", "reduce_only", "liquidated", "deadline", "time_limit", "deadline_action", "min_reprice_interval" })
        {
            Assert.True(fields.TryGetProperty(field, out var property) && property.GetProperty("description").GetString()!.Length > 0, $"order field {field}");
        }

        Assert.Equal(["side", "size", "size_type", "symbol"], order.GetProperty("required").EnumerateArray().Select(r => r.GetString()).Order());
    }

    /// <summary>A schema that is empty, or a reference to nothing, would generate an untyped client.</summary>
    private static void AssertResolvable(JsonElement schema, JsonElement schemas, string where)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            Assert.True(schemas.TryGetProperty(reference.GetString()!["#/components/schemas/".Length..], out _), $"{where}: {reference} is not defined");
            return;
        }

        Assert.True(schema.TryGetProperty("type", out _) || schema.TryGetProperty("oneOf", out _), $"{where}: an untyped schema");
    }

    [Fact]
    public async Task The_openapi_order_fields_say_exactly_what_they_take()
    {
        // side was an int32 whose string pattern refused "buy"; size_type, type and exchange had no enum.
        using var doc = JsonDocument.Parse(await GetStringAsync("/openapi/v1.json"));
        var fields = doc.RootElement.GetProperty("paths").GetProperty("/api/orders").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("oneOf")[0].GetProperty("properties");
        static string[] Enum(JsonElement schema) => [.. schema.GetProperty("enum").EnumerateArray().Select(v => v.ToString())];
        Assert.Equal(["1", "-1", "buy", "sell"], fields.GetProperty("side").GetProperty("oneOf").EnumerateArray().SelectMany(Enum));
        Assert.Equal(["n", "q"], Enum(fields.GetProperty("size_type")));
        Assert.Equal(["limit", "l"], Enum(fields.GetProperty("type").GetProperty("oneOf")[0]));
        Assert.Equal(["binfut", "binanceusdm", "binance_futures"], Enum(fields.GetProperty("exchange")));
        Assert.Equal(["cancel", "take"], Enum(fields.GetProperty("deadline_action").GetProperty("oneOf")[0]));
        Assert.Equal("cancel", fields.GetProperty("deadline_action").GetProperty("default").GetString());
        Assert.Equal("binfut", fields.GetProperty("exchange").GetProperty("default").GetString());
        foreach (var field in new[] { "side", "size", "size_type", "type", "exchange", "price_expected", "deadline_action", "min_reprice_interval" })
        {
            Assert.False(string.IsNullOrWhiteSpace(fields.GetProperty(field).GetProperty("description").GetString()), field);
        }

        // A string size the document's pattern takes is one the API takes, and the other way round.
        var pattern = new System.Text.RegularExpressions.Regex(fields.GetProperty("size").GetProperty("oneOf")[1].GetProperty("pattern").GetString()!);
        foreach (var (text, taken) in new[] { ("0.5", true), (".5", true), ("15000", true), ("200.", true), ("+200", true), (" 200 ", true), ("1e3", false), ("0,5", false), ("1 000", false), ("", false), (".", false), ("0x10", false) })
        {
            Assert.Equal(taken, pattern.IsMatch(text));
            Assert.Equal(taken, Chaser.Core.Domain.DecimalText.TryParse(text, out _, out _, Chaser.Core.Domain.DecimalTextOptions.AllowSign));
        }
    }

    [Fact]
    public async Task An_order_field_takes_null_exactly_when_the_openapi_document_says_it_is_nullable()
    {
        // The document called exchange, reduce_only and liquidated nullable (their CLR types are): a generated client
        // sending null for them was refused.
        using var doc = JsonDocument.Parse(await GetStringAsync("/openapi/v1.json"));
        var order = doc.RootElement.GetProperty("paths").GetProperty("/api/orders").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("oneOf")[0];
        static bool Nullable(JsonElement schema) =>
            (schema.TryGetProperty("type", out var type) && (type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Any(t => t.GetString() == "null") : type.GetString() == "null"))
            || (schema.TryGetProperty("oneOf", out var oneOf) && oneOf.EnumerateArray().Any(Nullable));
        var fields = order.GetProperty("properties").EnumerateObject().ToArray();
        Assert.Equal(14, fields.Length);
        foreach (var field in fields)
        {
            var body = new Dictionary<string, object?> { ["symbol"] = "BTCUSDT", ["side"] = 1, ["size"] = 500, ["size_type"] = "n", [field.Name] = null };
            using var created = await PostAsync("/api/orders", JsonSerializer.Serialize(body));
            Assert.True(Nullable(field.Value) == (created.StatusCode == HttpStatusCode.Created), $"{field.Name}: nullable {Nullable(field.Value)}, null answered {created.StatusCode}");
        }
    }

    [Fact]
    public async Task The_seed_fields_type_liquidated_and_exchange_aliases_are_taken_and_stored()
    {
        using var created = await PostAsync("/api/orders", """[{"exchange":"binance_futures","symbol":"BTCUSDT","type":"l","side":1,"size":500,"size_type":"n","liquidated":true},{"exchange":"binanceusdm","symbol":"ETHUSDT","type":"limit","side":-1,"size":0.5,"size_type":"q"}]""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var rows = JsonDocument.Parse(await GetStringAsync("/api/orders")).RootElement.EnumerateArray().ToArray();
        Assert.Equal(["binfut", "binfut"], rows.Select(r => r.GetProperty("exchange").GetString()));
        Assert.Equal(["limit", "limit"], rows.Select(r => r.GetProperty("type").GetString()));
        Assert.Equal([true, false], rows.Select(r => r.GetProperty("liquidated").GetBoolean()));
    }

    private async Task<HttpResponseMessage> PostAsync(string path, string json) =>
        await _client.PostAsync(new Uri(path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"), Ct);

    private async Task<string> GetStringAsync(string path)
    {
        using var response = await _client.GetAsync(new Uri(path, UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Ct);
    }
}
