using Chaser.Binance.Connector;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Binance.Tests;

public sealed class ServerClockTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Timestamp_is_local_time_plus_offset_and_never_ahead_of_the_server()
    {
        var time = new FakeTimeProvider(Start);
        var clock = new ServerClock(time);
        Assert.True(clock.NeedsResync);

        // The server is 1,500 ms ahead and read its clock in the middle of a 200 ms round trip.
        var server = Start.AddMilliseconds(100 + 1500).ToUnixTimeMilliseconds();
        clock.Observe(Start, Start.AddMilliseconds(200), server);

        Assert.False(clock.NeedsResync);
        Assert.Equal(1400, clock.OffsetMs);
        Assert.Equal(200, clock.RoundTripMs);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Start.AddSeconds(1).ToUnixTimeMilliseconds() + 1400, clock.TimestampMs);
    }

    [Fact]
    public async Task Sync_keeps_the_sample_with_the_shortest_round_trip()
    {
        var time = new FakeTimeProvider(Start);
        var clock = new ServerClock(time);
        var roundTrips = new Queue<int>([300, 20, 150]);
        const long trueOffset = -2000;

        await clock.SyncAsync(
            _ =>
            {
                var rtt = roundTrips.Dequeue();
                var serverReading = time.GetUtcNow().AddMilliseconds(rtt / 2).ToUnixTimeMilliseconds() + trueOffset;
                time.Advance(TimeSpan.FromMilliseconds(rtt));
                return Task.FromResult(serverReading);
            },
            samples: 3,
            TestContext.Current.CancellationToken);

        Assert.Equal(20, clock.RoundTripMs);
        Assert.Equal(trueOffset - 10, clock.OffsetMs);
    }

    [Fact]
    public void A_timestamp_rejection_marks_the_clock_for_resync()
    {
        var clock = new ServerClock(new FakeTimeProvider(Start));
        clock.Observe(Start, Start, Start.ToUnixTimeMilliseconds());

        clock.MarkNeedsResync();

        Assert.True(clock.NeedsResync);
    }
}
