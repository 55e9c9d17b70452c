using Chaser.Core.Domain;
using Chaser.Simulator.Server;
using Chaser.Storage;

namespace Chaser.Cli;

/// <summary>
/// <c>chaser demo</c>: the main job on a fresh machine. Starts the simulator in-process and works three parent orders
/// on two symbols at once, then prints the post-trade table.
/// </summary>
internal static class DemoCommand
{
    public const string Usage = """
        usage: chaser demo [--json] [--seed N] [--db CONNECTION] [--markouts]

          Starts the Binance Futures simulator in-process and works, concurrently:
            #1 buy 15,000 USDT of BTCUSDT   #2 sell 8,000 USDT of ETHUSDT   #3 buy 0.5 ETHUSDT
          each with one post-only order resting at the best price, then prints the post-trade table.
          --markouts stays 60 s more, sampling the book, so that `chaser report` shows +1/+10/+60 s markouts.
        """;

    private static readonly string[] ValueOptions = ["--seed", "--db"];
    private static readonly string[] FlagOptions = ["--json", "--markouts"];

    public static IReadOnlyList<ParentOrderSpec> Orders(DateTimeOffset now) =>
    [
        new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 15_000m) { TimeLimit = TimeSpan.FromMinutes(2) },
        new ParentOrderSpec(2, "ETHUSDT", Side.Sell, SizeType.Notional, 8_000m) { TimeLimit = TimeSpan.FromMinutes(2) },
        new ParentOrderSpec(3, "ETHUSDT", Side.Buy, SizeType.Quantity, 0.5m) { TimeLimit = TimeSpan.FromMinutes(2) },
    ];

    public static async Task<int> RunAsync(IReadOnlyList<string> argv, CommandContext context)
    {
        var args = Arguments.Parse(argv, ValueOptions, FlagOptions);
        var output = context.OutputFor(args.Has("--json"));
        var simulator = new SimulatorOptions { Seed = args.GetInt("--seed", 0, int.MaxValue) ?? 1 };
        var database = Recording.ConnectionString(args, context.Environment);
        var specs = await Recording.CreateOrdersAsync(database, Orders(context.Time.GetUtcNow()), context.Time, context.Stop).ConfigureAwait(false);
        await using var recorder = new StorageRecorder(database, context.Diagnostic);

        await using var venue = await Venue.OpenAsync(new VenueSettings(VenueKind.Sim, null, null), simulator, context.Environment, context.Diagnostic, recorder, await Recording.ClientIdTagAsync(database, context.Stop).ConfigureAwait(false), context.Stop).ConfigureAwait(false);
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
        await OrderSession.WaitForMarkoutsAsync(args.Has("--markouts"), venue.Engine.Options.MarkoutTail, output, context.Time, context.Stop).ConfigureAwait(false);
        await Recording.FinishAsync(recorder, database).ConfigureAwait(false);
        if (!output.Json)
        {
            await output.SayAsync($"recorded in {Recording.Describe(database)} (orders {string.Join(", ", specs.Select(s => s.Id))})").ConfigureAwait(false);
        }

        return code;
    }
}
