using System.Globalization;
using System.Text;
using System.Text.Json;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Wire;
using Microsoft.AspNetCore.Http;

namespace Chaser.Simulator.Server;

internal enum Security
{
    None,
    ApiKey,
    Signed,
}

/// <summary>The REST API under /fapi: routing, weights, API key and signature checks, rate limits, faults, latency.</summary>
internal sealed partial class RestApi
{
    private readonly SimulatorContext context;
    private readonly Dictionary<(string Method, string Path), Endpoint> endpoints = [];

    public RestApi(SimulatorContext context)
    {
        this.context = context;
        RegisterMarketData();
        RegisterTrading();
        RegisterAccount();
    }

    private ExchangeEngine Engine => context.Engine;

    private delegate byte[] Handler(RequestParameters p);

    private sealed record Endpoint(Security Security, Func<RequestParameters, int> Weight, int Orders10s, int Orders1m, Handler Handle, bool OrderEntry = false, bool Cancel = false);

    private void Add(string method, string path, Security security, int weight, Handler handle) =>
        endpoints[(method, path)] = new Endpoint(security, _ => weight, 0, 0, handle);

    private void Add(string method, string path, Security security, Func<RequestParameters, int> weight, Handler handle) =>
        endpoints[(method, path)] = new Endpoint(security, weight, 0, 0, handle);

    private void AddOrder(string method, string path, int weight, int orders10s, int orders1m, Handler handle) =>
        endpoints[(method, path)] = new Endpoint(Security.Signed, _ => weight, orders10s, orders1m, handle, OrderEntry: true);

    // Cancels don't count as orders for the rate limits, but they travel the same order-entry path and take as long.
    private void AddCancel(string path, int weight, Handler handle) =>
        endpoints[("DELETE", path)] = new Endpoint(Security.Signed, _ => weight, 0, 0, handle, Cancel: true);

    public static bool Handles(string path) => path.StartsWith("/fapi/", StringComparison.Ordinal);

    public async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        var response = http.Response;
        var path = request.Path.Value ?? string.Empty;
        var ip = http.Connection.RemoteIpAddress?.ToString() ?? "127.0.0.1";
        if (ip.StartsWith("::ffff:", StringComparison.Ordinal))
        {
            ip = ip[7..];
        }

        if (!endpoints.TryGetValue((request.Method, path), out var endpoint))
        {
            await WriteAsync(response, 404, BinanceJson.Error(-5000, $"Path {path}, Method {request.Method} is invalid"), http.RequestAborted);
            return;
        }

        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(http.RequestAborted);
        }

        var faults = context.Faults;
        try
        {
            var p = new RequestParameters(request.QueryString.Value ?? string.Empty, body);
            if (faults.TryTakeHold(request.Method, path, out var hold))
            {
                // A slow backend: the request is handled, late (the client may have given up by then).
                await Task.Delay(hold, context.Clock, http.RequestAborted);
            }

            if (faults.Roll(faults.Options.TimeoutProbability))
            {
                await Task.Delay(faults.Options.TimeoutDelay, context.Clock, http.RequestAborted);
                await WriteAsync(response, 408, BinanceJson.Error(-1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown."), http.RequestAborted);
                return;
            }

            if (faults.Roll(faults.Options.ServiceUnavailableProbability))
            {
                await WriteAsync(response, 503, BinanceJson.Error(-1000, "Service Unavailable."), http.RequestAborted);
                return;
            }

            if (faults.Roll(faults.Options.TooManyRequestsProbability))
            {
                response.Headers["Retry-After"] = "1";
                await WriteAsync(response, 429, BinanceJson.Error(-1003, $"Too many requests; current limit of IP({ip}) request weight is {context.RateLimits.Options.RequestWeightPerMinute} per minute. Please use WebSocket Streams for live updates to avoid polling the API."), http.RequestAborted);
                return;
            }

            var used = context.RateLimits.ChargeWeight(ip, endpoint.Weight(p));
            response.Headers["X-MBX-USED-WEIGHT-1M"] = used.ToString(CultureInfo.InvariantCulture);
            if (endpoint.Security != Security.None)
            {
                Authenticate(request, p, ip, endpoint.Security == Security.Signed);
            }

            if (endpoint.Orders10s > 0 || endpoint.Orders1m > 0)
            {
                var (tenSeconds, minute) = ChargeOrders(response, endpoint.Orders10s, endpoint.Orders1m);
                response.Headers["X-MBX-ORDER-COUNT-10S"] = tenSeconds.ToString(CultureInfo.InvariantCulture);
                response.Headers["X-MBX-ORDER-COUNT-1M"] = minute.ToString(CultureInfo.InvariantCulture);
            }

            if ((endpoint.OrderEntry || endpoint.Cancel) && context.Options.OrderEntryLatency > TimeSpan.Zero)
            {
                await Task.Delay(context.Options.OrderEntryLatency, context.Clock, http.RequestAborted);
            }

            var result = endpoint.Handle(p);
            if (endpoint.OrderEntry && faults.Roll(faults.Options.UnknownStatusProbability))
            {
                // The order was executed, but the client is told the outcome is unknown.
                await WriteAsync(response, 503, BinanceJson.Error(-1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown."), http.RequestAborted);
                return;
            }

            await WriteAsync(response, 200, result, http.RequestAborted);
        }
        catch (BinanceException ex)
        {
            if (ex.RetryAfterSeconds > 0)
            {
                response.Headers["Retry-After"] = ex.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            }

            await WriteAsync(response, ex.HttpStatus, BinanceJson.Error(ex.Code, ex.Message), http.RequestAborted);
        }
    }

    private (int, int) ChargeOrders(HttpResponse response, int tenSeconds, int minute)
    {
        try
        {
            return context.RateLimits.ChargeOrders(context.Options.ApiKey, tenSeconds, minute);
        }
        catch (BinanceException)
        {
            var counts = context.RateLimits.OrderCounts(context.Options.ApiKey);
            response.Headers["X-MBX-ORDER-COUNT-10S"] = counts.TenSeconds.ToString(CultureInfo.InvariantCulture);
            response.Headers["X-MBX-ORDER-COUNT-1M"] = counts.Minute.ToString(CultureInfo.InvariantCulture);
            throw;
        }
    }

    /// <summary>API key, then (for SIGNED) timestamp within recvWindow and the signature (HMAC or Ed25519, as the key is).</summary>
    private void Authenticate(HttpRequest request, RequestParameters p, string ip, bool signed)
    {
        var key = request.Headers["X-MBX-APIKEY"].ToString();
        if (key.Length == 0)
        {
            throw BinanceErrors.ApiKeyFormat();
        }

        if (!context.Credentials.IsKnown(key))
        {
            throw BinanceErrors.InvalidApiKey(ip);
        }

        if (signed)
        {
            CheckTimestamp(p, context.Engine.Now);
            if (!p.VerifyRestSignature(context.Credentials, key))
            {
                throw BinanceErrors.BadSignature();
            }
        }
    }

    /// <summary>Accepted when timestamp &lt; serverTime + 1000 and serverTime − timestamp ≤ recvWindow (default 5000).</summary>
    public static void CheckTimestamp(RequestParameters p, long serverTime)
    {
        var timestamp = p.OptionalLong("timestamp") ?? throw BinanceErrors.Mandatory("timestamp");
        var recvWindow = p.OptionalLong("recvWindow") ?? 5000;
        if (recvWindow is <= 0 or > 60000)
        {
            throw new BinanceException(-1131, "recvWindow must be less than 60000");
        }

        if (timestamp >= serverTime + 1000)
        {
            throw BinanceErrors.AheadOfServer();
        }

        if (serverTime - timestamp > recvWindow)
        {
            throw BinanceErrors.RecvWindow();
        }
    }

    private static async Task WriteAsync(HttpResponse response, int status, byte[] json, CancellationToken ct)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = json.Length;
        await response.Body.WriteAsync(json, ct);
    }

    private static byte[] Json(Action<Utf8JsonWriter> write) => JsonFrame.Write(write);

    private SymbolSpec Spec(string symbol) => Engine.GetSpec(symbol);
}
