namespace Chaser.Simulator.Tests;

/// <summary>
/// Virtual wall clock for deterministic tests: GetUtcNow only moves when told to. Timers and timestamps stay
/// real (inherited), so servers still run, but windows, recvWindow and expiry are under the test's control.
/// </summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long utcTicks = start.UtcTicks;

    public ManualTimeProvider()
        : this(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero))
    {
    }

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref utcTicks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref utcTicks, by.Ticks);

    public long NowMs => GetUtcNow().ToUnixTimeMilliseconds();
}
