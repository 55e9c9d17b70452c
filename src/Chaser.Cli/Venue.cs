using System.CommandLine;
using System.Reflection;
using Chaser.Binance.Connector;
using Chaser.Binance.Signing;
using Chaser.Core.Ports;
using Chaser.Engine;
using Chaser.Simulator.Server;
using Microsoft.Extensions.Configuration;

namespace Chaser.Cli;

/// <summary>Where orders go: the in-process simulator (default), Binance's demo trading or testnet, or Binance itself.</summary>
internal enum VenueKind
{
    Sim,
    Demo,
    Testnet,
    Live,
}

/// <summary>How orders are sent: Binance's WebSocket API (REST while it is down), or REST only.</summary>
internal enum OrderEntry
{
    Ws,
    Rest,
}

/// <summary>The venue's options, shared by <c>execute</c> and <c>serve</c>.</summary>
internal sealed class VenueOptions
{
    public Option<VenueKind> Venue { get; } = CliOption.Choice(
        "--venue",
        "where orders go: the simulator, in-process; Binance demo trading; the futures testnet; or Binance. demo, testnet " +
        $"and live read the API key and secret of that venue (demo and testnet keys differ) from {VenueSettings.ApiKeyVariable} / " +
        $"{VenueSettings.ApiSecretVariable} (or user-secrets)",
        VenueKind.Sim,
        [VenueKind.Sim, VenueKind.Demo, VenueKind.Testnet, VenueKind.Live]);

    public Option<Uri?> RestUrl { get; } = CliOption.Url("--rest-url", "the venue's REST base instead of its published one (with --ws-url), e.g. a `chaser sim`");

    public Option<Uri?> StreamUrl { get; } = CliOption.Url("--ws-url", "the venue's WebSocket base instead of its published one (with --rest-url)");

    public Option<OrderEntry> OrderEntry { get; } = CliOption.Choice(
        "--order-entry", "ws: Binance's WebSocket API, REST while it is down; rest: REST only", Cli.OrderEntry.Ws, [Cli.OrderEntry.Ws, Cli.OrderEntry.Rest]);

    public Option<TimeSpan?> DeadMan { get; } = CliOption.Duration(
        "--dead-man",
        "arm Binance's countdownCancelAll for each symbol (at least 10s, renewed every quarter of it): if this process dies, " +
        "the exchange cancels the symbol's open orders (all of the account's) (default: off)");

    public Option<TimeSpan?> PathWarm { get; } = CliOption.Duration(
        "--path-warm",
        TimeSpan.FromSeconds(1),
        "1s",
        "while orders work, rehearse the request path this often on a shadow order that is never sent, so a real " +
        "request finds it in the CPU's caches (0 turns it off) (default: 1ms)");

    public IEnumerable<Option> All => [Venue, RestUrl, StreamUrl, OrderEntry, DeadMan, PathWarm];
}

/// <summary>How to reach a venue; resolved from the command line and the environment before anything connects.</summary>
internal sealed record VenueSettings(VenueKind Kind, Uri? RestUrl, Uri? StreamUrl, bool RestOrderEntry = false, TimeSpan DeadMan = default)
{
    /// <summary>How often the engine rehearses its request path while orders work (<see cref="EngineOptions.PathWarmInterval"/>).</summary>
    public TimeSpan PathWarm { get; init; } = DefaultPathWarm;

    public static readonly TimeSpan DefaultPathWarm = TimeSpan.FromMilliseconds(1);

    public const string ApiKeyVariable = "CHASER_BINANCE_API_KEY";
    public const string ApiSecretVariable = "CHASER_BINANCE_API_SECRET";

    public static VenueSettings From(VenueOptions options, ParseResult args)
    {
        var rest = args.GetValue(options.RestUrl);
        var ws = args.GetValue(options.StreamUrl);
        if ((rest is null) != (ws is null))
        {
            throw new UsageException(rest is null ? "option '--ws-url' needs '--rest-url' too" : "option '--rest-url' needs '--ws-url' too");
        }

        var deadMan = args.GetValue(options.DeadMan) ?? TimeSpan.Zero;
        if (deadMan != TimeSpan.Zero && deadMan < TimeSpan.FromSeconds(10))
        {
            throw new UsageException($"option '--dead-man' must be at least 10s (it is renewed every quarter of it), got '{args.GetResult(options.DeadMan)!.Tokens[0].Value}'");
        }

        return new VenueSettings(args.GetValue(options.Venue), rest, ws, args.GetValue(options.OrderEntry) == OrderEntry.Rest, deadMan)
        {
            PathWarm = args.GetValue(options.PathWarm) ?? DefaultPathWarm,
        };
    }

    /// <summary>Binance's published addresses of the venue (null for the simulator), from the adapter's one table.</summary>
    public BinanceVenue? Published => Kind switch
    {
        VenueKind.Demo => BinanceVenue.Demo,
        VenueKind.Testnet => BinanceVenue.Testnet,
        VenueKind.Live => BinanceVenue.Live,
        _ => null,
    };

    /// <summary>The WebSocket API for order entry: Binance's, or the one a custom --ws-url host serves (as the simulator does).</summary>
    public Uri? OrderEntryUrl(Uri streamBase) => RestOrderEntry ? null : RestUrl is null && Published is { } venue
        ? venue.OrderEntryWebSocketUrl
        : BinanceVenue.OrderEntryOn(streamBase);

    /// <summary>Binance's published addresses (see docs: every one can be overridden with --rest-url / --ws-url).</summary>
    public (Uri RestBase, Uri StreamBase) Addresses() => RestUrl is not null
        ? (RestUrl, StreamUrl!)
        : Published is { } venue
            ? (venue.RestBaseUrl, venue.StreamBaseUrl)
            : throw new InvalidOperationException("the simulator's addresses are known once it has started");
}

/// <summary>API credentials for testnet / live, from environment variables or .NET user-secrets; never logged.</summary>
internal sealed record Credentials(ApiKey ApiKey, IRequestSigner Signer)
{
    /// <summary>Reads the key and secret, or explains which variable is missing. A PEM secret means an Ed25519 key.</summary>
    public static Credentials Resolve(VenueKind venue, Func<string, string?> environment)
    {
        var key = environment(VenueSettings.ApiKeyVariable);
        var secret = environment(VenueSettings.ApiSecretVariable);
        var secretSource = "the environment variable " + VenueSettings.ApiSecretVariable;
        if (string.IsNullOrWhiteSpace(key) || string.IsNullOrWhiteSpace(secret))
        {
            var fromSecrets = UserSecrets();
            key = string.IsNullOrWhiteSpace(key) ? fromSecrets?[VenueSettings.ApiKeyVariable] : key;
            if (string.IsNullOrWhiteSpace(secret))
            {
                secret = fromSecrets?[VenueSettings.ApiSecretVariable];
                secretSource = VenueSettings.ApiSecretVariable + " in user-secrets";
            }
        }

        var missing = new List<string>();
        if (string.IsNullOrWhiteSpace(key))
        {
            missing.Add(VenueSettings.ApiKeyVariable);
        }

        if (string.IsNullOrWhiteSpace(secret))
        {
            missing.Add(VenueSettings.ApiSecretVariable);
        }

        if (missing.Count > 0)
        {
            // Demo and testnet keys are made on different sites and don't work on each other's venue: say whose are needed.
            var whose = venue switch
            {
                VenueKind.Demo => " of Binance demo trading (made on demo.binance.com; testnet keys don't work there)",
                VenueKind.Testnet => " of the Binance futures testnet (made on testnet.binancefuture.com; demo trading keys don't work there)",
                VenueKind.Live => " of your Binance account",
                _ => string.Empty,
            };
            throw new UsageException(
                $"option '--venue {venue.ToString().ToLowerInvariant()}' needs the API credentials{whose}: set {string.Join(" and ", missing)} " +
                "(environment variables, or `dotnet user-secrets set` in src/Chaser.Cli)");
        }

        var signerSecret = Secret.FromText(secret!.Trim());
        IRequestSigner signer;
        if (secret.TrimStart().StartsWith("-----BEGIN", StringComparison.Ordinal))
        {
            try
            {
                signer = Ed25519Signer.FromPkcs8Pem(signerSecret);
            }
            catch (FormatException e)
            {
                // Our parser's and Convert's messages never echo the key.
                throw new UsageException($"{secretSource} holds a PEM block that is not a usable Ed25519 key: {e.Message}");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The ASN.1 decoder's own message may quote the key's bytes: not shown.
                throw new UsageException($"{secretSource} holds a PEM block that is not a readable PKCS#8 Ed25519 private key");
            }
        }
        else
        {
            signer = new HmacSha256Signer(signerSecret);
        }

        return new Credentials(new ApiKey(key!.Trim()), signer);
    }

    private static IConfiguration? UserSecrets()
    {
        try
        {
            return new ConfigurationBuilder().AddUserSecrets(Assembly.GetExecutingAssembly(), optional: true).Build();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>A connected engine on a venue, with the in-process simulator when the venue is <c>sim</c>.</summary>
internal sealed class Venue : IAsyncDisposable
{
    private Venue(string name, SimulatorServer? simulator, BinanceConnector connector, ExecutionEngine engine)
    {
        Name = name;
        Simulator = simulator;
        Connector = connector;
        Engine = engine;
    }

    public string Name { get; }

    public SimulatorServer? Simulator { get; }

    public BinanceConnector Connector { get; }

    public ExecutionEngine Engine { get; }

    /// <summary>
    /// Starts the in-process simulator on a worker thread, when the venue is one, so that its start (mostly JIT) runs
    /// beside the database's (migrations, EF Core's model): on two cores the two overlap instead of adding up. Hand the
    /// task to <see cref="OpenAsync"/>, or to <see cref="AbandonAsync"/> when something fails before that.
    /// </summary>
    public static Task<SimulatorServer>? StartSimulatorEarly(VenueSettings settings, SimulatorOptions? simulatorOptions, CancellationToken cancellationToken) =>
        settings.Kind == VenueKind.Sim && settings.RestUrl is null
            ? Task.Run(() => SimulatorServer.StartAsync(simulatorOptions ?? new SimulatorOptions(), cancellationToken), cancellationToken)
            : null;

    /// <summary>Stops a simulator started early that no venue took over (the start failed before the venue opened).</summary>
    public static async Task AbandonAsync(Task<SimulatorServer>? starting)
    {
        if (starting is null)
        {
            return;
        }

        try
        {
            await (await starting.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            // It never started: nothing to stop, and the error that made us abandon it is the one to report.
        }
    }

    /// <summary>
    /// Resolves credentials first (so a missing key fails before any socket opens), starts the simulator when asked
    /// (or takes the one <paramref name="simulatorStarting"/> started early), then connects the engine, whose client
    /// order ids carry <paramref name="clientIdTag"/> (the database's).
    /// </summary>
    public static async Task<Venue> OpenAsync(
        VenueSettings settings,
        SimulatorOptions? simulatorOptions,
        Func<string, string?> environment,
        Action<string> diagnostics,
        IExecutionRecorder? recorder,
        string clientIdTag,
        CancellationToken cancellationToken,
        Task<SimulatorServer>? simulatorStarting = null)
    {
        SimulatorServer? simulator = null;
        Uri rest, stream;
        Credentials credentials;
        if (settings.Kind == VenueKind.Sim && settings.RestUrl is null)
        {
            simulator = await (simulatorStarting ?? SimulatorServer.StartAsync(simulatorOptions ?? new SimulatorOptions(), cancellationToken)).ConfigureAwait(false);
            (rest, stream) = (simulator.RestBaseUrl, simulator.WebSocketBaseUrl);
            credentials = new Credentials(new ApiKey(simulator.ApiKey), new HmacSha256Signer(Secret.FromText(simulator.ApiSecret)));
        }
        else if (settings.Kind == VenueKind.Sim)
        {
            // An external `chaser sim`: its documented default keys unless the environment says otherwise.
            (rest, stream) = settings.Addresses();
            var key = environment(VenueSettings.ApiKeyVariable);
            credentials = string.IsNullOrWhiteSpace(key)
                ? new Credentials(new ApiKey(SimulatorOptions.DefaultApiKey), new HmacSha256Signer(Secret.FromText(SimulatorOptions.DefaultApiSecret)))
                : Credentials.Resolve(settings.Kind, environment);
        }
        else
        {
            credentials = Credentials.Resolve(settings.Kind, environment);
            (rest, stream) = settings.Addresses();
        }

        var connector = new BinanceConnector(new BinanceConnectorOptions
        {
            RestBaseUrl = rest,
            StreamBaseUrl = stream,
            OrderEntryWebSocketUrl = simulator is not null ? (settings.RestOrderEntry ? null : simulator.WebSocketApiUrl) : settings.OrderEntryUrl(stream),
            ApiKey = credentials.ApiKey,
            Signer = credentials.Signer,
            Diagnostics = diagnostics,
        });
        // The venue as recovery must recognise it: an in-process simulator lives and dies with this process.
        var venueId = simulator is not null ? $"sim in-process {rest} {Guid.NewGuid():N}" : $"{settings.Kind.ToString().ToLowerInvariant()} {rest.GetLeftPart(UriPartial.Authority)}";
        var engine = new ExecutionEngine(connector, recorder, options: new EngineOptions
        {
            DeadManCountdown = settings.DeadMan,
            PathWarmInterval = settings.PathWarm,
            ClientIdTag = clientIdTag,
            Diagnostics = diagnostics,
            Venue = venueId,
            Account = AccountFingerprint(credentials.ApiKey),
        });
        try
        {
            await engine.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await engine.DisposeAsync().ConfigureAwait(false);
            if (simulator is not null)
            {
                await simulator.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        var name = simulator is not null ? "sim (in-process)" : settings.Kind.ToString().ToLowerInvariant() + " " + rest;
        return new Venue(name, simulator, connector, engine);
    }

    /// <summary>Names the account without revealing its key: the first 12 hex digits of the key's SHA-256.</summary>
    public static string AccountFingerprint(ApiKey key) =>
        "key-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key.Value)))[..12];

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync().ConfigureAwait(false);
        if (Simulator is not null)
        {
            await Simulator.DisposeAsync().ConfigureAwait(false);
        }
    }
}
