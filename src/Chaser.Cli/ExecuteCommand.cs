using System.CommandLine;
using Chaser.Core.Domain;
using Chaser.Simulator.Server;
using Chaser.Storage;

namespace Chaser.Cli;

/// <summary><c>chaser execute</c>: works one parent order on the simulator, Binance's demo trading or testnet, or Binance.</summary>
internal static class ExecuteCommand
{
    private static readonly OrderOptions Order = new("stop after this long (90s, 10m, 1h) from when the order starts working: the resting child is canceled, status expired (default: none)");
    private static readonly VenueOptions VenueChoice = new();
    private static readonly Option<int> Seed = CliOption.Seed();
    private static readonly Option<string?> Database = CliOption.Database("where to record; the order's id comes from it");
    private static readonly Option<bool> Markouts = CliOption.Markouts();
    private static readonly Option<bool> Json = CliOption.Json();

    public static readonly Command Definition = Define();

    public const string Notes = "exit codes: 0 filled, 1 failed, 2 bad input, 3 canceled or expired";

    private static Command Define()
    {
        var command = new Command("execute", "work one parent order (buy/sell a notional or a quantity) on sim, demo, testnet or live");
        foreach (var option in Order.All.Concat(VenueChoice.All).Append(Seed).Append(Database).Append(Markouts).Append(Json))
        {
            command.Add(option);
        }

        return command;
    }

    public static async Task<int> RunAsync(ParseResult args, CommandContext context)
    {
        var venueSettings = VenueSettings.From(VenueChoice, args);
        // By default the id is the start time in ms: unique across runs, so client order ids never collide on a real account.
        var now = context.Time.GetUtcNow();
        var spec = SpecFrom(args, now.ToUnixTimeMilliseconds());
        var output = context.OutputFor(args.GetValue(Json));
        var simulator = new SimulatorOptions { Seed = args.GetValue(Seed) };

        var database = Recording.ConnectionString(args.GetValue(Database), context.Environment);
        await Recording.MigrateAsync(database, context.Stop).ConfigureAwait(false);
        await Recording.EnsureWritableAsync(database, context.Stop).ConfigureAwait(false);
        await using var recorder = new StorageRecorder(database, context.Diagnostic);
        await using var venue = await Venue.OpenAsync(venueSettings, simulator, context.Environment, context.Diagnostic, recorder, await Recording.ClientIdTagAsync(database, context.Stop).ConfigureAwait(false), context.Stop).ConfigureAwait(false);
        await OrderSession.CheckAsync(venue.Engine, [spec], context.Stop).ConfigureAwait(false);

        // Checked first, stored second: a refused order leaves no row behind. The database assigns the id, unless
        // --id names one; then the order is claimed, the step that makes it run once.
        spec = args.GetValue(Order.Id) is null
            ? (await Recording.CreateOrdersAsync(database, [spec], context.Time, context.Stop).ConfigureAwait(false))[0]
            : await Recording.UseIdAsync(database, spec, context.Time, context.Stop).ConfigureAwait(false);
        await Recording.ClaimAsync(database, [spec], venue.Engine, context.Stop).ConfigureAwait(false);
        if (!output.Json)
        {
            await output.SayAsync($"working {Describe(spec)} on {venue.Name}").ConfigureAwait(false);
        }

        var results = await OrderSession.WorkAsync(venue.Engine, [spec], output, context.Stop).ConfigureAwait(false);
        var code = OrderSession.Report(results, output);
        await OrderSession.WaitForMarkoutsAsync(args.GetValue(Markouts), venue.Engine.Options.MarkoutTail, output, context.Time, context.Stop).ConfigureAwait(false);
        await Recording.FinishAsync(recorder, database).ConfigureAwait(false);
        return code;
    }

    /// <summary>The parent order from the options; every problem names its option.</summary>
    public static ParentOrderSpec SpecFrom(ParseResult args, long defaultId) => Order.SpecFrom(args, defaultId);

    public static string Describe(ParentOrderSpec spec) =>
        $"#{spec.Id}: {Display.Side(spec.Side)} {Display.Number(spec.Size)} {(spec.SizeType == SizeType.Notional ? "USDT of " + spec.Symbol : spec.Symbol)}";
}
