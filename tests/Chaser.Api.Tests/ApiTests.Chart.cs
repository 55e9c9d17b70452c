using System.Net;
using System.Text.Json;

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
}
