namespace Chaser.Backtesting;

/// <summary>Time that moves only when the backtest says so: the exchange engine reads it, nothing waits on it.</summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public override long GetTimestamp() => _now.UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>The <see cref="GetTimestamp"/> reading this clock gives at <paramref name="time"/>.</summary>
    public static long TimestampAt(DateTimeOffset time) => time.UtcTicks;

    /// <summary>Moves forward to <paramref name="time"/>; time never goes back.</summary>
    public void AdvanceTo(DateTimeOffset time)
    {
        if (time > _now)
        {
            _now = time;
        }
    }
}
