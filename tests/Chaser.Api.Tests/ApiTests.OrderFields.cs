using System.Net;
using System.Text.Json;
using Chaser.Storage;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Api.Tests;

/// <summary>An order's deadline action and re-price interval: taken on creation, stored, returned and worked as given.</summary>
public sealed partial class ApiTests
{
    [Fact]
    public async Task An_orders_deadline_action_and_reprice_interval_are_stored_returned_and_read_back_as_given()
    {
        using var created = await PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":"buy","size":500,"size_type":"n","strategy":"desk-a","price_expected":"65000.5","time_limit":"10m","deadline_action":"take","min_reprice_interval":"1.5s"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var answer = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct));
        var id = answer.RootElement.GetProperty("id").GetInt64();
        using var read = JsonDocument.Parse(await GetStringAsync($"/api/orders/{id}"));
        foreach (var order in new[] { answer.RootElement, read.RootElement })
        {
            Assert.Equal("take", order.GetProperty("deadline_action").GetString());
            Assert.Equal(1_500, order.GetProperty("min_reprice_interval_ms").GetInt64());
            Assert.Equal(600_000, order.GetProperty("time_limit_ms").GetInt64());
            Assert.Equal("desk-a", order.GetProperty("strategy").GetString());
        }

        // Left out: cancel at the deadline, the engine's interval.
        using var plain = await PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n"}""");
        using var plainAnswer = JsonDocument.Parse(await plain.Content.ReadAsStringAsync(Ct));
        Assert.Equal("cancel", plainAnswer.RootElement.GetProperty("deadline_action").GetString());
        Assert.Equal(JsonValueKind.Null, plainAnswer.RootElement.GetProperty("min_reprice_interval_ms").ValueKind);

        // The order is worked as it was stored.
        await using var db = new ChaserDb(_database);
        var spec = OrderQueries.ToSpec(await db.Orders.AsNoTracking().SingleAsync(o => o.Id == id, Ct));
        Assert.Equal((Core.Domain.DeadlineAction.TakeRemainder, TimeSpan.FromMilliseconds(1_500), "desk-a", 65_000.5m), (spec.OnDeadline, spec.MinRepriceInterval!.Value, spec.Strategy, spec.PriceExpected));
    }

    [Fact]
    public async Task A_bad_deadline_action_or_reprice_interval_is_refused_naming_the_field_and_nothing_is_stored()
    {
        const string Order = "\"symbol\":\"BTCUSDT\",\"side\":1,\"size\":500,\"size_type\":\"n\"";
        var bodies = new[]
        {
            $$"""{{{Order}},"deadline_action":"market","time_limit":"1m"}""",
            $$"""{{{Order}},"deadline_action":true,"time_limit":"1m"}""",
            $$"""{{{Order}},"deadline_action":"take"}""",
            $$"""{{{Order}},"min_reprice_interval":"fast"}""",
            $$"""{{{Order}},"min_reprice_interval":"11m"}""",
            $$"""{{{Order}},"min_reprice_interval":"0.5ms"}""",
            $$"""{{{Order}},"min_reprice_interval":200}""",
            $$"""{{{Order}},"min_reprice_interval":"-1s"}""",
        };
        using var response = await PostAsync("/api/orders", "[" + string.Join(',', bodies) + "]");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var errors = problem.RootElement.GetProperty("errors").EnumerateObject().ToDictionary(e => e.Name, e => e.Value[0].GetString()!);
        Assert.Equal(
            ["[0].deadline_action", "[1].deadline_action", "[2].deadline_action", "[3].min_reprice_interval", "[4].min_reprice_interval", "[5].min_reprice_interval", "[6].min_reprice_interval", "[7].min_reprice_interval"],
            errors.Keys.Order());
        Assert.StartsWith("must be 'cancel'", errors["[0].deadline_action"], StringComparison.Ordinal);
        Assert.Equal("must be the string 'cancel' or 'take'", errors["[1].deadline_action"]);
        Assert.Equal("'take' needs a deadline or a time_limit: it takes the remainder when one of them is reached", errors["[2].deadline_action"]);
        Assert.StartsWith("must be a duration from 0 to 10m in whole milliseconds", errors["[3].min_reprice_interval"], StringComparison.Ordinal);
        Assert.StartsWith("must be a string: a duration like 200ms", errors["[6].min_reprice_interval"], StringComparison.Ordinal);

        // Taking the remainder at a deadline already past would take the whole order at market the moment it starts.
        using var past = await PostAsync("/api/orders", $$"""{{{Order}},"deadline_action":"take","deadline":"2020-01-01T00:00:00Z"}""");
        Assert.Equal(HttpStatusCode.BadRequest, past.StatusCode);
        using var pastProblem = JsonDocument.Parse(await past.Content.ReadAsStringAsync(Ct));
        Assert.Equal(
            "2020-01-01T00:00:00.0000000+00:00 has passed: taking the remainder now would take the whole order with a market order",
            pastProblem.RootElement.GetProperty("errors").GetProperty("deadline")[0].GetString());
        Assert.Equal("[]", await GetStringAsync("/api/orders"));
    }

    [Fact]
    public async Task A_reprice_interval_of_zero_is_taken_as_written_without_a_unit()
    {
        // The bound the API states is "from 0 to 10m", and the CLI takes "--min-reprice-interval 0".
        using var created = await PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n","min_reprice_interval":"0"}""");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var answer = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct));
        Assert.Equal(0, answer.RootElement.GetProperty("min_reprice_interval_ms").GetInt64());
    }

    [Fact]
    public async Task A_field_the_order_does_not_have_is_refused_naming_it_instead_of_dropped()
    {
        // The response's own names (time_limit_ms, min_reprice_interval_ms) sent back, and a misspelling: dropped, each
        // would leave the order worked without the limit or pacing its sender asked for.
        const string Order = "\"symbol\":\"BTCUSDT\",\"side\":1,\"size\":500,\"size_type\":\"n\"";
        var bodies = new[]
        {
            $$"""{{{Order}},"time_limit_ms":5000}""",
            $$"""{{{Order}},"min_reprice_interval_ms":500}""",
            $$"""{{{Order}},"deadline_acton":"take","time_limit":"1m"}""",
        };
        using var response = await PostAsync("/api/orders", "[" + string.Join(',', bodies) + "]");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var errors = problem.RootElement.GetProperty("errors").EnumerateObject().ToDictionary(e => e.Name, e => e.Value[0].GetString()!);
        Assert.Equal(["[0].time_limit_ms", "[1].min_reprice_interval_ms", "[2].deadline_acton"], errors.Keys.Order());
        Assert.StartsWith("unknown field: an order is given with time_limit", errors["[0].time_limit_ms"], StringComparison.Ordinal);
        Assert.StartsWith("unknown field: an order is given with min_reprice_interval", errors["[1].min_reprice_interval_ms"], StringComparison.Ordinal);
        Assert.StartsWith("unknown field; an order's fields are ", errors["[2].deadline_acton"], StringComparison.Ordinal);
        Assert.Equal("[]", await GetStringAsync("/api/orders"));

        // The document says so, and lists exactly the fields taken.
        using var doc = JsonDocument.Parse(await GetStringAsync("/openapi/v1.json"));
        var schema = doc.RootElement.GetProperty("paths").GetProperty("/api/orders").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("oneOf")[0];
        Assert.False(schema.GetProperty("additionalProperties").GetBoolean());
        var listed = errors["[2].deadline_acton"]["unknown field; an order's fields are ".Length..].Split(", ");
        Assert.Equal(listed.Order(), schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task An_order_asking_to_take_the_remainder_is_finished_by_one_market_order_at_its_time_limit()
    {
        // Far more than a second of maker fills on the simulator: what is left at the limit is taken.
        using var created = await PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":60000,"size_type":"n","time_limit":"1s","deadline_action":"take","min_reprice_interval":"100ms"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();
        using var executing = await PostAsync("/api/orders/execute", $$"""{"ids":[{{id}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, executing.StatusCode);

        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        JsonElement order;
        do
        {
            await Task.Delay(250, Ct);
            order = JsonDocument.Parse(await GetStringAsync($"/api/orders/{id}")).RootElement;
        }
        while (!OrderStatus.IsFinal(order.GetProperty("status").GetString()!) && DateTime.UtcNow < until);

        Assert.Equal("filled", order.GetProperty("status").GetString());
        var children = JsonDocument.Parse(await GetStringAsync($"/api/orders/{id}/child-orders")).RootElement.EnumerateArray().ToArray();
        Assert.Equal("market", children[^1].GetProperty("type").GetString());
        Assert.Single(children, c => c.GetProperty("type").GetString() == "market");
        var fills = JsonDocument.Parse(await GetStringAsync($"/api/orders/{id}/fills")).RootElement.EnumerateArray().ToArray();
        Assert.Contains(fills, f => !f.GetProperty("is_maker").GetBoolean());
        Assert.Equal(order.GetProperty("filled_qty").GetDecimal(), fills.Sum(f => f.GetProperty("qty").GetDecimal()));
    }
}
