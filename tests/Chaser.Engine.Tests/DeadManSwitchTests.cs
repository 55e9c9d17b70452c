using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Engine.Tests;

/// <summary>The dead-man switch on its own: armed before the first order works, renewed every quarter, disarmed after the last.</summary>
public class DeadManSwitchTests
{
    private static readonly TimeSpan Countdown = TimeSpan.FromMilliseconds(400);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_first_order_arms_it_the_quarter_renews_it_and_the_last_one_out_disarms_it()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(ExecutionEngineTests.Btc);
        var deadMan = new DeadManSwitch(exchange, Countdown, time, diagnostics: null);

        await deadMan.HoldAsync("BTCUSDT", Ct);
        Assert.Equal(["arm BTCUSDT 400"], exchange.LogSnapshot());
        await deadMan.HoldAsync("BTCUSDT", Ct);
        Assert.Equal(["arm BTCUSDT 400"], exchange.LogSnapshot()); // a second order waits for the same arm

        for (var renewals = 1; renewals <= 3; renewals++)
        {
            time.Advance(Countdown / 4);
            await Until(() => exchange.LogSnapshot().Length == 1 + renewals);
        }

        deadMan.Release("BTCUSDT");
        Assert.DoesNotContain("arm BTCUSDT 0", exchange.LogSnapshot()); // one order still works
        deadMan.Release("BTCUSDT");
        await deadMan.DisarmsLanded(ExecutionEngineTests.Patience);
        Assert.Equal("arm BTCUSDT 0", exchange.LogSnapshot()[^1]);

        // Nothing renews it afterwards.
        var sent = exchange.LogSnapshot().Length;
        time.Advance(Countdown);
        Assert.Equal(sent, exchange.LogSnapshot().Length);
    }

    [Fact]
    public async Task An_arm_the_exchange_refused_is_not_held_and_the_next_order_arms_again()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var exchange = new InMemoryExchange(ExecutionEngineTests.Btc) { ArmFault = new HttpRequestException("503 Service Unavailable") };
        var diagnostics = new ConcurrentQueue<string>();
        var deadMan = new DeadManSwitch(exchange, Countdown, time, diagnostics.Enqueue);

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => deadMan.HoldAsync("BTCUSDT", Ct));
        Assert.Equal("503 Service Unavailable", refused.Message);
        await deadMan.DisarmsLanded(ExecutionEngineTests.Patience);
        Assert.Contains(diagnostics, d => d.StartsWith("dead-man switch: disarming BTCUSDT failed", StringComparison.Ordinal));

        exchange.ArmFault = null;
        await deadMan.HoldAsync("BTCUSDT", Ct);
        Assert.Equal(["arm BTCUSDT 400"], exchange.LogSnapshot());
        deadMan.Release("BTCUSDT");
        await deadMan.DisarmsLanded(ExecutionEngineTests.Patience);
        Assert.Equal(["arm BTCUSDT 400", "arm BTCUSDT 0"], exchange.LogSnapshot());
    }

    [Fact]
    public async Task A_zero_countdown_is_off()
    {
        var exchange = new InMemoryExchange(ExecutionEngineTests.Btc);
        var deadMan = new DeadManSwitch(exchange, TimeSpan.Zero, new FakeTimeProvider(), diagnostics: null);
        await deadMan.HoldAsync("BTCUSDT", Ct);
        deadMan.Release("BTCUSDT");
        await deadMan.DisarmsLanded(ExecutionEngineTests.Patience);
        Assert.Empty(exchange.LogSnapshot());
    }

    private static Task Until(Func<bool> condition) => ExecutionEngineTests.Until(condition);
}
