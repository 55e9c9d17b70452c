using System.CommandLine;
using Chaser.Core.Domain;
using Chaser.Simulator.Server;
using Chaser.Simulator.Sources;
using Chaser.Storage;

namespace Chaser.Cli;

/// <summary>
/// <c>chaser demo</c>: the main job on a fresh machine. Starts the simulator in-process and works three parent orders
/// on two symbols at once, then prints the post-trade table.
/// </summary>
internal static class DemoCommand
{
    private static readonly Option<int> Seed = CliOption.Seed();
    private static readonly Option<string?> Database = CliOption.Database("where to record");
    private static readonly Option<bool> Markouts = CliOption.Markouts();
    private static readonly Option<bool> Json = CliOption.Json("print the result as JSON on stdout");

    public static readonly Command Definition = new("demo", "start the simulator and work three parent orders on it, then print the post-trade table")
    {
        Seed, Database, Markouts, Json,
    };

    public const string Notes = """
          Starts the Binance Futures simulator in-process and works three orders concurrently, #1 buy 15,000 USDT of
          BTCUSDT, #2 sell 8,000 USDT of ETHUSDT and #3 buy 0.5 ETHUSDT, each with one post-only order resting at the
          best price, then prints the post-trade table.
        """;

    public static IReadOnlyList<ParentOrderSpec> Orders(DateTimeOffset now) =>
    [
        new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 15_000m) { TimeLimit = TimeSpan.FromMinutes(2) },
        new ParentOrderSpec(2, "ETHUSDT", Side.Sell, SizeType.Notional, 8_000m) { TimeLimit = TimeSpan.FromMinutes(2) },
        new ParentOrderSpec(3, "ETHUSDT", Side.Buy, SizeType.Quantity, 0.5m) { TimeLimit = TimeSpan.FromMinutes(2) },
    ];

    /// <summary>
    /// The demo's market: the simulator's synthetic one with five times its default trading (calm and burst), so that
    /// the three orders fill within about two seconds rather than tens of them — a demo is read by someone waiting for
    /// it. Only the takers come faster: the book's adds, cancels and volatility stay the defaults, the clock is real,
    /// and every fill is still a taker trading against the order resting at the touch.
    /// </summary>
    public static SyntheticOptions DemoMarket { get; } = new()
    {
        CalmTradesPerSecond = 5 * new SyntheticOptions().CalmTradesPerSecond,
        BurstTradesPerSecond = 5 * new SyntheticOptions().BurstTradesPerSecond,
    };

    public static async Task<int> RunAsync(ParseResult args, CommandContext context)
    {
        var output = context.OutputFor(args.GetValue(Json));
        var simulator = new SimulatorOptions { Seed = args.GetValue(Seed), Synthetic = DemoMarket };
        var database = Recording.ConnectionString(args.GetValue(Database), context.Environment);
        var venueSettings = new VenueSettings(VenueKind.Sim, null, null);
        var simulatorStarting = Venue.StartSimulatorEarly(venueSettings, simulator, context.Stop);
        IReadOnlyList<ParentOrderSpec> specs;
        string clientIdTag;
        try
        {
            specs = await Recording.CreateOrdersAsync(database, Orders(context.Time.GetUtcNow()), context.Time, context.Stop).ConfigureAwait(false);
            clientIdTag = await Recording.ClientIdTagAsync(database, context.Stop).ConfigureAwait(false);
        }
        catch
        {
            await Venue.AbandonAsync(simulatorStarting).ConfigureAwait(false);
            throw;
        }

        await using var recorder = new StorageRecorder(database, context.Diagnostic);
        await using var venue = await Venue.OpenAsync(venueSettings, simulator, context.Environment, context.Diagnostic, recorder, clientIdTag, context.Stop, simulatorStarting).ConfigureAwait(false);
        if (!output.Json)
        {
            await output.SayAsync($"chaser demo: simulator at {SimulatorServer.BaseText(venue.Simulator!.RestBaseUrl)} (seed {simulator.Seed})").ConfigureAwait(false);
            foreach (var spec in specs)
            {
                await output.SayAsync("  " + ExecuteCommand.Describe(spec)).ConfigureAwait(false);
            }
        }

        await OrderSession.CheckAsync(venue.Engine, specs, context.Stop).ConfigureAwait(false);
        await Recording.ClaimAsync(database, specs, venue.Engine, context.Stop).ConfigureAwait(false);
        var results = await OrderSession.WorkAsync(venue.Engine, specs, output, context.Stop).ConfigureAwait(false);
        var code = OrderSession.Report(results, output);
        await OrderSession.WaitForMarkoutsAsync(args.GetValue(Markouts), venue.Engine.Options.MarkoutTail, output, context.Time, context.Stop).ConfigureAwait(false);
        await Recording.FinishAsync(recorder, database).ConfigureAwait(false);
        if (!output.Json)
        {
            await output.SayAsync($"recorded in {Recording.Describe(database)} (orders {string.Join(", ", specs.Select(s => s.Id))})").ConfigureAwait(false);
        }

        return code;
    }
}
