using System.Net;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Sources;
using Chaser.Simulator.Streams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Chaser.Simulator.Server;

/// <summary>
/// A Binance USDⓈ-M Futures exchange on one loopback port: REST under /fapi, market and user streams under
/// /ws, /stream and the routed /public, /market, /private forms, the WebSocket API at /ws-fapi/v1.
/// <code>await using var sim = await SimulatorServer.StartAsync(new SimulatorOptions());</code>
/// </summary>
public sealed class SimulatorServer : IAsyncDisposable
{
    private static readonly string[] Routes = ["/public", "/market", "/private"];
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

    /// <summary>e.g. ws://127.0.0.1:8090 — append /ws/&lt;stream&gt;, /stream?streams=…, /private/ws/&lt;listenKey&gt;.</summary>
    public Uri WebSocketBaseUrl { get; private set; } = null!;

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
        var engineOptions = options.Engine;
        if (options.Symbols is { } names)
        {
            var specs = new List<SymbolSpec>();
            foreach (var name in names)
            {
                specs.Add(SymbolSpec.Defaults.FirstOrDefault(s => string.Equals(s.Symbol, name, StringComparison.OrdinalIgnoreCase))
                    ?? throw new ArgumentException($"Unknown symbol '{name}'; known: {string.Join(", ", SymbolSpec.Defaults.Select(s => s.Symbol))}", nameof(options)));
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

    private async Task HandleAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? string.Empty;
        if (RestApi.Handles(path))
        {
            await rest.HandleAsync(http);
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

        foreach (var route in Routes)
        {
            if (path.StartsWith(route + "/", StringComparison.Ordinal))
            {
                path = path[route.Length..];
                break;
            }
        }

        bool combined;
        List<string> names;
        if (path == "/ws" || path.StartsWith("/ws/", StringComparison.Ordinal))
        {
            combined = false;
            names = [.. path.Length > 4 ? path[4..].Split('/', StringSplitOptions.RemoveEmptyEntries) : []];
            if (http.Request.Query["listenKey"].ToString() is { Length: > 0 } key)
            {
                names.Add(key);
            }
        }
        else if (path is "/stream" or "/stream/")
        {
            combined = true;
            names = [.. http.Request.Query["streams"].ToString().Split('/', StringSplitOptions.RemoveEmptyEntries)];
        }
        else
        {
            http.Response.StatusCode = 404;
            return;
        }

        // Binance accepts the connection whatever the path names (clients such as ccxt connect to /ws/<n> and then
        // SUBSCRIBE); a name that is neither a stream nor a live listen key simply delivers nothing.
        names.RemoveAll(n => !StreamName.TryParse(n, context.Engine, out _) && !context.ListenKeys.IsValid(n));

        using var connection = new StreamConnection(hub, context.Clock, combined, context.Options.StreamMessagesPerSecond);
        if (!hub.Subscribe(connection, names, out var refused))
        {
            // only the per-connection stream limit can refuse here: unknown names were dropped above
            http.Response.StatusCode = 400;
            await http.Response.WriteAsync(refused ?? "Invalid request", http.RequestAborted);
            return;
        }

        try
        {
            using var socket = await Accept(http);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping.Token);
            await connection.RunAsync(socket, stop.Token);
        }
        finally
        {
            hub.Remove(connection);
        }
    }

    private Task<System.Net.WebSockets.WebSocket> Accept(HttpContext http) => http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
    {
        KeepAliveInterval = context.Options.WebSocketPingInterval,
        KeepAliveTimeout = context.Options.WebSocketPongTimeout,
    });

    /// <summary>Fault injection on demand: abruptly closes the WebSocket connections of market streams and/or user streams.</summary>
    public int DropStreamConnections(bool market = true, bool user = true) => hub.Drop(market, user);

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
