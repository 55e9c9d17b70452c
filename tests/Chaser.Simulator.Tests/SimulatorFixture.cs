using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;

namespace Chaser.Simulator.Tests;

/// <summary>A simulator on an ephemeral loopback port with a manual market and a frozen clock, plus client helpers.</summary>
internal sealed class SimulatorFixture : IAsyncDisposable
{
    public const string Btc = "BTCUSDT";

    private SimulatorFixture(SimulatorServer server, ManualTimeProvider clock)
    {
        Server = server;
        Clock = clock;
        Http = new HttpClient { BaseAddress = server.RestBaseUrl, Timeout = TimeSpan.FromSeconds(10) };
    }

    public SimulatorServer Server { get; }
    public ManualTimeProvider Clock { get; }
    public HttpClient Http { get; }
    public ExchangeEngine Engine => Server.Engine;

    public static async Task<SimulatorFixture> StartAsync(Func<SimulatorOptions, SimulatorOptions>? configure = null, ManualTimeProvider? clock = null)
    {
        clock ??= new ManualTimeProvider();
        var options = new SimulatorOptions { Source = MarketSourceKind.Manual, TimeProvider = clock };
        options = configure?.Invoke(options) ?? options;
        var server = await SimulatorServer.StartAsync(options, TestContext.Current.CancellationToken);
        server.Engine.ReplaceBook(Btc, [new(64999.9m, 5m), new(64999.8m, 7m)], [new(65000.0m, 4m), new(65000.1m, 6m)]);
        return new SimulatorFixture(server, clock);
    }

    public static string Sign(string secret, string payload) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(payload)));

    /// <summary>Signed request with all parameters in the query string (timestamp added, signature last).</summary>
    public Task<HttpResponseMessage> SignedAsync(HttpMethod method, string path, string query, string? apiKey = null, long? timestamp = null)
    {
        var ts = (timestamp ?? Clock.NowMs).ToString(CultureInfo.InvariantCulture);
        var payload = (query.Length > 0 ? query + "&" : string.Empty) + "timestamp=" + ts;
        var signature = Sign(Server.ApiSecret, payload);
        var request = new HttpRequestMessage(method, $"{path}?{payload}&signature={signature}");
        request.Headers.Add("X-MBX-APIKEY", apiKey ?? Server.ApiKey);
        return Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>Signed request with the parameters in a form body (how ccxt sends POST/PUT).</summary>
    public Task<HttpResponseMessage> SignedBodyAsync(HttpMethod method, string path, string body)
    {
        var payload = body + "&timestamp=" + Clock.NowMs.ToString(CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(method, path)
        {
            Content = new StringContent(payload + "&signature=" + Sign(Server.ApiSecret, payload), Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Add("X-MBX-APIKEY", Server.ApiKey);
        return Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

#pragma warning disable CA1822 // instance API on purpose: reads as sim.SendAsync(sim.SignedAsync(...))
    public async Task<(int Status, JsonElement Json)> SendAsync(Task<HttpResponseMessage> send)
#pragma warning restore CA1822
    {
        using var response = await send;
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task<JsonElement> GetJsonAsync(string pathAndQuery)
    {
        var (status, json) = await SendAsync(Http.GetAsync(pathAndQuery, TestContext.Current.CancellationToken));
        Assert.Equal(200, status);
        return json;
    }

    /// <summary>POST /fapi/v1/listenKey: the account's active user-data key.</summary>
    public async Task<string> ListenKeyAsync()
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "/fapi/v1/listenKey");
        post.Headers.Add("X-MBX-APIKEY", Server.ApiKey);
        var (_, json) = await SendAsync(Http.SendAsync(post, TestContext.Current.CancellationToken));
        return json.GetProperty("listenKey").GetString()!;
    }

    public async Task<ClientWebSocket> ConnectAsync(string pathAndQuery)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(Server.WebSocketBaseUrl, pathAndQuery), TestContext.Current.CancellationToken);
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}

internal static class WebSocketTestExtensions
{
    /// <summary>Next text frame as JSON, failing the test after a bounded wait.</summary>
    public static async Task<JsonElement> ReceiveJsonAsync(this WebSocket socket, int timeoutMs = 5000)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeoutMs);
        var buffer = new byte[256 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException("closed: " + result.CloseStatus);
            }

            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
    }

    /// <summary>Skips frames until one matches, within a bounded wait.</summary>
    public static async Task<JsonElement> ReceiveUntilAsync(this WebSocket socket, Func<JsonElement, bool> match, int timeoutMs = 5000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            var remaining = (int)(deadline - DateTime.UtcNow).TotalMilliseconds;
            Assert.True(remaining > 0, "no matching frame in time");
            var json = await socket.ReceiveJsonAsync(remaining);
            if (match(json))
            {
                return json;
            }
        }
    }

    public static Task SendTextAsync(this WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);

    public static string[] PropertyNames(this JsonElement e) => [.. e.EnumerateObject().Select(p => p.Name)];
}
