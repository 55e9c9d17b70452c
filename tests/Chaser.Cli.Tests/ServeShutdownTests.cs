using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Chaser.Storage;
using Chaser.Tests.Shared;

namespace Chaser.Cli.Tests;

/// <summary>`chaser serve` stops promptly on SIGTERM even with a dashboard's live stream open.</summary>
public class ServeShutdownTests
{
    private const string Token = "shutdown-test-token";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_open_live_stream_does_not_hold_the_shutdown()
    {
        var database = "Data Source=" + Path.Combine(Path.GetTempPath(), $"chaser-shutdown-{Guid.NewGuid():N}.db");
        var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";
        using var serve = await ServeProcess.StartAsync(Token, ["--urls", url, "--db", database], Ct);
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = Timeout.InfiniteTimeSpan };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            using var stream = await client.GetAsync(new Uri("/api/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, Ct);
            using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(Ct));
            Assert.Equal("event: orders", await reader.ReadLineAsync(Ct));

            var stopwatch = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(Ct);
            }

            // The host's own shutdown timeout is 30 s; the stream must end with the server, well before that.
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            limit.CancelAfter(TimeSpan.FromSeconds(15));
            await serve.WaitForExitAsync(limit.Token);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"serve took {stopwatch.Elapsed.TotalSeconds:0.0} s to stop");
            Assert.Equal(0, serve.ExitCode);
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill();
            }
        }
    }

    [Fact]
    public async Task A_database_gone_mid_order_does_not_hold_the_shutdown_for_good()
    {
        await using var postgres = await TestDatabase.CreateAsync(DatabaseProvider.PostgreSql);
        var database = postgres.ConnectionString;
        var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";
        using var serve = await ServeProcess.StartAsync(Token, ["--urls", url, "--db", database], Ct);
        try
        {
            // An order working (it records mids and events all the time), then its database dropped under it.
            using var client = new HttpClient { BaseAddress = new Uri(url) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            using var created = await client.PostAsync(new Uri("/api/orders", UriKind.Relative), new StringContent("""{"symbol":"BTCUSDT","side":1,"size":3000000,"size_type":"n"}""", Encoding.UTF8, "application/json"), Ct);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var id = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt64();
            using var execute = await client.PostAsync(new Uri("/api/orders/execute", UriKind.Relative), new StringContent($$"""{"ids":[{{id}}]}""", Encoding.UTF8, "application/json"), Ct);
            Assert.Equal(HttpStatusCode.Accepted, execute.StatusCode);
            await Task.Delay(1000, Ct);
            await postgres.AdminAsync("DROP DATABASE {db} WITH (FORCE)");

            await Task.Delay(1000, Ct);
            var stopwatch = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(Ct);
            }

            // The last flush waits the recorder's close timeout (30 s) and says so; before, it waited for good.
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            limit.CancelAfter(TimeSpan.FromSeconds(90));
            await serve.WaitForExitAsync(limit.Token);
            Assert.Equal(2, serve.ExitCode);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(75), $"serve took {stopwatch.Elapsed.TotalSeconds:0.0} s to stop");
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill();
            }
        }
    }
}
