using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Chaser.Engine;
using Chaser.Simulator.Server;
using Chaser.Storage;
using Chaser.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;

namespace Chaser.Api.Tests;

/// <summary>Bad input, a database that is locked or gone, floods and oversized bodies: always a problem body, never a 500.</summary>
public sealed class HardeningTests : IAsyncLifetime
{
    private const string Token = "test-token-hardening";
    private const string Order = """{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n"}""";
    private SimulatorServer _simulator = null!;
    private ExecutionEngine _engine = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _simulator = await SimulatorServer.StartAsync(new SimulatorOptions(), Ct);
        _engine = new ExecutionEngine(SimulatorConnector.For(_simulator));
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    public static TheoryData<string, string, string> WrongTypes => new()
    {
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","exchange":1}""", "exchange", "must be the string 'binfut'" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","exchange":{"name":"binfut"}}""", "exchange", "must be the string 'binfut'" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","exchange":null}""", "exchange", "must be the string 'binfut'" },
        { """{"symbol":5,"side":1,"size":100,"size_type":"n"}""", "symbol", "must be a string" },
        { """{"symbol":"BTCUSDT","side":[1],"size":100,"size_type":"n"}""", "side", "must be 1 (buy) or -1 (sell)" },
        { """{"symbol":"BTCUSDT","side":1,"size":true,"size_type":"n"}""", "size", "must be a number" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":1}""", "size_type", "must be the string 'n' or 'q'" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","strategy":7}""", "strategy", "must be a string" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","deadline":1764590400}""", "deadline", "must be a string" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","reduce_only":"yes"}""", "reduce_only", "must be true or false" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","price_expected":[65000]}""", "price_expected", "must be a number" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","exchange":"binance"}""", "exchange", "must be the string 'binfut'" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","exchange":"BINFUT "}""", "exchange", "must be the string 'binfut'" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","type":"market"}""", "type", "must be 'limit' (or 'l')" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","type":1}""", "type", "must be the string 'limit'" },
        { """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","liquidated":"no"}""", "liquidated", "must be true or false" },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public async Task A_field_of_the_wrong_json_type_is_a_400_naming_it(string body, string field, string reason)
    {
        await using var api = await StartAsync();

        await AssertRefusedAsync(await api.PostAsync("/api/orders", body), field, reason);
        Assert.Equal("[]", await api.GetStringAsync("/api/orders"));
    }

    [Theory]
    [InlineData("\"0,5\"", "size", "use '.' as the decimal point, no thousands separators")]
    [InlineData("\"1,000\"", "size", "use '.' as the decimal point, no thousands separators")]
    [InlineData("\"1 000\"", "size", "has a space inside")]
    [InlineData("\"1e3\"", "size", "has an exponent")]
    [InlineData("\"0x10\"", "size", "is not a number")]
    [InlineData("1e400", "size", "is too large")]
    [InlineData("123456789012345678901", "size", "is too large (at most 20 digits before the decimal point)")]
    [InlineData("0.0000000000000000001", "size", "more than 18 digits after the decimal point")]
    [InlineData("12345678901234567890.123456789", "size", "more than 28 significant digits")]
    [InlineData("-5", "size", "must be greater than zero")]
    public async Task A_size_that_is_not_a_plain_decimal_is_refused_with_the_reason(string size, string field, string reason)
    {
        await using var api = await StartAsync();

        await AssertRefusedAsync(await api.PostAsync("/api/orders", $$"""{"symbol":"ETHUSDT","side":1,"size":{{size}},"size_type":"q"}"""), field, reason);
        Assert.Equal("[]", await api.GetStringAsync("/api/orders"));
    }

    [Theory]
    [InlineData("1e-30", "more than 18 digits after the decimal point")]
    [InlineData("\"3,400.5\"", "use '.' as the decimal point")]
    [InlineData("1e21", "is too large")]
    public async Task A_price_expected_is_refused_rather_than_rounded(string price, string reason)
    {
        await using var api = await StartAsync();

        await AssertRefusedAsync(await api.PostAsync("/api/orders", $$"""{"symbol":"ETHUSDT","side":1,"size":1,"size_type":"q","price_expected":{{price}}}"""), "price_expected", reason);
    }

    [Theory]
    [InlineData("\"0.5\"", "0.5")]
    [InlineData("0.5", "0.5")]
    [InlineData("5e-1", "0.5")]
    [InlineData("\"2.125\"", "2.125")]
    [InlineData("2125e-3", "2.125")]
    public async Task Sizes_as_numbers_or_strings_are_stored_exactly(string size, string expected)
    {
        await using var api = await StartAsync();

        using var created = await api.PostAsync("/api/orders", $$"""{"symbol":"ETHUSDT","side":1,"size":{{size}},"size_type":"q"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();
        await using var db = new ChaserDb(api.Database);
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), db.Orders.Single(o => o.Id == id).Size);
    }

    [Theory]
    [InlineData("1e-05", "0.00001")]
    [InlineData("9999999999999999999.999999999", "9999999999999999999.999999999")]
    [InlineData("\"0.000000000000000001\"", "0.000000000000000001")]
    public async Task Decimals_at_the_ends_of_the_range_are_stored_exactly(string price, string expected)
    {
        // price_expected: the decimal field the venue does not judge, so the whole stored range can be tried.
        await using var api = await StartAsync();

        using var created = await api.PostAsync("/api/orders", $$"""{"symbol":"ETHUSDT","side":1,"size":1,"size_type":"q","price_expected":{{price}}}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();
        await using var db = new ChaserDb(api.Database);
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), db.Orders.Single(o => o.Id == id).PriceExpected);
    }

    public static TheoryData<byte[], string, string> BadText => new()
    {
        { Utf8("""{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","strategy":"a\u0000b"}"""), "strategy", "must not contain a NUL character" },
        { Utf8("""{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","strategy":"a\u001b[31mred"}"""), "strategy", "must not contain a control character" },
        { Utf8("""{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","strategy":"x\ud800y"}"""), "strategy", "is not valid Unicode text" },
        { Utf8("""{"symbol":"BTCUSDT","side":"\udc00","size":100,"size_type":"n"}"""), "side", "is not valid Unicode text" },
        { Utf8("""[{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n"},{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","strategy":"\ud83d"}]"""), "[1].strategy", "is not valid Unicode text" },
        { [.. Utf8("""{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","strategy":"a"""), 0xff, 0xfe, .. Utf8("\"}")], "strategy", "is not valid Unicode text" },
        { [.. Utf8("""{"symbol":"BTCUSDT","side":"b"""), 0xc0, 0x80, .. Utf8("\",\"size\":100,\"size_type\":\"n\"}")], "side", "is not valid Unicode text" },
        { Utf8("""{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","\ud800":1}"""), "body", "not valid Unicode text" },
        { [.. Utf8("{\"symbol\":\"BTCUSDT\",\"side\":1,\"size\":100,\"size_type\":\"n\",\""), 0xff, .. Utf8("\":1}")], "body", "not valid Unicode text" },
        { Utf8("""{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","note":{"deep":"a\u0000"}}"""), "note.deep", "must not contain a NUL character" },
    };

    [Theory]
    [MemberData(nameof(BadText))]
    public async Task Text_that_is_not_clean_unicode_is_a_400_naming_the_field(byte[] body, string field, string reason)
    {
        await using var api = await StartAsync();

        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await AssertRefusedAsync(await api.Client.PostAsync(new Uri("/api/orders", UriKind.Relative), content, Ct), field, reason);
        Assert.Equal("[]", await api.GetStringAsync("/api/orders"));
    }

    [Theory]
    [InlineData("""{"symbol":"BTCUSDT","side":1,"side":-1,"size":100,"size_type":"n"}""")]
    [InlineData("""[{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n"},{"symbol":"BTCUSDT","side":1,"size":100,"size":1000,"size_type":"n"}]""")]
    [InlineData("""{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","note":{"a":1,"a":2}}""")]
    public async Task A_key_given_twice_anywhere_is_refused(string body)
    {
        await using var api = await StartAsync();

        await AssertRefusedAsync(await api.PostAsync("/api/orders", body), "body", "Duplicate property");
        Assert.Equal("[]", await api.GetStringAsync("/api/orders"));
    }

    [Fact]
    public async Task A_refusal_is_logged_once_without_the_clients_control_characters()
    {
        await using var api = await StartAsync();

        await AssertRefusedAsync(await api.PostAsync("/api/orders", """{"\u001b[2J":1,"\u001b[2J":2}"""), "body", "Duplicate property");

        var logged = Assert.Single(api.Diagnostics);
        Assert.StartsWith("POST /api/orders refused: body: not valid JSON: Duplicate property", logged, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', logged);
    }

    [Fact]
    public async Task More_orders_than_one_request_may_carry_are_refused()
    {
        await using var api = await StartAsync();

        await AssertRefusedAsync(await api.PostAsync("/api/orders", "[" + string.Join(',', Enumerable.Repeat(Order, 1_001)) + "]"), "body", "at most 1000 orders per request");
        Assert.Equal("[]", await api.GetStringAsync("/api/orders"));
    }

    [Theory]
    [InlineData("""{"ids":[1.5]}""", "ids[0]", "must be an order id")]
    [InlineData("""{"ids":["1"]}""", "ids[0]", "must be an order id")]
    [InlineData("""{"ids":[1,-2]}""", "ids[1]", "must be an order id")]
    [InlineData("""{"ids":[1e3]}""", "ids[0]", "must be an order id")]
    [InlineData("""{"ids":[99999999999999999999]}""", "ids[0]", "must be an order id")]
    [InlineData("""{"ids":[7,7]}""", "ids[1]", "order 7 is listed twice")]
    [InlineData("""{"ids":[1],"ids":[2]}""", "body", "Duplicate property")]
    [InlineData("""{"ids":"1,2"}""", "ids", "must be an array of order ids")]
    [InlineData("""[1,2]""", "ids", "required: an array of order ids")]
    [InlineData("""{"ids":[]}""", "ids", "must be a non-empty array")]
    [InlineData("""{"ids":[1],"note":"\ud800"}""", "note", "is not valid Unicode text")]
    public async Task An_execute_body_that_is_not_a_list_of_order_ids_is_a_400_naming_the_entry(string body, string field, string reason)
    {
        await using var api = await StartAsync();

        await AssertRefusedAsync(await api.PostAsync("/api/orders/execute", body), field, reason);
    }

    [Fact]
    public async Task An_execute_body_with_too_many_ids_is_refused()
    {
        await using var api = await StartAsync();

        var ids = string.Join(',', Enumerable.Range(1, 1_001));
        await AssertRefusedAsync(await api.PostAsync("/api/orders/execute", $$"""{"ids":[{{ids}}]}"""), "ids", "at most 1000 ids per request");
    }

    [Fact]
    public async Task A_locked_database_is_a_503_with_retry_after_and_is_logged()
    {
        // One second of SQLite's busy wait, then SQLITE_BUSY: as a second process holding a write lock would cause.
        await using var api = await StartAsync(database: d => d + ";Default Timeout=1");
        using var created = await api.PostAsync("/api/orders", Order);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        await using (var holder = new SqliteConnection(api.Database.Replace(";Default Timeout=1", "", StringComparison.Ordinal)))
        {
            await holder.OpenAsync(Ct);
            await using var exclusive = holder.CreateCommand();
            exclusive.CommandText = "BEGIN EXCLUSIVE";
            await exclusive.ExecuteNonQueryAsync(Ct);

            using var response = await api.PostAsync("/api/orders", Order);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
            var problem = await response.Content.ReadAsStringAsync(Ct);
            Assert.Contains("the database is busy, locked or unreachable", problem, StringComparison.Ordinal);
            Assert.DoesNotContain(" at ", problem, StringComparison.Ordinal);
            Assert.Contains(api.Diagnostics, d => d.StartsWith("POST /api/orders: database unavailable: SQLite Error 5", StringComparison.Ordinal));
        }

        // The lock gone, the order refused under it was not half-stored: one order, as before.
        Assert.Single(JsonDocument.Parse(await api.GetStringAsync("/api/orders")).RootElement.EnumerateArray());
    }

    [Theory]
    [InlineData("/api/orders")]
    [InlineData("/api/orders/1")]
    [InlineData("/api/orders/1/fills")]
    [InlineData("/api/report")]
    public async Task A_database_that_cannot_be_opened_is_a_503_on_every_read(string path)
    {
        await using var api = await StartAsync(database: _ => "Data Source=" + Path.Combine(Path.GetTempPath(), $"no-such-dir-{Guid.NewGuid():N}", "chaser.db"), migrate: false);

        using var response = await api.Client.GetAsync(new Uri(path, UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains(api.Diagnostics, d => d.StartsWith($"GET {path}: database unavailable: SQLite Error 14", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_postgresql_server_that_is_down_is_a_503_and_the_password_is_never_shown()
    {
        await using var api = await StartAsync(database: _ => "Host=127.0.0.1;Port=1;Username=chaser;Password=pg-secret-9c1e;Timeout=2", migrate: false);

        using var response = await api.Client.GetAsync(new Uri("/api/orders", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.DoesNotContain("pg-secret-9c1e", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        var logged = Assert.Single(api.Diagnostics);
        Assert.StartsWith("GET /api/orders: database unavailable: ", logged, StringComparison.Ordinal);
        Assert.DoesNotContain("pg-secret-9c1e", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_true_bug_is_a_bare_500_problem_without_a_stack_trace_and_is_logged()
    {
        // A database file without the schema: "no such table" is not the client's doing, nor a passing outage.
        await using var api = await StartAsync(migrate: false);

        using var response = await api.Client.GetAsync(new Uri("/api/orders", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("no such table", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", problem, StringComparison.Ordinal);
        Assert.Contains(api.Diagnostics, d => d.StartsWith("GET /api/orders: internal error: SqliteException", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Failed_authentications_cannot_use_up_the_real_clients_requests()
    {
        await using var api = await StartAsync(options: o => o with { RequestsPerMinute = 5 });
        using var attacker = api.App.GetTestClient();
        attacker.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "guess");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await attacker.GetAsync(new Uri("/api/orders", UriKind.Relative), Ct);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 5)], statuses);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("[]", await api.GetStringAsync("/api/orders"));
        }
    }

    [Fact]
    public async Task A_429_carries_a_problem_body_and_retry_after()
    {
        await using var api = await StartAsync(options: o => o with { RequestsPerMinute = 2 });
        for (var i = 0; i < 2; i++)
        {
            await api.GetStringAsync("/api/orders");
        }

        using var limited = await api.Client.GetAsync(new Uri("/api/orders", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.InRange(limited.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Contains("more than 2 requests a minute", await limited.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_declared_over_the_limit_is_a_413_problem()
    {
        await using var api = await StartAsync(options: o => o with { MaxRequestBodyBytes = 1_000 });

        using var response = await api.PostAsync("/api/orders", "[" + string.Join(',', Enumerable.Repeat(Order, 20)) + "]");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("at most 1000 bytes", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal("[]", await api.GetStringAsync("/api/orders"));
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_on_kestrel_is_a_413_problem()
    {
        // No declared length: Kestrel stops the read at the limit, and that exception becomes the problem answer.
        await using var api = await StartAsync(options: o => o with { MaxRequestBodyBytes = 1_000 }, kestrel: true);
        using var content = new PushStreamContent(Encoding.UTF8.GetBytes("[" + string.Join(',', Enumerable.Repeat(Order, 40)) + "]"));

        using var response = await api.Client.PostAsync(new Uri("/api/orders", UriKind.Relative), content, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("at most 1000 bytes", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_postgresql_out_of_range_numbers_and_nul_text_are_400s_and_good_ones_are_stored_exactly()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.PostgreSql);
        await using var api = await StartAsync(database: _ => database.ConnectionString);

        await AssertRefusedAsync(await api.PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":123456789012345678901,"size_type":"n"}"""), "size", "is too large");
        await AssertRefusedAsync(await api.PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","price_expected":"0.0000000000000000001"}"""), "price_expected", "more than 18 digits");
        await AssertRefusedAsync(await api.PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":100,"size_type":"n","strategy":"a\u0000b"}"""), "strategy", "NUL");

        // PostgreSQL refuses NUL in a query parameter too: the answer is a 400, not a 500.
        using var nulQuery = await api.Client.GetAsync(new Uri("/api/orders?strategy=a%00b", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, nulQuery.StatusCode);
        Assert.Equal("application/problem+json", nulQuery.Content.Headers.ContentType?.MediaType);

        // The extremes of what numeric(38,18) holds, in the one decimal field the venue does not judge.
        using var created = await api.PostAsync("/api/orders", """[{"symbol":"BTCUSDT","side":1,"size":"500","size_type":"n","price_expected":"12345678901234567890.12345678"},{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n","price_expected":0.000000000000000001}]""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await using var db = new ChaserDb(database.ConnectionString);
        var stored = db.Orders.OrderBy(o => o.Id).ToList();
        Assert.Equal(12345678901234567890.12345678m, stored[0].PriceExpected);
        Assert.Equal(0.000000000000000001m, stored[1].PriceExpected);
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string field, string reason)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out var messages), $"no error for '{field}' in {body}");
            Assert.Contains(reason, messages[0].GetString(), StringComparison.Ordinal);
        }
    }

    private async Task<ApiHost> StartAsync(Func<ApiOptions, ApiOptions>? options = null, Func<string, string>? database = null, bool migrate = true, bool kestrel = false)
    {
        var file = Path.Combine(Path.GetTempPath(), $"chaser-api-hardening-{Guid.NewGuid():N}.db");
        var connection = (database ?? (d => d))("Data Source=" + file);
        if (migrate)
        {
            await using var db = new ChaserDb(connection);
            await DatabaseMigrator.MigrateAsync(db, Ct);
        }

        var diagnostics = new ConcurrentQueue<string>();
        var builder = WebApplication.CreateBuilder();
        if (kestrel)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        var apiOptions = new ApiOptions { Database = connection, Engine = _engine, TokenHash = ApiOptions.HashToken(Token), Diagnostics = diagnostics.Enqueue };
        builder.AddChaserApi(options?.Invoke(apiOptions) ?? apiOptions);
        var app = builder.Build();
        app.MapChaserApi();
        await app.StartAsync(Ct);
        var client = kestrel ? new HttpClient { BaseAddress = new Uri(app.Urls.First()) } : app.GetTestClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return new ApiHost(app, client, connection, file, diagnostics);
    }

    private sealed record ApiHost(WebApplication App, HttpClient Client, string Database, string File, ConcurrentQueue<string> Diagnostics) : IAsyncDisposable
    {
        public async Task<HttpResponseMessage> PostAsync(string path, string json) =>
            await Client.PostAsync(new Uri(path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"), Ct);

        public async Task<string> GetStringAsync(string path)
        {
            using var response = await Client.GetAsync(new Uri(path, UriKind.Relative), Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
            return body;
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await App.DisposeAsync();
            SqliteConnection.ClearAllPools();
            foreach (var path in new[] { File, File + "-wal", File + "-shm" })
            {
                System.IO.File.Delete(path);
            }
        }
    }

    /// <summary>A body sent without a Content-Length (chunked), as a streaming client would.</summary>
    private sealed class PushStreamContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
