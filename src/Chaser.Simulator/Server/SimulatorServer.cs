using System.Net;
using System.Security.Cryptography;
using System.Text;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Sources;
using Chaser.Simulator.Streams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Chaser.Simulator.Server;

/// <summary>
/// A Binance USDⓈ-M Futures exchange on one loopback port: REST under /fapi, market and user streams on their
/// routes /public, /market, /private (the retired unrouted /ws and /stream only with LegacyStreams), the
/// WebSocket API at /ws-fapi/v1.
/// <code>await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions());</code>
/// </summary>
public sealed class SimulatorServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly SimulatorContext context;
    private readonly StreamHub hub;
    private readonly RestApi rest;
    private readonly WsApi wsApi;
    private readonly MarketDriver? driver;
    private readonly CancellationTokenSource stopping = new();
    private readonly List<Task> background = [];
    private int disposed;

    private SimulatorServer(WebApplication app, SimulatorContext context, MarketDriver? driver, string sourceDescription)
    {
        this.app = app;
        this.context = context;
        this.driver = driver;
        SourceDescription = sourceDescription;
        hub = new StreamHub(context);
        rest = new RestApi(context);
        wsApi = new WsApi(context);
        context.Engine.Subscribe(hub);
    }

    /// <summary>e.g. http://127.0.0.1:8090 — use as the REST base (paths start with /fapi).</summary>
    public Uri RestBaseUrl { get; private set; } = null!;

    /// <summary>
    /// e.g. ws://127.0.0.1:8090 — append /public/ws/&lt;stream&gt;, /market/stream?streams=…,
    /// /private/ws/&lt;listenKey&gt;. (A Uri prints with a trailing slash; use <see cref="BaseText"/> to show it.)
    /// </summary>
    public Uri WebSocketBaseUrl { get; private set; } = null!;

    /// <summary>
    /// A base URL as text without the trailing slash System.Uri prints ("http://127.0.0.1:8090", not
    /// "http://127.0.0.1:8090/"): what is shown to users, whose libraries append paths to it.
    /// </summary>
    public static string BaseText(Uri baseUrl)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        return baseUrl.GetLeftPart(UriPartial.Authority);
    }

    /// <summary>e.g. ws://127.0.0.1:8090/ws-fapi/v1.</summary>
    public Uri WebSocketApiUrl { get; private set; } = null!;

    public string ApiKey => context.Options.ApiKey;

    public string ApiSecret => context.Options.ApiSecret;

    public SimulatorOptions Options => context.Options;

    /// <summary>The matching engine: inspect orders, user trades, positions; drive the market in Manual mode.</summary>
    public ExchangeEngine Engine => context.Engine;

    /// <summary>The market driver (null in Manual mode); tests may set Stalled.</summary>
    public MarketDriver? Market => driver;

    public string SourceDescription { get; }

    public static async Task<SimulatorServer> StartAsync(SimulatorOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);

        // Task.Delay's own bound (about 49 days) is the longest lifetime a connection timer can wait.
        if (options.ConnectionLifetime <= TimeSpan.Zero || options.ConnectionLifetime > TimeSpan.FromDays(49))
        {
            throw new ArgumentException($"ConnectionLifetime must be above zero and at most 49 days, got {options.ConnectionLifetime}", nameof(options));
        }

        if (options.PingInterval <= TimeSpan.Zero || options.PongTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"PingInterval and PongTimeout must be above zero, got {options.PingInterval} and {options.PongTimeout}", nameof(options));
        }

        var engineOptions = options.Engine;
        if (options.Symbols is { } names)
        {
            var specs = new List<SymbolSpec>();
            foreach (var name in names)
            {
                var spec = SymbolSpec.Find(name)
                    ?? throw new ArgumentException($"Unknown symbol '{name}'; known: {string.Join(", ", SymbolSpec.KnownNames)}", nameof(options));
                if (specs.Any(s => s.Symbol == spec.Symbol))
                {
                    throw new ArgumentException($"Symbol '{spec.Symbol}' is listed twice", nameof(options));
                }

                specs.Add(spec);
            }

            engineOptions = engineOptions with { Symbols = specs };
        }

        var engine = new ExchangeEngine(engineOptions, options.TimeProvider);
        var context = new SimulatorContext(options with { Engine = engineOptions }, engine);
        var source = CreateSource(options, engineOptions, engine.Now);
        var driver = source is null ? null : new MarketDriver(engine, source, options.Speed);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();

        // The host that embeds the simulator (chaser sim, chaser demo, a test) owns Ctrl-C and SIGTERM, not this server.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.WebHost.UseKestrel(k =>
        {
            var address = options.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host);
            k.Listen(address, options.Port);
        });
        var app = builder.Build();
        var server = new SimulatorServer(app, context, driver, source?.Description ?? "manual");
        app.UseWebSockets();
        app.Run(server.HandleAsync);

        // The initial book is in place before the first client can connect.
        driver?.ApplyFor(TimeSpan.Zero);
        await app.StartAsync(ct);
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        server.RestBaseUrl = new Uri($"http://{bound.Host}:{bound.Port}");
        server.WebSocketBaseUrl = new Uri($"ws://{bound.Host}:{bound.Port}");
        server.WebSocketApiUrl = new Uri($"ws://{bound.Host}:{bound.Port}/ws-fapi/v1");
        server.StartBackground();
        return server;
    }

    private static IMarketSource? CreateSource(SimulatorOptions options, EngineOptions engineOptions, long now) => options.Source switch
    {
        MarketSourceKind.Synthetic => new SyntheticSource(engineOptions.Symbols, options.Seed, now, options.Synthetic),
        MarketSourceKind.Replay => ReplaySource.Create(options.Replay ?? throw new ArgumentException("Replay needs files", nameof(options)), options.LoopReplay),
        _ => null,
    };

    private void StartBackground()
    {
        var ct = stopping.Token;
        if (driver is not null)
        {
            background.Add(Task.Run(() => driver.RunAsync(context.Clock, ct), ct));
        }

        background.Add(Task.Run(() => HousekeepingAsync(ct), ct));
    }

    /// <summary>Interval streams, GTD and countdown expiry, listen key expiry, market-data stalls.</summary>
    private async Task HousekeepingAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(25), context.Clock);
        var stallUntil = 0L;
        var lastStallRoll = context.Clock.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                context.Engine.OnTimer();
                context.ListenKeys.CheckExpiry();
                hub.Tick();
                if (driver is not null && context.Faults.Options.StallMarketDataProbability > 0)
                {
                    var now = context.Clock.GetTimestamp();
                    if (context.Clock.GetElapsedTime(lastStallRoll) >= TimeSpan.FromSeconds(1))
                    {
                        lastStallRoll = now;
                        if (context.Faults.Roll(context.Faults.Options.StallMarketDataProbability))
                        {
                            stallUntil = now + (long)(context.Faults.Options.StallDuration.TotalSeconds * context.Clock.TimestampFrequency);
                        }
                    }

                    driver.Stalled = now < stallUntil;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>The simulator's own status (not Binance's API): rate-limit refusals and peak order counts, as JSON.</summary>
    public const string StatsPath = "/sim/stats";

    private async Task WriteStatsAsync(HttpContext http)
    {
        var stats = context.RateLimits.Stats;
        http.Response.ContentType = "application/json";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("orders", stats.Orders);
            w.WriteNumber("peakOrders10s", stats.PeakOrders10s);
            w.WriteNumber("peakOrders1m", stats.PeakOrders1m);
            w.WriteNumber("rejected429", stats.TooManyRequests);
            w.WriteNumber("rejected418", stats.Banned);
            w.WriteNumber("rejected1015", stats.TooManyOrders);
            w.WriteEndObject();
        }

        await http.Response.Body.WriteAsync(buffer.WrittenMemory, http.RequestAborted);
    }

    private async Task HandleAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? string.Empty;
        if (RestApi.Handles(path))
        {
            await rest.HandleAsync(http);
            return;
        }

        if (path == StatsPath && HttpMethods.IsGet(http.Request.Method))
        {
            await WriteStatsAsync(http);
            return;
        }

        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = 404;
            return;
        }

        var ip = http.Connection.RemoteIpAddress?.ToString() ?? "127.0.0.1";
        if (path == "/ws-fapi/v1")
        {
            using var apiSocket = await Accept(http);
            using var apiStop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping.Token);
            await wsApi.RunAsync(apiSocket, ip, apiStop.Token);
            return;
        }

        if (StreamEndpoint.Parse(path, http.Request.QueryString.Value) is not { } endpoint)
        {
            http.Response.StatusCode = 404;
            return;
        }

        // Binance accepts the connection whatever the path names (clients such as ccxt connect to /ws/<n> and then
        // SUBSCRIBE); a name that is neither a stream nor a live listen key simply delivers nothing. On /private a
        // name that is no stream is a listen key, and an unknown one is not left as a silent open socket: the
        // connection is closed at once with Binance's -1125 text (Binance itself completes the handshake and then
        // sends nothing, which a client cannot tell from a quiet account).
        var streams = new List<string>();
        string? unknownKey = null;
        foreach (var name in endpoint.Requested.Select(r => r.Name))
        {
            if (StreamName.TryParse(name, context.Engine, out _) || context.ListenKeys.IsValid(name))
            {
                streams.Add(name);
            }
            else if (endpoint.Route == StreamRoute.Private)
            {
                unknownKey ??= name;
            }
        }

        using var connection = new StreamConnection(
            hub, context.Clock, endpoint.Route, endpoint.Route is null && context.Options.LegacyStreams, endpoint.Combined,
            context.Options.StreamMessagesPerSecond, context.Options.ConnectionLifetime);
        // a key named twice (…listenKey=k&events=A&listenKey=k&events=B) gets both filters; once without events=, all
        foreach (var named in endpoint.Requested.GroupBy(r => r.Name, StringComparer.Ordinal))
        {
            connection.SetEventFilter(named.Key, named.Any(r => r.Events is null) ? null : named.SelectMany(r => r.Events!).ToHashSet(StringComparer.Ordinal));
        }

        if (unknownKey is null && !hub.Subscribe(connection, streams, out var refused))
        {
            // only the per-connection stream limit can refuse here: unknown names were dropped above
            http.Response.StatusCode = 400;
            await http.Response.WriteAsync(refused ?? "Invalid request", http.RequestAborted);
            return;
        }

        try
        {
            var (socket, keepAlive) = await AcceptStreamAsync(http);
            using var disposeSocket = socket;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping.Token);
            if (unknownKey is not null)
            {
                await RefuseAsync(socket, stop.Token);
                return;
            }

            await connection.RunAsync(socket, keepAlive, stop.Token);
        }
        finally
        {
            hub.Remove(connection);
        }
    }

    /// <summary>Closes a just-accepted connection that names an unknown listen key, with Binance's -1125 message.</summary>
    private static async Task RefuseAsync(System.Net.WebSockets.WebSocket socket, CancellationToken ct)
    {
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(ct);
        grace.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, "This listenKey does not exist.", grace.Token);
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException)
        {
            // the client went away first
        }
    }

    /// <summary>RFC 6455 §1.3: the GUID appended to the client's key in the handshake.</summary>
    private const string WebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>
    /// Accepts a market/user stream connection whose keep-alive follows Binance (binance-futures-api.md §6): a ping
    /// every PingInterval, and only a pong frame (not any message) keeps it alive. The handshake is done here because Kestrel's
    /// WebSocket accept gives no access to the byte stream; an HTTP/2 WebSocket falls back to Kestrel's keep-alive.
    /// </summary>
    private async Task<(System.Net.WebSockets.WebSocket Socket, StreamKeepAlive? KeepAlive)> AcceptStreamAsync(HttpContext http)
    {
        if (http.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true } upgrade)
        {
            return (await Accept(http), null);
        }

#pragma warning disable CA5350 // RFC 6455 §4.2.2 fixes SHA-1 for Sec-WebSocket-Accept; it protects nothing
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(http.Request.Headers.SecWebSocketKey.ToString() + WebSocketGuid)));
#pragma warning restore CA5350
        http.Response.Headers.Connection = "Upgrade";
        http.Response.Headers.Upgrade = "websocket";
        http.Response.Headers.SecWebSocketAccept = accept;
        var opaque = await upgrade.UpgradeAsync();
        var pongs = new PongWatch(context.Clock, context.Options.PongTimeout);
        var stream = new KeepAliveStream(opaque, pongs);

        // .NET's own keep-alive is off: StreamKeepAlive pings on Binance's schedule instead
        var socket = System.Net.WebSockets.WebSocket.CreateFromStream(stream, new System.Net.WebSockets.WebSocketCreationOptions
        {
            IsServer = true,
            KeepAliveInterval = TimeSpan.Zero,
        });
        return (socket, new StreamKeepAlive(stream, pongs, context.Clock, context.Options.PingInterval));
    }

    private Task<System.Net.WebSockets.WebSocket> Accept(HttpContext http) => http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
    {
        // Kestrel's keep-alive (the WebSocket API, and a stream connection over HTTP/2): a ping only once PingInterval
        // passes with nothing received, and a drop when its pong is not back within PongTimeout.
        KeepAliveInterval = context.Options.PingInterval,
        KeepAliveTimeout = context.Options.PongTimeout,
    });

    /// <summary>Fault injection on demand: abruptly closes the WebSocket connections of market streams and/or user streams.</summary>
    public int DropStreamConnections(bool market = true, bool user = true) => hub.Drop(market, user);

    /// <summary>Fault injection on demand: abruptly closes every WebSocket API connection (each logs on anew when it reconnects).</summary>
    public int DropWebSocketApiConnections() => wsApi.DropAll();

    /// <summary>Fault injection on demand: the next <paramref name="count"/> REST requests to one endpoint are held for <paramref name="delay"/>.</summary>
    public void HoldRequests(string method, string path, int count, TimeSpan delay) => context.Faults.HoldNext(method, path, count, delay);

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await stopping.CancelAsync();
        try
        {
            await Task.WhenAll(background);
        }
        catch (OperationCanceledException)
        {
            // expected
        }

        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
        context.Engine.Unsubscribe(hub);
        driver?.Dispose();
        stopping.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>A host lifetime that neither listens for signals nor prints: the embedding program decides when to stop.</summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
