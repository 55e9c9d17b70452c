namespace Chaser.Core.Chasing;

/// <summary>
/// Keeps Binance's invalid-cancellation ratio for one symbol: orders placed, and those canceled within the
/// invalid-cancel window of their placement, over a trailing 10-minute cycle. It lives beside the chasers, never in
/// one: whoever sends a chaser's requests records them here (<see cref="Record"/>), and hands the allowance that
/// follows (<see cref="YoungCancelsAllowed"/>) to every chaser on the symbol as an input
/// (<see cref="ChaserStateMachine.OnCancelBudget"/>), so that each chaser decides from its own inputs. Orders on one
/// symbol of one account share a tracker; a lone order has one of its own. Thread-safe; reads no clock: times come
/// with calls.
/// </summary>
public sealed class CancellationRatioTracker
{
    public static readonly TimeSpan Cycle = TimeSpan.FromMinutes(10);

    private readonly Queue<DateTimeOffset> _placements = new();
    private readonly Queue<DateTimeOffset> _youngCancels = new();
    private readonly Lock _lock = new();
    private readonly decimal _maxRatio;
    private readonly int _minOrders;
    private bool _allowed = true;

    /// <summary>A tracker that keeps the ratio within <paramref name="options"/>' bound (the defaults when null).</summary>
    public CancellationRatioTracker(ChaserOptions? options = null)
    {
        var bound = options ?? new ChaserOptions();
        _maxRatio = bound.MaxInvalidCancelRatio;
        _minOrders = bound.InvalidCancelRatioMinOrders;
    }

    /// <summary>
    /// Whether one more young cancel keeps the ratio within the bound, as of the last <see cref="Record"/> or
    /// <see cref="Refresh"/>: the value a chaser on this symbol is given.
    /// </summary>
    public bool YoungCancelsAllowed
    {
        get
        {
            lock (_lock)
            {
                return _allowed;
            }
        }
    }

    /// <summary>
    /// When the oldest request held leaves the cycle, so that the allowance may change with no request sent (a host
    /// calls <see cref="Refresh"/> then); null when nothing is held.
    /// </summary>
    public DateTimeOffset? NextExpiry
    {
        get
        {
            lock (_lock)
            {
                DateTimeOffset? oldest = null;
                if (_placements.TryPeek(out var placed))
                {
                    oldest = placed;
                }

                if (_youngCancels.TryPeek(out var canceled) && (oldest is null || canceled < oldest))
                {
                    oldest = canceled;
                }

                return oldest + Cycle;
            }
        }
    }

    /// <summary>
    /// Records what a request sent at <paramref name="time"/> counts: a place or a modify is an order placed (Binance
    /// re-queues a modified order), and one flagged <see cref="ChaserCommand.CountsAsYoungCancel"/> a young cancel.
    /// Returns whether <see cref="YoungCancelsAllowed"/> changed.
    /// </summary>
    public bool Record(in ChaserCommand command, DateTimeOffset time)
    {
        lock (_lock)
        {
            if (command.Kind is ChaserCommandKind.Place or ChaserCommandKind.Modify)
            {
                _placements.Enqueue(time);
            }

            if (command.CountsAsYoungCancel)
            {
                _youngCancels.Enqueue(time);
            }

            return Update(time);
        }
    }

    /// <summary>
    /// Takes back what <see cref="Record"/> counted for <paramref name="command"/> at <paramref name="time"/>: the
    /// request was refused before it left (the rate guard), and a placement Binance never saw would let the ratio it
    /// keeps run above ours. Returns whether <see cref="YoungCancelsAllowed"/> changed.
    /// </summary>
    public bool Retract(in ChaserCommand command, DateTimeOffset time)
    {
        lock (_lock)
        {
            if (command.Kind is ChaserCommandKind.Place or ChaserCommandKind.Modify)
            {
                RemoveOne(_placements, time);
            }

            if (command.CountsAsYoungCancel)
            {
                RemoveOne(_youngCancels, time);
            }

            return Update(time);
        }
    }

    /// <summary>Drops what left the cycle by <paramref name="time"/>; returns whether <see cref="YoungCancelsAllowed"/> changed.</summary>
    public bool Refresh(DateTimeOffset time)
    {
        lock (_lock)
        {
            return Update(time);
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
    /// the ratio within the bound; below the minimum placements the ratio is not enforced.
    /// </summary>
    private bool Allows() =>
        _placements.Count < _minOrders || (_youngCancels.Count + 1m) / (_placements.Count + 1m) <= _maxRatio;

    /// <summary>Trims (on every write: the queues are bounded by the cycle whatever the traffic) and re-reads the allowance.</summary>
    private bool Update(DateTimeOffset time)
    {
        Trim(time);
        var allowed = Allows();
        if (allowed == _allowed)
        {
            return false;
        }

        _allowed = allowed;
        return true;
    }

    private static void RemoveOne(Queue<DateTimeOffset> queue, DateTimeOffset time)
    {
        // The newest entry of that time: another order may have recorded since (rare, and only on a refusal).
        var at = -1;
        var index = 0;
        foreach (var entry in queue)
        {
            if (entry == time)
            {
                at = index;
            }

            index++;
        }

        if (at < 0)
        {
            return;
        }

        // Once round the queue, every entry but that one put back in its place: nothing allocated.
        var count = queue.Count;
        for (var i = 0; i < count; i++)
        {
            var entry = queue.Dequeue();
            if (i != at)
            {
                queue.Enqueue(entry);
            }
        }
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
