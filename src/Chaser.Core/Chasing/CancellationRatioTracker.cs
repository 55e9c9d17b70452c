namespace Chaser.Core.Chasing;

/// <summary>
/// Keeps Binance's invalid-cancellation ratio for one symbol: orders placed, and those canceled within the
/// invalid-cancel window of their placement, over a trailing 10-minute cycle. Chasers working the same symbol on one
/// account share one tracker (the engine hands it out); it is thread-safe and reads no clock: times come with calls.
/// </summary>
public sealed class CancellationRatioTracker
{
    public static readonly TimeSpan Cycle = TimeSpan.FromMinutes(10);

    private readonly Queue<DateTimeOffset> _placements = new();
    private readonly Queue<DateTimeOffset> _youngCancels = new();
    private readonly Lock _lock = new();

    public void RecordPlacement(DateTimeOffset time)
    {
        lock (_lock)
        {
            _placements.Enqueue(time);
        }
    }

    public void RecordYoungCancel(DateTimeOffset time)
    {
        lock (_lock)
        {
            _youngCancels.Enqueue(time);
        }
    }

    /// <summary>Orders placed and young cancels in the cycle ending at <paramref name="now"/>.</summary>
    public (int Placements, int YoungCancels) Counts(DateTimeOffset now)
    {
        lock (_lock)
        {
            Trim(now);
            return (_placements.Count, _youngCancels.Count);
        }
    }

    /// <summary>
    /// Whether one more young cancel (which, for a modify or a cancel + re-post, comes with one more placement) keeps
    /// the ratio within <paramref name="maxRatio"/>. Below <paramref name="minOrders"/> placements the ratio is not enforced.
    /// </summary>
    public bool AllowsYoungCancel(DateTimeOffset now, decimal maxRatio, int minOrders)
    {
        var (placements, young) = Counts(now);
        if (placements < minOrders)
        {
            return true;
        }

        return (young + 1m) / (placements + 1m) <= maxRatio;
    }

    private void Trim(DateTimeOffset now)
    {
        var since = now - Cycle;
        while (_placements.Count > 0 && _placements.Peek() <= since)
        {
            _placements.Dequeue();
        }

        while (_youngCancels.Count > 0 && _youngCancels.Peek() <= since)
        {
            _youngCancels.Dequeue();
        }
    }
}
