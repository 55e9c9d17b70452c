using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chaser.EndToEnd.Tests;

/// <summary>
/// A WebSocket proxy in front of the simulator that is as strict as Binance is since 2026-04-23 (§6, §7 of
/// binance-futures-api.md): only the routed forms are served (<c>/public</c> for bookTicker and depth, <c>/market</c>
/// for trades, <c>/private</c> for listen keys); the retired <c>/ws</c> and <c>/stream</c> answer 404, and a stream
/// asked for on the wrong route is left out (it "gets nothing"). It records every connection and every stream asked
/// for, and can mute the connections open now (a dead feed that still answers pings).
/// </summary>
internal sealed class StrictRoutingProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Uri _upstream;
    private readonly ConcurrentQueue<string> _connections = new();
    private readonly ConcurrentQueue<(string Route, string Stream)> _requested = new();
    private readonly ConcurrentQueue<(string Route, string Stream)> _misrouted = new();
    private readonly ConcurrentDictionary<Connection, byte> _open = new();

    private StrictRoutingProxy(WebApplication app, Uri upstream)
    {
        _app = app;
        _upstream = upstream;
    }

    /// <summary>ws://127.0.0.1:port: the connector's stream base.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Path and query of every WebSocket connection asked for, refused ones included.</summary>
    public IReadOnlyList<string> ConnectionPaths => [.. _connections];

    /// <summary>Every stream asked for (in the path or a SUBSCRIBE) with the route it was asked on.</summary>
    public IReadOnlyList<(string Route, string Stream)> Requested => [.. _requested];

    public IReadOnlyList<(string Route, string Stream)> Misrouted => [.. _misrouted];

    /// <summary>SUBSCRIBE messages received, by route.</summary>
    public int Subscribes(string route) => _subscribes.GetValueOrDefault(route);

    private readonly ConcurrentDictionary<string, int> _subscribes = new(StringComparer.Ordinal);

    /// <summary>When set, frames of the private route that carry ORDER_TRADE_UPDATE x=TRADE are preceded by a TRADE_LITE for the same trade, as Binance sends.</summary>
    public bool InjectTradeLite { get; set; }

    public int TradeLitesInjected => Volatile.Read(ref _tradeLites);

    private int _tradeLites;

    public static async Task<StrictRoutingProxy> StartAsync(Uri upstream)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var proxy = new StrictRoutingProxy(app, upstream);
        app.UseWebSockets();
        app.Run(proxy.HandleAsync);
        await app.StartAsync();
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        proxy.BaseUrl = new Uri($"ws://{bound.Host}:{bound.Port}");
        return proxy;
    }

    /// <summary>
    /// The next <paramref name="count"/> connections on a route are accepted and then neither read nor answered: a
    /// peer gone dead without closing, which answers no ping either.
    /// </summary>
    public void BlackHoleNext(string route, int count)
    {
        _blackHoleRoute = route;
        Volatile.Write(ref _blackHoles, count);
    }

    public int BlackHoled => Volatile.Read(ref _blackHoled);

    private string? _blackHoleRoute;
    private int _blackHoles;
    private int _blackHoled;

    /// <summary>
    /// When set, a <c>/private</c> connection whose upstream closed (a listen key that expired: the simulator sends
    /// <c>listenKeyExpired</c> and closes) stays open towards the client, silent but answering pings, as Binance may
    /// leave it (§7 of binance-futures-api.md).
    /// </summary>
    public bool KeepUserStreamsOpenAfterUpstreamCloses { get; set; }

    /// <summary>When set, <c>listenKeyExpired</c> events are not passed on: a client then learns of the lapse only from the exchange's answers.</summary>
    public bool DropListenKeyExpired { get; set; }

    /// <summary>User stream connections held open after their upstream closed.</summary>
    public int UserStreamsHeldOpen => Volatile.Read(ref _heldOpen);

    private int _heldOpen;

    /// <summary>Stops forwarding data on every connection open now, leaving them open: their client must notice the silence.</summary>
    public int MuteOpenConnections(string route)
    {
        var muted = 0;
        foreach (var connection in _open.Keys)
        {
            if (connection.Route == route)
            {
                connection.Muted = true;
                muted++;
            }
        }

        return muted;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _open.Keys)
        {
            connection.Stop.Cancel();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Binance's split (§6): book data on /public, the rest of the market on /market, listen keys on /private.</summary>
    private static bool Allowed(string route, string stream) => route switch
    {
        "/public" => stream.Contains("@bookTicker", StringComparison.OrdinalIgnoreCase) || stream.Contains("@depth", StringComparison.Ordinal),
        "/market" => stream.Contains('@', StringComparison.Ordinal) && !stream.Contains("@bookTicker", StringComparison.OrdinalIgnoreCase) && !stream.Contains("@depth", StringComparison.Ordinal),
        "/private" => !stream.Contains('@', StringComparison.Ordinal),
        _ => false,
    };

    private async Task HandleAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? string.Empty;
        _connections.Enqueue(path + http.Request.QueryString.Value);
        var route = new[] { "/public", "/market", "/private" }.FirstOrDefault(r => path == r + "/ws" || path.StartsWith(r + "/ws/", StringComparison.Ordinal) || path == r + "/stream");
        if (route is null || !http.WebSockets.IsWebSocketRequest)
        {
            // The legacy unrouted forms are retired.
            http.Response.StatusCode = 404;
            return;
        }

        var inPath = path.StartsWith(route + "/ws/", StringComparison.Ordinal) ? path[(route.Length + 4)..].Split('/', StringSplitOptions.RemoveEmptyEntries) : [];
        var inQuery = http.Request.Query["streams"].ToString().Split('/', StringSplitOptions.RemoveEmptyEntries);
        var kept = new List<string>();
        foreach (var stream in inPath.Concat(inQuery))
        {
            _requested.Enqueue((route, stream));
            if (Allowed(route, stream))
            {
                kept.Add(stream);
            }
            else
            {
                _misrouted.Enqueue((route, stream));
            }
        }

        if (route == _blackHoleRoute && Interlocked.Decrement(ref _blackHoles) >= 0)
        {
            using var dead = await http.WebSockets.AcceptWebSocketAsync();
            Interlocked.Increment(ref _blackHoled);
            try
            {
                await Task.Delay(Timeout.Infinite, http.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The client gave up on it.
            }

            return;
        }

        var upstreamPath = path.StartsWith(route + "/ws", StringComparison.Ordinal)
            ? route + "/ws" + (kept.Count > 0 && inPath.Length > 0 ? "/" + string.Join('/', kept) : string.Empty)
            : route + "/stream?streams=" + string.Join('/', kept);
        if (http.Request.Query["listenKey"].ToString() is { Length: > 0 } key)
        {
            upstreamPath += (upstreamPath.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "listenKey=" + key;
        }

        using var upstream = new ClientWebSocket();
        await upstream.ConnectAsync(new Uri(_upstream, upstreamPath), http.RequestAborted);
        using var client = await http.WebSockets.AcceptWebSocketAsync();
        var connection = new Connection(route);
        _open[connection] = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, connection.Stop.Token);
        try
        {
            var down = PumpAsync(upstream, client, connection, fromClient: false, stop.Token);
            var up = PumpAsync(client, upstream, connection, fromClient: true, stop.Token);
            if (await Task.WhenAny(down, up) == down && route == "/private" && KeepUserStreamsOpenAfterUpstreamCloses)
            {
                // Reading on answers the client's pings: only data stops.
                Interlocked.Increment(ref _heldOpen);
                await up;
            }
        }
        finally
        {
            _open.TryRemove(connection, out _);
            await connection.Stop.CancelAsync();
            client.Abort();
            upstream.Abort();
            connection.Stop.Dispose();
        }
    }

    private async Task PumpAsync(WebSocket from, WebSocket to, Connection connection, bool fromClient, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (!ct.IsCancellationRequested)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await from.ReceiveAsync(buffer, ct);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                var bytes = message.ToArray();
                if (fromClient)
                {
                    bytes = FilterControl(connection.Route, bytes);
                }
                else if (connection.Muted)
                {
                    continue;
                }
                else if (connection.Route == "/private" && DropListenKeyExpired && bytes.AsSpan().IndexOf("\"listenKeyExpired\""u8) >= 0)
                {
                    continue;
                }
                else if (connection.Route == "/private" && InjectTradeLite && TradeLite(bytes) is { } lite)
                {
                    Interlocked.Increment(ref _tradeLites);
                    await to.SendAsync(lite, WebSocketMessageType.Text, true, ct);
                }

                await to.SendAsync(bytes, WebSocketMessageType.Text, true, ct);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // One side went away.
        }
    }

    /// <summary>Records a SUBSCRIBE's streams and forwards only those the route serves.</summary>
    private byte[] FilterControl(string route, byte[] bytes)
    {
        using var document = JsonDocument.Parse(bytes);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("method", out var method) || method.GetString() != "SUBSCRIBE")
        {
            return bytes;
        }

        _subscribes.AddOrUpdate(route, 1, (_, n) => n + 1);
        var kept = new List<string>();
        foreach (var name in root.GetProperty("params").EnumerateArray().Select(p => p.GetString()!))
        {
            _requested.Enqueue((route, name));
            if (Allowed(route, name))
            {
                kept.Add(name);
            }
            else
            {
                _misrouted.Enqueue((route, name));
            }
        }

        return JsonSerializer.SerializeToUtf8Bytes(new { method = "SUBSCRIBE", @params = kept, id = root.GetProperty("id") });
    }

    /// <summary>Binance's TRADE_LITE (§7) for an ORDER_TRADE_UPDATE that reports a trade; null for any other frame.</summary>
    private static byte[]? TradeLite(byte[] frame)
    {
        using var document = JsonDocument.Parse(frame);
        var root = document.RootElement;
        if (!root.TryGetProperty("e", out var e) || e.GetString() != "ORDER_TRADE_UPDATE")
        {
            return null;
        }

        var o = root.GetProperty("o");
        if (o.GetProperty("x").GetString() != "TRADE")
        {
            return null;
        }

        var lite = new StringBuilder("{\"e\":\"TRADE_LITE\"");
        lite.Append(",\"E\":").Append(root.GetProperty("E").GetRawText());
        lite.Append(",\"T\":").Append(root.GetProperty("T").GetRawText());
        foreach (var field in new[] { "s", "q", "p", "m", "c", "S", "L", "l", "t", "i" })
        {
            if (o.TryGetProperty(field, out var value))
            {
                lite.Append(",\"").Append(field).Append("\":").Append(value.GetRawText());
            }
        }

        return Encoding.UTF8.GetBytes(lite.Append('}').ToString());
    }

    private sealed class Connection(string route)
    {
        public string Route { get; } = route;

        public CancellationTokenSource Stop { get; } = new();

        public volatile bool Muted;
    }
}
