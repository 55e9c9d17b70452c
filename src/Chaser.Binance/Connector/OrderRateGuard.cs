namespace Chaser.Binance.Connector;

/// <summary>
/// The account's order-count limits (per 10 s and per minute) kept locally from our own sends, corrected upwards by
/// the exchange's <c>X-MBX-ORDER-COUNT-*</c> headers, so that no order request is sent that would breach a limit. It
/// also keeps the IP request weight per minute and any Retry-After ban. Thread-safe; time from a TimeProvider.
/// </summary>
public sealed class OrderRateGuard
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Queue<long> _orders10s = new();
    private readonly Queue<long> _orders1m = new();
    private readonly Queue<(long At, int Weight)> _weight1m = new();
    private int _weightInWindow;
    private int _reported10s;
    private int _reported1m;
    private int _reportedWeight;
    private long _reportedAt;
    private DateTimeOffset _bannedUntil = DateTimeOffset.MinValue;

    public OrderRateGuard(TimeProvider time, int ordersPer10s = 300, int ordersPerMinute = 1_200, int weightPerMinute = 2_400)
    {
        _time = time;
        OrdersPer10s = ordersPer10s;
        OrdersPerMinute = ordersPerMinute;
        WeightPerMinute = weightPerMinute;
    }

    public int OrdersPer10s { get; private set; }

    public int OrdersPerMinute { get; private set; }

    public int WeightPerMinute { get; private set; }

    /// <summary>Limits as exchangeInfo states them; a margin keeps us clear of the edge (the exchange counts requests we can't see).</summary>
    public void SetLimits(int ordersPer10s, int ordersPerMinute, int weightPerMinute)
    {
        lock (_lock)
        {
            OrdersPer10s = ordersPer10s;
            OrdersPerMinute = ordersPerMinute;
            WeightPerMinute = weightPerMinute;
        }
    }

    /// <summary>Takes budget for one request, or says why not (nothing is taken then).</summary>
    public bool TryAcquire(int orderCount, int weight, out string? refusal)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            Trim(now);
            if (_time.GetUtcNow() < _bannedUntil)
            {
                refusal = $"rate limited by the exchange until {_bannedUntil:O}";
                return false;
            }

            var orders10s = Math.Max(_orders10s.Count, Reported(now, _reported10s, TimeSpan.FromSeconds(10)));
            var orders1m = Math.Max(_orders1m.Count, Reported(now, _reported1m, TimeSpan.FromMinutes(1)));
            var weight1m = Math.Max(_weightInWindow, Reported(now, _reportedWeight, TimeSpan.FromMinutes(1)));
            if (orderCount > 0 && (orders10s + orderCount > Safe(OrdersPer10s) || orders1m + orderCount > Safe(OrdersPerMinute)))
            {
                refusal = $"order rate limit: {orders10s}/{OrdersPer10s} per 10 s, {orders1m}/{OrdersPerMinute} per minute";
                return false;
            }

            if (weight > 0 && weight1m + weight > Safe(WeightPerMinute))
            {
                refusal = $"request weight limit: {weight1m}/{WeightPerMinute} per minute";
                return false;
            }

            for (var i = 0; i < orderCount; i++)
            {
                _orders10s.Enqueue(now);
                _orders1m.Enqueue(now);
            }

            if (weight > 0)
            {
                _weight1m.Enqueue((now, weight));
                _weightInWindow += weight;
            }

            refusal = null;
            return true;
        }
    }

    /// <summary>The counts the exchange reported in its response headers (they include what other clients of the account sent).</summary>
    public void Observe(int? orders10s, int? orders1m, int? usedWeight1m)
    {
        lock (_lock)
        {
            _reportedAt = _time.GetTimestamp();
            _reported10s = orders10s ?? _reported10s;
            _reported1m = orders1m ?? _reported1m;
            _reportedWeight = usedWeight1m ?? _reportedWeight;
        }
    }

    /// <summary>A 429 / 418: nothing more until the exchange's Retry-After has passed.</summary>
    public void Ban(TimeSpan retryAfter)
    {
        lock (_lock)
        {
            var until = _time.GetUtcNow() + retryAfter;
            if (until > _bannedUntil)
            {
                _bannedUntil = until;
            }
        }
    }

    /// <summary>The share of the tightest limit still free (0..1): the chasers re-price less often as it falls.</summary>
    public decimal AvailableFraction()
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            Trim(now);
            if (_time.GetUtcNow() < _bannedUntil)
            {
                return 0m;
            }

            var used10s = (decimal)Math.Max(_orders10s.Count, Reported(now, _reported10s, TimeSpan.FromSeconds(10))) / Math.Max(1, Safe(OrdersPer10s));
            var used1m = (decimal)Math.Max(_orders1m.Count, Reported(now, _reported1m, TimeSpan.FromMinutes(1))) / Math.Max(1, Safe(OrdersPerMinute));
            var usedWeight = (decimal)Math.Max(_weightInWindow, Reported(now, _reportedWeight, TimeSpan.FromMinutes(1))) / Math.Max(1, Safe(WeightPerMinute));
            return Math.Clamp(1m - Math.Max(used10s, Math.Max(used1m, usedWeight)), 0m, 1m);
        }
    }

    /// <summary>
    /// How long until <see cref="AvailableFraction"/> reaches <paramref name="fraction"/> if nothing more is sent: when
    /// enough of our requests have aged out of their windows, the exchange's reported counts have lapsed and any ban
    /// has ended. Zero when it already has. What lets a budget that fell to zero come back on time alone.
    /// </summary>
    public TimeSpan TimeUntilAvailable(decimal fraction)
    {
        fraction = Math.Clamp(fraction, 0m, 1m);
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            Trim(now);
            var wait = _bannedUntil - _time.GetUtcNow();
            wait = Later(wait, UntilAtMost(now, _orders10s.Select(at => (at, 1)), _reported10s, OrdersPer10s, TimeSpan.FromSeconds(10), fraction));
            wait = Later(wait, UntilAtMost(now, _orders1m.Select(at => (at, 1)), _reported1m, OrdersPerMinute, TimeSpan.FromMinutes(1), fraction));
            wait = Later(wait, UntilAtMost(now, _weight1m, _reportedWeight, WeightPerMinute, TimeSpan.FromMinutes(1), fraction));
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
    }

    private static TimeSpan Later(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>How long until one window's usage is down to what leaves <paramref name="fraction"/> of its safe limit free.</summary>
    private TimeSpan UntilAtMost(long now, IEnumerable<(long At, int Weight)> entries, int reported, int limit, TimeSpan window, decimal fraction)
    {
        var allowed = (int)decimal.Floor((1m - fraction) * Math.Max(1, Safe(limit)));
        var wait = TimeSpan.Zero;
        if (Reported(now, reported, window) > allowed)
        {
            // The exchange's count stands until a window after it was reported.
            wait = window - _time.GetElapsedTime(_reportedAt, now);
        }

        // Our own requests, oldest first: each leaves its window `window` after it was sent.
        var used = entries.Sum(e => e.Weight);
        foreach (var (at, weight) in entries)
        {
            if (used <= allowed)
            {
                break;
            }

            used -= weight;
            wait = Later(wait, window - _time.GetElapsedTime(at, now));
        }

        return wait;
    }

    // Keep 10 % of every limit in reserve for cancels and for requests of other clients on the same account.
    private static int Safe(int limit) => limit - (limit / 10);

    private int Reported(long now, int reported, TimeSpan window) =>
        _time.GetElapsedTime(_reportedAt, now) < window ? reported : 0;

    private void Trim(long now)
    {
        while (_orders10s.Count > 0 && _time.GetElapsedTime(_orders10s.Peek(), now) >= TimeSpan.FromSeconds(10))
        {
            _orders10s.Dequeue();
        }

        while (_orders1m.Count > 0 && _time.GetElapsedTime(_orders1m.Peek(), now) >= TimeSpan.FromMinutes(1))
        {
            _orders1m.Dequeue();
        }

        while (_weight1m.Count > 0 && _time.GetElapsedTime(_weight1m.Peek().At, now) >= TimeSpan.FromMinutes(1))
        {
            _weightInWindow -= _weight1m.Dequeue().Weight;
        }
    }
}
