using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Simulator.Server;
using Microsoft.Extensions.Time.Testing;
using BookLevel = Chaser.Simulator.Engine.BookLevel;

namespace Chaser.EndToEnd.Tests;

/// <summary>
/// A rate budget that fell to zero comes back on time alone: chasers held back by it send nothing, so no exchange
/// answer would ever re-report it. On fake time (the simulator, the connector and the engine on one clock), and on
/// the real clock with a simulator whose order-rate limit is low.
/// </summary>
public class RateBudgetRecoveryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_chaser_refused_by_the_spent_guard_places_its_order_once_the_window_rolls_on_fake_time()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var recorder = new DecisionRecorder();
        await using var venue = await SimulatedVenue.StartAsync(QuietMarket(time), recorder: recorder, time: time).WaitAsync(Patience, Ct);
        SetBooks(venue, "BTCUSDT");

        // Our own earlier requests (or another client's) used the 10 s budget up.
        var spent = 0;
        while (venue.Connector.RateGuard.TryAcquire(1, 0, out _))
        {
            spent++;
        }

        Assert.True(spent > 0);
        var run = venue.Engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), Ct);
        // The chaser has the book and holds back: the connector told it the budget is 0.
        await Until(() => venue.Engine.Progress.TryGetValue(1, out var progress) && progress.Mid > 0, "the chaser to see the book");
        await Task.Delay(300, Ct);
        Assert.Empty(venue.Simulator.Engine.GetOpenOrders("BTCUSDT"));
        Assert.DoesNotContain(recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Place);

        // No exchange event at all from here on: only the clock moves.
        time.Advance(TimeSpan.FromSeconds(10));
        await Until(() => venue.Simulator.Engine.GetOpenOrders("BTCUSDT").Count == 1, "the order placed after the window rolled");
        // The host records a decision once its request is handed to the socket, so the exchange can have the order first.
        await Until(() => recorder.Decisions.Any(d => d.Command.Kind == ChaserCommandKind.Place), "the place decision recorded");
        Assert.Contains(recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Place && d.Command.Cause.Trigger == EventKind.RateBudget);

        venue.Engine.Cancel(1);
        var result = await run.WaitAsync(Patience, Ct);
        Assert.Equal(FinishReason.Canceled, result.Status);
        Assert.Empty(venue.Simulator.Engine.GetOpenOrders("BTCUSDT"));
    }

    [Fact]
    public async Task After_a_429_with_retry_after_on_rest_order_entry_the_blocked_chaser_resumes_when_it_ends_on_fake_time()
    {
        // Half a second into a 10 s window: the simulator's Retry-After for a broken order limit is then 10 s.
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 10_000 * 10_000) + 500));
        var recorder = new DecisionRecorder();
        var options = QuietMarket(time) with { RateLimits = new RateLimitOptions { OrdersPer10Seconds = 1 } };
        await using var venue = await SimulatedVenue.StartAsync(options, recorder: recorder, restOrderEntry: true, time: time).WaitAsync(Patience, Ct);
        SetBooks(venue, "BTCUSDT", "ETHUSDT");

        // The exchange's limit is lower than our guard believes (another client, a changed tier): the second order is a 429.
        venue.Connector.RateGuard.SetLimits(300, 1_200, 2_400);
        var runs = new[]
        {
            venue.Engine.ExecuteAsync(new ParentOrderSpec(1, "BTCUSDT", Side.Buy, SizeType.Quantity, 0.01m), Ct),
            venue.Engine.ExecuteAsync(new ParentOrderSpec(2, "ETHUSDT", Side.Buy, SizeType.Quantity, 0.1m), Ct),
        };
        await Until(() => venue.Connector.RateLimitedResponses == 1, "the 429");
        await Task.Delay(300, Ct);
        Assert.Single(venue.Simulator.Engine.GetOpenOrders(null));
        Assert.Equal(1, venue.Connector.RateLimitedResponses);

        // Part of the way: whatever else was due (depth snapshot retries, which also re-read the budget) happens now,
        // while the ban still holds.
        time.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(500, Ct);
        Assert.Single(venue.Simulator.Engine.GetOpenOrders(null));

        // Then past Retry-After, with nothing else due: only the clock can bring the budget back.
        time.Advance(TimeSpan.FromSeconds(6));
        await Until(() => venue.Simulator.Engine.GetOpenOrders(null).Count == 2, "both orders resting after Retry-After");
        await Until(() => recorder.Decisions.Any(d => d.Command.Kind == ChaserCommandKind.Place && d.Command.Cause.Trigger == EventKind.RateBudget), "the held-back place decision recorded");
        Assert.Contains(recorder.Decisions, d => d.Command.Kind == ChaserCommandKind.Place && d.Command.Cause.Trigger == EventKind.RateBudget);
        Assert.Equal(1, venue.Connector.RateLimitedResponses);

        venue.Engine.Cancel(1);
        venue.Engine.Cancel(2);
        var results = await Task.WhenAll(runs).WaitAsync(Patience, Ct);
        Assert.All(results, r => Assert.Equal(FinishReason.Canceled, r.Status));
    }

    [Fact]
    public async Task Thirty_orders_over_five_symbols_on_a_low_order_rate_limit_all_end_instead_of_stalling()
    {
        // 40 orders per 10 s on the exchange (36 for our guard): ten chasers at once spend it within a second or two.
        var options = new SimulatorOptions { RateLimits = new RateLimitOptions { OrdersPer10Seconds = 40 } };
        await using var venue = await SimulatedVenue.StartAsync(options);
        var symbols = new[] { "BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT" };
        var specs = Enumerable.Range(0, 30)
            .Select(i => new ParentOrderSpec(200 + i, symbols[i % 5], i % 2 == 0 ? Side.Buy : Side.Sell, SizeType.Notional, 200m + (i * 5m)))
            .ToArray();
        var started = DateTime.UtcNow;
        var results = await venue.Engine.ExecuteAllAsync(specs, Ct).WaitAsync(TimeSpan.FromMinutes(4), Ct);

        Assert.All(results, r => Assert.True(r.Status == FinishReason.Filled, $"{r.Spec.Id} {r.Spec.Symbol}: {r.Status} {r.Detail}"));
        Assert.Equal(0, venue.Connector.RateLimitedResponses);
        TestContext.Current.TestOutputHelper?.WriteLine($"30 orders on 40 orders/10 s: {(DateTime.UtcNow - started).TotalSeconds:0} s, {results.Sum(r => r.ChildOrders)} children, {results.Sum(r => r.Modifies)} modifies");
        foreach (var symbol in symbols)
        {
            var exchangeTrades = venue.Simulator.Engine.GetUserTrades(symbol, limit: 100_000);
            var ours = results.Where(r => r.Spec.Symbol == symbol).SelectMany(r => r.Fills).ToArray();
            Assert.Equal(exchangeTrades.Select(t => t.TradeId).Order(), ours.Select(f => f.TradeId).Order());
            Assert.Empty(venue.Simulator.Engine.GetOpenOrders(symbol));
        }
    }

    /// <summary>A simulator on the test's fake clock whose market only moves when the test says so.</summary>
    private static SimulatorOptions QuietMarket(FakeTimeProvider time) => new() { Source = MarketSourceKind.Manual, TimeProvider = time };

    private static void SetBooks(SimulatedVenue venue, params string[] symbols)
    {
        foreach (var symbol in symbols)
        {
            var (bid, ask) = symbol == "BTCUSDT" ? (64_999.9m, 65_000.0m) : (3_399.99m, 3_400.00m);
            venue.Simulator.Engine.ReplaceBook(symbol, [new BookLevel(bid, 5m)], [new BookLevel(ask, 5m)]);
        }
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(20, Ct);
        }
    }
}
