using System.Net;
using System.Text.Json;

namespace Chaser.Api.Tests;

/// <summary>Each order runs once, whatever the client sends at once; what can't run says why.</summary>
public sealed partial class ApiTests
{
    [Fact]
    public async Task Four_concurrent_executes_of_the_same_orders_run_them_once()
    {
        using var created = await PostAsync("/api/orders", """
            [{"symbol":"BTCUSDT","side":1,"size":3000,"size_type":"n","strategy":"race"},
             {"symbol":"ETHUSDT","side":-1,"size":0.5,"size_type":"q","strategy":"race"}]
            """);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var ids = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToArray();
        var body = $$"""{"ids":[{{string.Join(',', ids)}}]}""";

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostAsync("/api/orders/execute", body)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Accepted);
        var refused = responses.Where(r => r.StatusCode != HttpStatusCode.Accepted).ToArray();
        Assert.Equal(3, refused.Length);
        foreach (var response in refused)
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            Assert.Equal(ids, problem.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()));
            // Working, or already filled when a refused request got its turn: either way not new, and named.
            Assert.Matches($"^order {ids[0]} is (working|filled); only new orders can be executed", problem.RootElement.GetProperty("detail").GetString());
        }

        var rows = await WaitFinalAsync(ids);
        Assert.All(rows, r => Assert.Equal("filled", r.GetProperty("status").GetString()));
        Assert.True(rows[0].GetProperty("filled_notional").GetDecimal() <= 3000m);
        Assert.True(rows[1].GetProperty("filled_qty").GetDecimal() <= 0.5m);

        // The exchange's own record: every trade of ours is stored once, under the one run of each order.
        foreach (var (row, symbol) in rows.Zip(new[] { "BTCUSDT", "ETHUSDT" }))
        {
            var exchange = _simulator.Engine.GetUserTrades(symbol, limit: 10_000);
            var fills = JsonDocument.Parse(await GetStringAsync($"/api/orders/{row.GetProperty("id").GetInt64()}/fills")).RootElement.EnumerateArray().ToArray();
            Assert.Equal(exchange.Select(t => t.TradeId).Order(), fills.Select(f => f.GetProperty("trade_id").GetInt64()).Order());
            Assert.Equal(exchange.Sum(t => t.Qty), row.GetProperty("filled_qty").GetDecimal());

            // What the exchange traded for us is one order's worth, not four (4 runs bought 4× the target before).
            Assert.True(row.GetProperty("size_type").GetString() == "n" ? exchange.Sum(t => t.Qty * t.Price) <= 3000m : exchange.Sum(t => t.Qty) <= 0.5m);
        }
    }

    [Fact]
    public async Task An_unknown_symbol_is_refused_at_create_naming_the_order_and_field()
    {
        using var response = await PostAsync("/api/orders", """[{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n"},{"symbol":"NOPEUSDT","side":1,"size":500,"size_type":"n"}]""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var errors = problem.RootElement.GetProperty("errors");
        Assert.Equal(["[1].symbol"], errors.EnumerateObject().Select(e => e.Name));
        Assert.Equal("NOPEUSDT is not traded on this exchange", errors.GetProperty("[1].symbol")[0].GetString());
        Assert.Equal("[]", await GetStringAsync("/api/orders"));
    }

    [Fact]
    public async Task A_size_that_cannot_be_posted_is_refused_at_create()
    {
        using var response = await PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":0.0001,"size_type":"q"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.StartsWith("0.0001 base can't be posted on BTCUSDT", problem.RootElement.GetProperty("errors").GetProperty("size")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_order_is_canceled_where_it_stands_and_can_not_be_executed_afterwards()
    {
        using var created = await PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n"}""");
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();

        using var cancel = await PostAsync($"/api/orders/{id}/cancel", "");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var row = JsonDocument.Parse(await GetStringAsync($"/api/orders/{id}")).RootElement;
        Assert.Equal("canceled", row.GetProperty("status").GetString());
        Assert.Equal("canceled before it was executed", row.GetProperty("status_detail").GetString());

        using var execute = await PostAsync("/api/orders/execute", $$"""{"ids":[{{id}}]}""");
        Assert.Equal(HttpStatusCode.Conflict, execute.StatusCode);
        Assert.Empty(_simulator.Engine.GetUserTrades("BTCUSDT", limit: 10_000));
    }

    [Fact]
    public async Task An_order_queued_behind_another_is_not_new_and_cancels_at_once()
    {
        // Two buys on one symbol: the second waits for the first, claimed all the same.
        using var created = await PostAsync("/api/orders", """[{"symbol":"BTCUSDT","side":1,"size":400000,"size_type":"n"},{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n"}]""");
        var ids = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToArray();
        using var execute = await PostAsync("/api/orders/execute", $$"""{"ids":[{{string.Join(',', ids)}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, execute.StatusCode);

        var queued = JsonDocument.Parse(await GetStringAsync($"/api/orders/{ids[1]}")).RootElement;
        Assert.Equal("working", queued.GetProperty("status").GetString());
        using var again = await PostAsync("/api/orders/execute", $$"""{"ids":[{{ids[1]}}]}""");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        using var cancel = await PostAsync($"/api/orders/{ids[1]}/cancel", "");
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var second = (await WaitFinalAsync([ids[1]]))[0];
        Assert.Equal("canceled", second.GetProperty("status").GetString());
        Assert.Equal("canceled before it started working", second.GetProperty("status_detail").GetString());
        Assert.Equal(0m, second.GetProperty("filled_qty").GetDecimal());

        using var cancelFirst = await PostAsync($"/api/orders/{ids[0]}/cancel", "");
        Assert.Contains((await WaitFinalAsync([ids[0]]))[0].GetProperty("status").GetString(), new[] { "canceled", "filled" });
    }

    [Fact]
    public async Task A_time_limit_is_a_duration_kept_with_the_order()
    {
        using var bad = await PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n","time_limit":"0,5h"}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("time_limit", await bad.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var created = await PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n","time_limit":"1m30s"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(90_000, JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("time_limit_ms").GetInt64());
    }

    [Fact]
    public async Task Execute_while_the_database_is_locked_answers_503_and_claims_nothing()
    {
        using var created = await PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();

        // Another process (a migration, a long report export) holds the write lock longer than the busy timeout.
        await using (var holder = new Microsoft.Data.Sqlite.SqliteConnection(_database))
        {
            await holder.OpenAsync(Ct);
            await using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE";
                await begin.ExecuteNonQueryAsync(Ct);
            }

            using var locked = await PostAsync("/api/orders/execute", $$"""{"ids":[{{id}}]}""");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, locked.StatusCode);
            Assert.Equal("application/problem+json", locked.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain("   at ", await locked.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
            await using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync(Ct);
        }

        Assert.Equal("new", JsonDocument.Parse(await GetStringAsync($"/api/orders/{id}")).RootElement.GetProperty("status").GetString());
        using var execute = await PostAsync("/api/orders/execute", $$"""{"ids":[{{id}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, execute.StatusCode);
        Assert.Contains((await WaitFinalAsync([id]))[0].GetProperty("status").GetString(), new[] { "filled", "canceled" });
    }

    [Fact]
    public async Task Cancel_of_an_order_another_process_on_the_same_account_works_is_refused_not_accepted_and_dropped()
    {
        using var created = await PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n"}""");
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();

        // A second `chaser serve` (or `chaser execute`) trading the same account claimed it: same venue, same key.
        await using (var db = new Chaser.Storage.ChaserDb(_database))
        {
            await Chaser.Storage.OrderClaims.ClaimAsync(db.Orders, [id], _engine.Options.Venue, _engine.Options.Account, Ct);
        }

        using var cancel = await PostAsync($"/api/orders/{id}/cancel", "");

        // 202 "canceling" would be a promise nobody keeps: this engine never holds the order.
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Contains("worked by another process", await cancel.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.False(_engine.Holds(id));
    }

    private async Task<JsonElement[]> WaitFinalAsync(long[] ids)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        JsonElement[] rows = [];
        while (DateTime.UtcNow < deadline)
        {
            rows = [.. JsonDocument.Parse(await GetStringAsync($"/api/orders?ids={string.Join(',', ids)}")).RootElement.EnumerateArray()];
            if (rows.All(r => r.GetProperty("status").GetString() is "filled" or "canceled" or "failed" or "expired"))
            {
                return rows;
            }

            await Task.Delay(100, Ct);
        }

        return rows;
    }
}
