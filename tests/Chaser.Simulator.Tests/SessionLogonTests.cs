using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Chaser.Simulator.Server;
using Org.BouncyCastle.Math.EC.Rfc8032;
using static Chaser.Simulator.Tests.SimulatorFixture;

namespace Chaser.Simulator.Tests;

/// <summary>
/// The WebSocket API's session authentication as Binance's "Session Authentication" describes it: session.logon with
/// an Ed25519 key (an HMAC key is refused, -4056), verified over apiKey, recvWindow and timestamp sorted; a logged-on
/// connection's requests may leave out apiKey and signature (the timestamp is still checked); an unauthenticated
/// connection's may not (-1102 naming apiKey); session.status and session.logout show and forget the key. REST takes
/// the Ed25519 key's base64 signatures too.
/// </summary>
public class SessionLogonTests
{
    private const string Ed25519Key = "ed25519-test-key-0123456789abcdefghijklmnopqrstuvwxyz0123456789AB";

    private static readonly byte[] Seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");

    private static byte[] PublicKey()
    {
        var publicKey = new byte[Ed25519.PublicKeySize];
        Ed25519.GeneratePublicKey(Seed, 0, publicKey, 0);
        return publicKey;
    }

    private static string SignEd25519(string payload, byte[]? seed = null)
    {
        var message = Encoding.UTF8.GetBytes(payload);
        var signature = new byte[Ed25519.SignatureSize];
        Ed25519.Sign(seed ?? Seed, 0, message, 0, message.Length, signature, 0);
        return Convert.ToBase64String(signature);
    }

    private static Task<SimulatorFixture> StartAsync() =>
        SimulatorFixture.StartAsync(o => o with { Ed25519PublicKeys = new Dictionary<string, byte[]> { [Ed25519Key] = PublicKey() } });

    /// <summary>A request frame; with <paramref name="apiKey"/> the params carry it, the timestamp and the signature <paramref name="sign"/> makes of the sorted payload.</summary>
    private static string Frame(SimulatorFixture sim, string id, string method, SortedDictionary<string, string>? ps = null, string? apiKey = null, Func<string, string>? sign = null, long? timestamp = null)
    {
        ps ??= new(StringComparer.Ordinal);
        ps["timestamp"] = (timestamp ?? sim.Clock.NowMs).ToString(CultureInfo.InvariantCulture);
        if (apiKey is not null)
        {
            ps["apiKey"] = apiKey;
            ps["signature"] = (sign ?? (p => SignEd25519(p)))(string.Join('&', ps.Select(kv => kv.Key + "=" + kv.Value)));
        }

        // timestamp goes as a JSON number, as Binance wants INT parameters
        var json = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (k, v) in ps)
        {
            json[k] = k is "timestamp" or "recvWindow" ? long.Parse(v, CultureInfo.InvariantCulture) : v;
        }

        return JsonSerializer.Serialize(new { id, method, @params = json });
    }

    private static string LogonFrame(SimulatorFixture sim, string id, string apiKey = Ed25519Key, Func<string, string>? sign = null, long? timestamp = null) =>
        Frame(sim, id, "session.logon", new(StringComparer.Ordinal) { ["recvWindow"] = "5000" }, apiKey, sign, timestamp);

    private static SortedDictionary<string, string> Order(string price = "64999.9") => new(StringComparer.Ordinal)
    {
        ["symbol"] = Btc,
        ["side"] = "BUY",
        ["type"] = "LIMIT",
        ["timeInForce"] = "GTX",
        ["quantity"] = "0.010",
        ["price"] = price,
    };

    private static async Task<JsonElement> AskAsync(ClientWebSocket ws, string frame)
    {
        await ws.SendTextAsync(frame);
        return await ws.ReceiveJsonAsync();
    }

    private static int Code(JsonElement answer) => answer.GetProperty("error").GetProperty("code").GetInt32();

    private static async Task<ClientWebSocket> ConnectApiAsync(SimulatorFixture sim)
    {
        var ws = new ClientWebSocket();
        await ws.ConnectAsync(sim.Server.WebSocketApiUrl, TestContext.Current.CancellationToken);
        return ws;
    }

    [Fact]
    public async Task A_logged_on_connection_places_and_cancels_without_api_key_or_signature_until_it_logs_out()
    {
        await using var sim = await StartAsync();
        using var ws = await ConnectApiAsync(sim);

        var logon = await AskAsync(ws, LogonFrame(sim, "l1"));
        Assert.Equal(200, logon.GetProperty("status").GetInt32());
        var result = logon.GetProperty("result");
        Assert.Equal(["apiKey", "authorizedSince", "connectedSince", "returnRateLimits", "serverTime", "userDataStream"], result.PropertyNames());
        Assert.Equal(Ed25519Key, result.GetProperty("apiKey").GetString());
        Assert.Equal(sim.Clock.NowMs, result.GetProperty("authorizedSince").GetInt64());

        var placed = await AskAsync(ws, Frame(sim, "p1", "order.place", Order()));
        Assert.Equal(200, placed.GetProperty("status").GetInt32());
        Assert.Equal("NEW", placed.GetProperty("result").GetProperty("status").GetString());

        var status = await AskAsync(ws, Frame(sim, "s1", "session.status"));
        Assert.Equal(Ed25519Key, status.GetProperty("result").GetProperty("apiKey").GetString());

        var orderId = placed.GetProperty("result").GetProperty("orderId").GetInt64().ToString(CultureInfo.InvariantCulture);
        var canceled = await AskAsync(ws, Frame(sim, "c1", "order.cancel", new(StringComparer.Ordinal) { ["symbol"] = Btc, ["orderId"] = orderId }));
        Assert.Equal("CANCELED", canceled.GetProperty("result").GetProperty("status").GetString());

        var logout = await AskAsync(ws, Frame(sim, "o1", "session.logout"));
        Assert.Equal(JsonValueKind.Null, logout.GetProperty("result").GetProperty("apiKey").ValueKind);
        Assert.Equal(JsonValueKind.Null, logout.GetProperty("result").GetProperty("authorizedSince").ValueKind);

        // Logged out: an unsigned order is what it is on a fresh connection.
        var refused = await AskAsync(ws, Frame(sim, "p2", "order.place", Order()));
        Assert.Equal(400, refused.GetProperty("status").GetInt32());
        Assert.Equal(-1102, Code(refused));
        Assert.Contains("'apiKey'", refused.GetProperty("error").GetProperty("msg").GetString(), StringComparison.Ordinal);
        Assert.Single(sim.Engine.GetAllOrders(Btc, null, 1000));
    }

    [Fact]
    public async Task An_unauthenticated_connection_refuses_unsigned_orders_and_reports_no_key()
    {
        await using var sim = await StartAsync();
        using var ws = await ConnectApiAsync(sim);

        var status = await AskAsync(ws, Frame(sim, "s1", "session.status"));
        Assert.Equal(JsonValueKind.Null, status.GetProperty("result").GetProperty("apiKey").ValueKind);

        var refused = await AskAsync(ws, Frame(sim, "p1", "order.place", Order()));
        Assert.Equal(-1102, Code(refused));
        Assert.Empty(sim.Engine.GetAllOrders(Btc, null, 1000));

        // Another connection's logon does not authenticate this one.
        using var other = await ConnectApiAsync(sim);
        Assert.Equal(200, (await AskAsync(other, LogonFrame(sim, "l1"))).GetProperty("status").GetInt32());
        Assert.Equal(-1102, Code(await AskAsync(ws, Frame(sim, "p2", "order.place", Order()))));
        Assert.Equal(200, (await AskAsync(other, Frame(sim, "p3", "order.place", Order()))).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Logon_with_an_hmac_key_is_refused_with_4056_even_when_its_signature_is_right()
    {
        await using var sim = await StartAsync();
        using var ws = await ConnectApiAsync(sim);

        var refused = await AskAsync(ws, LogonFrame(sim, "l1", sim.Server.ApiKey, p => Sign(sim.Server.ApiSecret, p)));
        Assert.Equal(400, refused.GetProperty("status").GetInt32());
        Assert.Equal(-4056, Code(refused));
        Assert.Equal("HMAC_SHA256 API key is not supported.", refused.GetProperty("error").GetProperty("msg").GetString());
        Assert.Equal(-1102, Code(await AskAsync(ws, Frame(sim, "p1", "order.place", Order()))));

        // The HMAC key still signs each request itself on the same connection.
        var signed = await AskAsync(ws, Frame(sim, "p2", "order.place", Order(), sim.Server.ApiKey, p => Sign(sim.Server.ApiSecret, p)));
        Assert.Equal(200, signed.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Logon_with_a_bad_signature_an_old_timestamp_or_an_unknown_key_is_refused_and_leaves_the_connection_unauthenticated()
    {
        await using var sim = await StartAsync();
        using var ws = await ConnectApiAsync(sim);
        var otherSeed = new byte[32];
        otherSeed[0] = 7;

        Assert.Equal(-1022, Code(await AskAsync(ws, LogonFrame(sim, "l1", sign: p => SignEd25519(p, otherSeed)))));
        Assert.Equal(-1022, Code(await AskAsync(ws, LogonFrame(sim, "l2", sign: p => SignEd25519(p + "&x=1")))));
        Assert.Equal(-1022, Code(await AskAsync(ws, LogonFrame(sim, "l3", sign: _ => "not base64!"))));
        Assert.Equal(-1021, Code(await AskAsync(ws, LogonFrame(sim, "l4", timestamp: sim.Clock.NowMs - 6_000))));
        Assert.Equal(-1021, Code(await AskAsync(ws, LogonFrame(sim, "l5", timestamp: sim.Clock.NowMs + 1_000))));
        var unknown = await AskAsync(ws, LogonFrame(sim, "l6", apiKey: "no-such-key"));
        Assert.Equal(401, unknown.GetProperty("status").GetInt32());
        Assert.Equal(-2015, Code(unknown));

        Assert.Equal(JsonValueKind.Null, (await AskAsync(ws, Frame(sim, "s1", "session.status"))).GetProperty("result").GetProperty("apiKey").ValueKind);
        Assert.Equal(-1102, Code(await AskAsync(ws, Frame(sim, "p1", "order.place", Order()))));
        Assert.Empty(sim.Engine.GetAllOrders(Btc, null, 1000));
    }

    [Fact]
    public async Task A_logged_on_connection_still_checks_each_requests_timestamp_and_an_explicit_signature()
    {
        await using var sim = await StartAsync();
        using var ws = await ConnectApiAsync(sim);
        Assert.Equal(200, (await AskAsync(ws, LogonFrame(sim, "l1"))).GetProperty("status").GetInt32());

        Assert.Equal(-1021, Code(await AskAsync(ws, Frame(sim, "p1", "order.place", Order(), timestamp: sim.Clock.NowMs - 6_000))));

        // A request that names a key is authorized by its own signature, not by the session.
        Assert.Equal(-1022, Code(await AskAsync(ws, Frame(sim, "p2", "order.place", Order(), sim.Server.ApiKey, _ => new string('f', 64)))));
        Assert.Empty(sim.Engine.GetAllOrders(Btc, null, 1000));
    }

    [Fact]
    public async Task Rest_takes_an_ed25519_keys_url_encoded_base64_signature_and_refuses_a_wrong_one()
    {
        await using var sim = await StartAsync();
        var payload = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=64999.9&timestamp=" + sim.Clock.NowMs.ToString(CultureInfo.InvariantCulture);

        async Task<(int Status, JsonElement Json)> PostAsync(string signature)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/fapi/v1/order?{payload}&signature={Uri.EscapeDataString(signature)}");
            request.Headers.Add("X-MBX-APIKEY", Ed25519Key);
            return await sim.SendAsync(sim.Http.SendAsync(request, TestContext.Current.CancellationToken));
        }

        var (badStatus, bad) = await PostAsync(Sign(sim.Server.ApiSecret, payload));
        Assert.Equal(400, badStatus);
        Assert.Equal(-1022, bad.GetProperty("code").GetInt32());

        var (status, placed) = await PostAsync(SignEd25519(payload));
        Assert.Equal(200, status);
        Assert.Equal("NEW", placed.GetProperty("status").GetString());
    }

    [Fact]
    public void A_pem_public_key_is_read_and_anything_else_is_refused_naming_why()
    {
        var der = Convert.FromHexString("302a300506032b6570032100").Concat(PublicKey()).ToArray();
        var pem = PemFormat("PUBLIC KEY", der);
        Assert.Equal(PublicKey(), Ed25519PublicKeyPem.Read(pem));

        Assert.Contains("PUBLIC KEY", Assert.Throws<FormatException>(() => Ed25519PublicKeyPem.Read("not a pem")).Message, StringComparison.Ordinal);
        Assert.Contains("PUBLIC KEY", Assert.Throws<FormatException>(() => Ed25519PublicKeyPem.Read(PemFormat("PRIVATE KEY", der))).Message, StringComparison.Ordinal);

        // An RSA or X25519 key (another OID) is not an Ed25519 key.
        var x25519 = (byte[])der.Clone();
        x25519[8] = 0x6E;
        Assert.Contains("not an Ed25519 key", Assert.Throws<FormatException>(() => Ed25519PublicKeyPem.Read(PemFormat("PUBLIC KEY", x25519))).Message, StringComparison.Ordinal);
        Assert.Contains("not an Ed25519 key", Assert.Throws<FormatException>(() => Ed25519PublicKeyPem.Read(PemFormat("PUBLIC KEY", der[..^1]))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_ed25519_key_that_is_not_32_bytes_or_shadows_the_hmac_key_stops_the_simulator_from_starting()
    {
        var ct = TestContext.Current.CancellationToken;
        var shortKey = new SimulatorOptions { Source = MarketSourceKind.Manual, Ed25519PublicKeys = new Dictionary<string, byte[]> { ["k"] = new byte[31] } };
        Assert.Contains("32 bytes", (await Assert.ThrowsAsync<ArgumentException>(async () => await SimulatorServer.StartAsync(shortKey, ct))).Message, StringComparison.Ordinal);

        var shadow = new SimulatorOptions { Source = MarketSourceKind.Manual, Ed25519PublicKeys = new Dictionary<string, byte[]> { [SimulatorOptions.DefaultApiKey] = PublicKey() } };
        Assert.Contains("differ from the HMAC API key", (await Assert.ThrowsAsync<ArgumentException>(async () => await SimulatorServer.StartAsync(shadow, ct))).Message, StringComparison.Ordinal);
    }

    private static string PemFormat(string label, byte[] der) => new(System.Security.Cryptography.PemEncoding.Write(label, der));
}
