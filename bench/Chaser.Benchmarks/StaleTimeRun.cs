using System.Globalization;
using System.Text;
using Chaser.Binance.Connector;
using Chaser.Binance.Signing;
using Chaser.Core.Domain;
using Chaser.Engine;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Server;

namespace Chaser.Benchmarks;

/// <summary>
/// How long our resting order was stale as the exchange saw it: the simulator (synthetic market, on loopback) records
/// for each resting order of ours the stretch from the book change that made it not-best (someone bid better, or its
/// level emptied and left it alone ahead of the book) to what ended it, above all our modify or cancel arriving at the
/// matching engine. The engine works parent orders on it over real sockets (WebSocket API order entry), as
/// <c>chaser serve</c> does.
/// </summary>
internal static class StaleTimeRun
{
    public static async Task<string> RunAsync(TimeSpan duration, int seed)
    {
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Seed = seed });
        var stale = simulator.Engine.TrackStaleTime();
        var connector = new BinanceConnector(new BinanceConnectorOptions
        {
            RestBaseUrl = simulator.RestBaseUrl,
            StreamBaseUrl = simulator.WebSocketBaseUrl,
            OrderEntryWebSocketUrl = simulator.WebSocketApiUrl,
            ApiKey = new ApiKey(simulator.ApiKey),
            Signer = new HmacSha256Signer(Secret.FromText(simulator.ApiSecret)),
        });
        await using var engine = new ExecutionEngine(connector);
        await engine.ConnectAsync(CancellationToken.None);

        // One lane per symbol and side, each working one parent order after another until the time is up (a buy and a
        // sell of a symbol net out, so the account's margin lasts).
        var stopAt = TimeProvider.System.GetUtcNow() + duration;
        (string Symbol, Side Side)[] lanes = [("BTCUSDT", Side.Buy), ("BTCUSDT", Side.Sell), ("ETHUSDT", Side.Buy), ("ETHUSDT", Side.Sell)];
        var nextId = 0L;
        var lanesDone = lanes.Select(async lane =>
        {
            var done = new List<ExecutionResultSummary>();
            while (stopAt - TimeProvider.System.GetUtcNow() is { } left && left > TimeSpan.FromSeconds(1))
            {
                var spec = new ParentOrderSpec(Interlocked.Increment(ref nextId), lane.Symbol, lane.Side, SizeType.Notional, 20_000m) { TimeLimit = left };
                var result = await engine.ExecuteAsync(spec);
                done.Add(new ExecutionResultSummary(result.ChildOrders, result.Modifies, result.Cancels, result.Latency.Count, result.Latency.P50, result.Latency.P99, result.Latency.Max));
            }

            return done;
        });
        var results = (await Task.WhenAll(lanesDone)).SelectMany(r => r).ToArray();
        var intervals = stale.Intervals();

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{results.Length} parent orders of 20,000 USDT in {duration.TotalSeconds:0} s, four at a time (BTCUSDT and ETHUSDT, buy and sell), on the synthetic market (seed {seed}); {results.Sum(r => r.ChildOrders)} child orders, {results.Sum(r => r.Modifies)} modifies, {results.Sum(r => r.Cancels)} cancels");
        text.AppendLine("stale as the exchange saw it (from the book change to what ended it), ms:");
        text.AppendLine("| ended by | count | p50 | p99 | max |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        Row(text, "our re-price arriving (modify or cancel)", intervals.Where(i => i.End is StaleEnd.Modified or StaleEnd.Canceled));
        Row(text, "… of an order someone bid or offered better than", intervals.Where(i => i.Behind && (i.End is StaleEnd.Modified or StaleEnd.Canceled)));
        Row(text, "… of an order left alone ahead of the book", intervals.Where(i => !i.Behind && (i.End is StaleEnd.Modified or StaleEnd.Canceled)));
        foreach (var end in Enum.GetValues<StaleEnd>())
        {
            Row(text, end.ToString(), intervals.Where(i => i.End == end));
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"still stale at the end: {stale.OpenCount}; not kept: {stale.Dropped}");
        var measured = results.Where(r => r.LatencyCount > 0).ToArray();
        if (measured.Length > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"engine tick-to-order over {measured.Sum(r => r.LatencyCount)} decisions of {measured.Length} orders, µs: median of the orders' p50 {Median(measured.Select(r => r.LatencyP50))}, of their p99 {Median(measured.Select(r => r.LatencyP99))}, largest max {measured.Max(r => r.LatencyMax):0}");
        }

        return text.ToString();
    }

    private static string Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return Percentile(sorted, 0.50).ToString("0", CultureInfo.InvariantCulture);
    }

    private sealed record ExecutionResultSummary(int ChildOrders, int Modifies, int Cancels, int LatencyCount, double LatencyP50, double LatencyP99, double LatencyMax);

    private static void Row(StringBuilder text, string name, IEnumerable<StaleInterval> intervals)
    {
        var sorted = intervals.Select(i => i.Duration.TotalMilliseconds).Order().ToArray();
        if (sorted.Length == 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | 0 | - | - | - |");
            return;
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {sorted.Length} | {Percentile(sorted, 0.50):0.000} | {Percentile(sorted, 0.99):0.000} | {sorted[^1]:0.000} |");
    }

    // Nearest-rank, as the engine's tick-to-order summary: a value that was actually observed.
    private static double Percentile(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
