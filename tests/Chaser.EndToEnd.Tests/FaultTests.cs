using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Simulator.Server;

namespace Chaser.EndToEnd.Tests;

/// <summary>
/// The engine against a misbehaving exchange: dropped connections, 5xx bursts, fills racing cancels, duplicated
/// events. Whatever happens, what we count equals what the exchange filled and nothing of ours is left open.
/// </summary>
public class FaultTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Dropped_websockets_mid_order_lose_no_fill_and_leave_no_order()
    {
        await using var venue = await SimulatedVenue.StartAsync();
        var specs = new[]
        {
            new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 40_000m),
            new ParentOrderSpec(2, "ETHUSDT", Side.Sell, SizeType.Notional, 20_000m),
        };
        var run = venue.Engine.ExecuteAllAsync(specs, Ct);

        // Cut every stream (market and user data) a few times while the orders are being worked.
        var drops = 0;
        while (!run.IsCompleted && drops < 4)
        {
            await Task.WhenAny(run, Task.Delay(400, Ct));
            if (!run.IsCompleted)
            {
                drops += venue.Simulator.DropStreamConnections() > 0 ? 1 : 0;
            }
        }

        var results = await run.WaitAsync(Patience, Ct);

        Assert.True(drops > 0, "the orders finished before any connection could be dropped");
        AssertFilledExactly(venue, results);
    }

    [Fact]
    public async Task A_burst_of_5xx_and_unknown_outcomes_still_ends_exact()
    {
        var options = new SimulatorOptions
        {
            Faults = new FaultOptions
            {
                Seed = 11,
                ServiceUnavailableProbability = 0.25,

                // Executed on the exchange but answered 503 -1007: the connector must query, not resend blindly.
                UnknownStatusProbability = 0.25,
            },
        };
        await using var venue = await SimulatedVenue.StartAsync(options, restOrderEntry: true);
        var results = await venue.Engine.ExecuteAllAsync(
        [
            new ParentOrderSpec(1, "BTCUSDT", Side.Sell, SizeType.Notional, 25_000m),
            new ParentOrderSpec(2, "SOLUSDT", Side.Buy, SizeType.Quantity, 40m),
        ], Ct).WaitAsync(Patience, Ct);

        AssertFilledExactly(venue, results);
    }

    [Fact]
    public async Task A_fill_that_lands_while_a_cancel_is_in_flight_is_counted_once()
    {
        // Slow order entry keeps the cancel on the wire long enough for a trade to fill the order first.
        var options = new SimulatorOptions { OrderEntryLatency = TimeSpan.FromMilliseconds(400) };
        var recorder = new DecisionRecorder();
        await using var venue = await SimulatedVenue.StartAsync(options, recorder: recorder);
        var spec = new ParentOrderSpec(7, "ETHUSDT", Side.Buy, SizeType.Quantity, 3m);
        var run = venue.Engine.ExecuteAsync(spec, Ct);

        // Freeze the market once the child rests, so no re-price is in flight when the cancel goes out.
        await WaitForRestingChildAsync(venue, "ETHUSDT");
        venue.Simulator.Market!.Stalled = true;
        await Task.Delay(options.OrderEntryLatency * 3, Ct);
        var child = await WaitForRestingChildAsync(venue, "ETHUSDT");
        venue.Engine.Cancel(spec.Id);
        await Task.Delay(50, Ct);

        // A sell that trades through our bid: the whole child fills before the cancel reaches the matching engine.
        var tick = venue.Simulator.Engine.GetSpec("ETHUSDT").TickSize;
        venue.Simulator.Engine.ApplyTrade("ETHUSDT", child.Price - tick, 100m, buyerIsMaker: true);
        var result = await run.WaitAsync(Patience, Ct);

        var exchange = venue.Simulator.Engine.GetUserTrades("ETHUSDT", limit: 10_000);
        var story = $"{result.Status} {result.Detail}; decisions: {string.Join(" | ", recorder.Decisions.Select(d => d.Command.ToString()))}";
        Assert.True(exchange.Sum(t => t.Qty) == result.FilledQuantity, story);
        Assert.Equal(exchange.Select(t => t.TradeId).Order(), result.Fills.Select(f => f.TradeId).Order());
        Assert.Equal(3m, result.FilledQuantity);
        Assert.Equal(FinishReason.Filled, result.Status);
        Assert.Contains(recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Cancel);
        Assert.Empty(venue.Simulator.Engine.GetOpenOrders("ETHUSDT"));
    }

    [Fact]
    public async Task Duplicated_and_delayed_user_stream_events_are_counted_once()
    {
        var options = new SimulatorOptions
        {
            Faults = new FaultOptions
            {
                Seed = 3,
                DuplicateUserEventProbability = 1.0,
                DelayUserEventProbability = 0.3,
                UserEventDelay = TimeSpan.FromMilliseconds(300),
            },
        };
        await using var venue = await SimulatedVenue.StartAsync(options);
        var results = await venue.Engine.ExecuteAllAsync(
        [
            new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Notional, 30_000m),
            new ParentOrderSpec(2, "XRPUSDT", Side.Sell, SizeType.Quantity, 4_000m),
        ], Ct).WaitAsync(Patience, Ct);

        AssertFilledExactly(venue, results);
    }

    [Fact]
    public async Task A_listen_key_request_that_times_out_on_reconnect_does_not_stop_the_user_stream()
    {
        // HttpClient's timeout surfaces as TaskCanceledException, which the user stream's reconnect once let escape:
        // the stream died silently and every order waited for order entry to come back.
        await using var venue = await SimulatedVenue.StartAsync(connector: o => o with { RequestTimeout = TimeSpan.FromSeconds(2) });
        venue.Simulator.HoldRequests("POST", "/fapi/v1/listenKey", count: 1, delay: TimeSpan.FromSeconds(4));
        Assert.True(venue.Simulator.DropStreamConnections(market: false, user: true) > 0);

        var results = await venue.Engine.ExecuteAllAsync(
        [
            new ParentOrderSpec(1, "ETHUSDT", Side.Buy, SizeType.Quantity, 3m),
        ], Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);

        // Fills also come by query while the stream is down, so the order alone can't tell: the stream must be back.
        AssertFilledExactly(venue, results);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var userConnections = 0;
        while (userConnections == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Ct);
            userConnections = venue.Simulator.DropStreamConnections(market: false, user: true);
        }

        lock (venue.Diagnostics)
        {
            Assert.True(userConnections > 0, $"the user stream did not come back; {string.Join(" | ", venue.Diagnostics.TakeLast(10))}");
            Assert.Contains(venue.Diagnostics, d => d.Contains("user stream reconnect failed (TaskCanceledException", StringComparison.Ordinal));
        }
    }

    private static async Task<(decimal Price, decimal Quantity)> WaitForRestingChildAsync(SimulatedVenue venue, string symbol)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var open = venue.Simulator.Engine.GetOpenOrders(symbol);
            if (open.Count == 1 && open[0].ExecutedQty == 0)
            {
                return (open[0].Price, open[0].OrigQty);
            }

            await Task.Delay(10, Ct);
        }

        throw new TimeoutException("no child order came to rest");
    }

    internal static void AssertFilledExactly(SimulatedVenue venue, IReadOnlyList<ExecutionResult> results)
    {
        var diagnostics = string.Join(" | ", venue.Diagnostics.TakeLast(20));
        foreach (var result in results)
        {
            Assert.True(result.Status == FinishReason.Filled, $"{result.Spec.Id} {result.Spec.Symbol}: {result.Status} {result.Detail}; {diagnostics}");
            Assert.All(result.Fills, f => Assert.True(f.IsMaker, $"taker fill {f.TradeId}"));
            if (result.Spec.SizeType == SizeType.Notional)
            {
                Assert.True(result.FilledNotional <= result.Spec.Size, $"{result.Spec.Id} overfilled: {result.FilledNotional} of {result.Spec.Size}");
            }
            else
            {
                Assert.Equal(result.Spec.Size, result.FilledQuantity);
            }
        }

        foreach (var symbol in results.Select(r => r.Spec.Symbol).Distinct())
        {
            var exchange = venue.Simulator.Engine.GetUserTrades(symbol, limit: 100_000);
            var ours = results.Where(r => r.Spec.Symbol == symbol).SelectMany(r => r.Fills).ToArray();
            Assert.Equal(exchange.Select(t => t.TradeId).Order(), ours.Select(f => f.TradeId).Order());
            Assert.Equal(exchange.Sum(t => t.Qty), ours.Sum(f => f.Quantity));
            Assert.Equal(
                exchange.Sum(t => t.Qty),
                results.Where(r => r.Spec.Symbol == symbol).Sum(r => r.FilledQuantity));
            Assert.Empty(venue.Simulator.Engine.GetOpenOrders(symbol));
        }
    }
}
