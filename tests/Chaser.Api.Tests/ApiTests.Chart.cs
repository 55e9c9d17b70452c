using System.Net;
using System.Text.Json;
using Chaser.Storage;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Api.Tests;

public sealed partial class ApiTests
{
    [Fact]
    public async Task The_chart_comes_in_the_theme_asked_for_and_an_unknown_theme_is_refused_by_name()
    {
        using var created = await PostAsync("/api/orders", """{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n"}""");
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();

        byte[]? light = null;
        foreach (var query in new[] { "", "?theme=light", "?theme=dark", "?theme=Dark" })
        {
            using var chart = await _client.GetAsync(new Uri($"/api/orders/{id}/chart.png{query}", UriKind.Relative), Ct);
            Assert.Equal(HttpStatusCode.OK, chart.StatusCode);
            Assert.Equal("image/png", chart.Content.Headers.ContentType?.MediaType);
            var png = await chart.Content.ReadAsByteArrayAsync(Ct);
            light ??= png;
            Assert.Equal(query.Contains("ark", StringComparison.Ordinal), !png.AsSpan().SequenceEqual(light));
        }

        foreach (var query in new[] { "?theme=blue", "?theme=dark&theme=light", "?theme=" + new string('x', 5000) })
        {
            using var refused = await _client.GetAsync(new Uri($"/api/orders/{id}/chart.png{query}", UriKind.Relative), Ct);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct));
            Assert.Equal("must be light or dark", problem.RootElement.GetProperty("errors").GetProperty("theme")[0].GetString());
        }
    }

    [Fact]
    public async Task The_live_stream_shows_an_order_claimed_elsewhere_and_waiting_as_queued_and_a_failed_one_with_its_reason()
    {
        using var created = await PostAsync("/api/orders", """[{"symbol":"BTCUSDT","side":1,"size":500,"size_type":"n"},{"symbol":"ETHUSDT","side":1,"size":500,"size_type":"n"}]""");
        var ids = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToArray();

        // Another process claimed the first (its queue, not this engine's); the second ended failed with a reason.
        await using (var db = new ChaserDb(_database))
        {
            await db.Orders.Where(o => o.Id == ids[0]).ExecuteUpdateAsync(set => set.SetProperty(o => o.Status, OrderStatus.Working).SetProperty(o => o.StatusDetail, OrderClaims.QueuedDetail).SetProperty(o => o.Venue, "elsewhere"), Ct);
            await db.Orders.Where(o => o.Id == ids[1]).ExecuteUpdateAsync(set => set.SetProperty(o => o.Status, OrderStatus.Failed).SetProperty(o => o.StatusDetail, "order rejected by the exchange: -2022 ReduceOnly Order is rejected."), Ct);
        }

        using var stream = await _client.GetAsync(new Uri("/api/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, Ct);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(Ct));
        Assert.Equal("event: orders", await reader.ReadLineAsync(Ct));
        var snapshot = JsonDocument.Parse((await reader.ReadLineAsync(Ct))!["data: ".Length..]).RootElement.EnumerateArray().ToDictionary(o => o.GetProperty("id").GetInt64());

        Assert.Equal("queued", snapshot[ids[0]].GetProperty("status").GetString());
        Assert.Equal(OrderClaims.QueuedDetail, snapshot[ids[0]].GetProperty("status_detail").GetString());
        Assert.Equal("failed", snapshot[ids[1]].GetProperty("status").GetString());
        Assert.Equal("order rejected by the exchange: -2022 ReduceOnly Order is rejected.", snapshot[ids[1]].GetProperty("status_detail").GetString());
        Assert.All(snapshot.Values, o => Assert.Equal(JsonValueKind.Null, o.GetProperty("slippage_bps").ValueKind)); // nothing filled: no slippage, not 0
    }
}

