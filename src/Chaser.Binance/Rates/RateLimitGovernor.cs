using System.Globalization;
using Chaser.Binance.Parsing;

namespace Chaser.Binance.Rates;

/// <summary>What a rate limit counts: IP request weight, or the account's new/modified orders.</summary>
public enum RateLimitKind
{
    RequestWeight,
    Orders,
}

/// <summary>One limit: at most <see cref="Limit"/> units per fixed window of <see cref="Window"/>.</summary>
public sealed record RateLimit(RateLimitKind Kind, TimeSpan Window, int Limit)
{
    /// <summary>The suffix of the response header reporting this window's usage (<c>1M</c>, <c>10S</c>).</summary>
    public string HeaderSuffix => Window.TotalDays >= 1 && Window.TotalDays % 1 == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)Window.TotalDays}D")
        : Window.TotalHours >= 1 && Window.TotalHours % 1 == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)Window.TotalHours}H")
            : Window.TotalMinutes >= 1 && Window.TotalMinutes % 1 == 0
                ? string.Create(CultureInfo.InvariantCulture, $"{(int)Window.TotalMinutes}M")
                : string.Create(CultureInfo.InvariantCulture, $"{(int)Window.TotalSeconds}S");

    public override string ToString() => $"{Kind} {Limit}/{HeaderSuffix}";

    /// <summary>The limits exchangeInfo announces (REQUEST_WEIGHT and ORDERS; RAW_REQUESTS is not enforced on futures).</summary>
    public static IReadOnlyList<RateLimit> FromExchangeInfo(IEnumerable<RateLimitRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var limits = new List<RateLimit>();
        foreach (var rule in rules)
        {
            var kind = rule.RateLimitType switch
            {
                "REQUEST_WEIGHT" => RateLimitKind.RequestWeight,
                "ORDERS" => RateLimitKind.Orders,
                _ => (RateLimitKind?)null,
            };
            if (kind is { } k)
            {
                limits.Add(new RateLimit(k, rule.Window, rule.Limit));
            }
        }

        return limits;
    }

    /// <summary>Binance's documented defaults (API notes §4), for use before exchangeInfo has been read.</summary>
    public static IReadOnlyList<RateLimit> Defaults { get; } =
    [
        new(RateLimitKind.RequestWeight, TimeSpan.FromMinutes(1), 2400),
        new(RateLimitKind.Orders, TimeSpan.FromSeconds(10), 300),
        new(RateLimitKind.Orders, TimeSpan.FromMinutes(1), 1200),
    ];
}

/// <summary>The governor's answer: go ahead, or not before <see cref="RetryAt"/> and why.</summary>
public readonly record struct RatePermit(bool Granted, string? Reason, DateTimeOffset RetryAt)
{
    public static RatePermit Grant(DateTimeOffset now) => new(true, null, now);

    public override string ToString() => Granted ? "granted" : $"refused until {RetryAt:O}: {Reason}";
}

/// <summary>
/// The rate-limit governor of one account (and its IP). It counts what it lets through per fixed window (Binance's
/// windows are aligned to the clock: whole minutes, whole 10 s), raises its counts to what the exchange reports in
/// <c>X-MBX-USED-WEIGHT-*</c> / <c>X-MBX-ORDER-COUNT-*</c> (other processes may share the IP), and never grants a
/// request that would go over a limit: callers either wait (<see cref="AcquireAsync"/>) or are refused with a reason.
/// After HTTP 429 or 418 nothing passes until Retry-After (or a conservative default) has elapsed, because continuing
/// after a 429 is what gets an IP banned. Time comes only from the <see cref="TimeProvider"/>. Thread-safe.
/// </summary>
public sealed class RateLimitGovernor
{
    /// <summary>An IP ban (418) without Retry-After: Binance's shortest ban is 2 minutes.</summary>
    private static readonly TimeSpan DefaultBanWithoutRetryAfter = TimeSpan.FromMinutes(2);

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Window[] _windows;
    private DateTimeOffset _blockedUntil = DateTimeOffset.MinValue;
    private DateTimeOffset _ordersBlockedUntil = DateTimeOffset.MinValue;
    private string? _blockReason;

    /// <param name="limits">From <see cref="RateLimit.FromExchangeInfo"/>.</param>
    /// <param name="time">The clock; tests pass a fake one.</param>
    /// <param name="usableFraction">The share of each limit this governor may use (headroom for header lag and other processes).</param>
    public RateLimitGovernor(IEnumerable<RateLimit> limits, TimeProvider time, decimal usableFraction = 0.95m)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(time);
        if (usableFraction is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(usableFraction), usableFraction, "must be in (0, 1]");
        }

        _time = time;
        _windows = [.. limits.Select(l => new Window(l, (int)decimal.Floor(l.Limit * usableFraction)))];
        if (_windows.Length == 0)
        {
            throw new ArgumentException("at least one rate limit is needed", nameof(limits));
        }
    }

    public IReadOnlyList<RateLimit> Limits => [.. _windows.Select(w => w.Limit)];

    /// <summary>
    /// The smallest share of any limit still available in its current window, 0..1 (0 while blocked). Feeds
    /// <c>ChaserStateMachine.OnRateBudget</c>, which slows re-pricing as the budget shrinks.
    /// </summary>
    public decimal AvailableFraction
    {
        get
        {
            lock (_lock)
            {
                var now = _time.GetUtcNow();
                if (now < _blockedUntil)
                {
                    return 0m;
                }

                var fraction = 1m;
                foreach (var window in _windows)
                {
                    window.Roll(now);
                    if (window.Limit.Kind == RateLimitKind.Orders && now < _ordersBlockedUntil)
                    {
                        return 0m;
                    }

                    var share = window.Usable == 0 ? 0m : Math.Clamp(1m - ((decimal)window.Used / window.Usable), 0m, 1m);
                    fraction = Math.Min(fraction, share);
                }

                return fraction;
            }
        }
    }

    /// <summary>Counts the request and grants it if every limit has room now; otherwise refuses with when and why.</summary>
    public RatePermit TryAcquire(int weight, int orders)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(weight);
        ArgumentOutOfRangeException.ThrowIfNegative(orders);
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (now < _blockedUntil)
            {
                return new RatePermit(false, _blockReason, _blockedUntil);
            }

            if (orders > 0 && now < _ordersBlockedUntil)
            {
                return new RatePermit(false, _blockReason, _ordersBlockedUntil);
            }

            foreach (var window in _windows)
            {
                window.Roll(now);
                var cost = window.Limit.Kind == RateLimitKind.RequestWeight ? weight : orders;
                if (cost > window.Usable)
                {
                    // Could never pass: refuse for good rather than wait forever.
                    return new RatePermit(false, $"{window.Limit}: a cost of {cost} exceeds the usable limit {window.Usable}", DateTimeOffset.MaxValue);
                }

                if (window.Used + cost > window.Usable)
                {
                    return new RatePermit(
                        false,
                        $"{window.Limit}: {window.Used} used + {cost} would exceed {window.Usable} in this window",
                        window.End);
                }
            }

            foreach (var window in _windows)
            {
                window.Used += window.Limit.Kind == RateLimitKind.RequestWeight ? weight : orders;
            }

            return RatePermit.Grant(now);
        }
    }

    /// <summary>
    /// Waits (on the governor's clock) until the request fits, then counts it. Refuses instead when the wait would be
    /// longer than <paramref name="maxWait"/> or the request can never fit.
    /// </summary>
    public async ValueTask<RatePermit> AcquireAsync(int weight, int orders, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var deadline = _time.GetUtcNow() + maxWait;
        while (true)
        {
            var permit = TryAcquire(weight, orders);
            if (permit.Granted || permit.RetryAt > deadline)
            {
                return permit;
            }

            var delay = permit.RetryAt - _time.GetUtcNow();
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Raises the counts of the window in which the request was sent to what the exchange reports (never lowers them:
    /// our own count includes requests still in flight). Headers of a request sent in an earlier window are ignored.
    /// </summary>
    public void ObserveUsage(DateTimeOffset sentAt, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        foreach (var (name, values) in headers)
        {
            RateLimitKind kind;
            string suffix;
            if (name.StartsWith("X-MBX-USED-WEIGHT-", StringComparison.OrdinalIgnoreCase))
            {
                kind = RateLimitKind.RequestWeight;
                suffix = name["X-MBX-USED-WEIGHT-".Length..];
            }
            else if (name.StartsWith("X-MBX-ORDER-COUNT-", StringComparison.OrdinalIgnoreCase))
            {
                kind = RateLimitKind.Orders;
                suffix = name["X-MBX-ORDER-COUNT-".Length..];
            }
            else
            {
                continue;
            }

            var text = values.FirstOrDefault();
            if (text is not null && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var used))
            {
                ObserveUsage(sentAt, kind, suffix, used);
            }
        }
    }

    /// <summary>One usage report: <paramref name="suffix"/> as in the header name (<c>1M</c>, <c>10S</c>).</summary>
    public void ObserveUsage(DateTimeOffset sentAt, RateLimitKind kind, string suffix, int used)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            foreach (var window in _windows)
            {
                if (window.Limit.Kind != kind || !string.Equals(window.Limit.HeaderSuffix, suffix, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                window.Roll(now);
                if (window.Contains(sentAt))
                {
                    window.Used = Math.Max(window.Used, used);
                }
            }
        }
    }

    /// <summary>
    /// A rate-limit answer: HTTP 429 (limit broken), 418 (IP banned), or code -1015 (too many orders). Blocks every
    /// request (orders only for -1015) until Retry-After, or a conservative default when the header is absent.
    /// </summary>
    public void ObserveRateLimited(int httpStatus, int? code, TimeSpan? retryAfter)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (code == -1015)
            {
                var until = now + (retryAfter ?? NextWindowEnd(RateLimitKind.Orders, now));
                _ordersBlockedUntil = Max(_ordersBlockedUntil, until);
                _blockReason = $"order rate limit hit (-1015); orders paused until {until:O}";
                return;
            }

            if (httpStatus is not (429 or 418))
            {
                return;
            }

            var wait = retryAfter ?? (httpStatus == 418 ? DefaultBanWithoutRetryAfter : NextWindowEnd(RateLimitKind.RequestWeight, now));
            var blockedUntil = now + wait;
            _blockedUntil = Max(_blockedUntil, blockedUntil);
            _blockReason = httpStatus == 418
                ? $"IP banned (HTTP 418) until {_blockedUntil:O}"
                : $"rate limit broken (HTTP 429) — paused until {_blockedUntil:O}";
        }
    }

    private TimeSpan NextWindowEnd(RateLimitKind kind, DateTimeOffset now)
    {
        var end = _windows.Where(w => w.Limit.Kind == kind).Select(w => w.EndAt(now)).DefaultIfEmpty(now + TimeSpan.FromMinutes(1)).Max();
        return end - now;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed class Window(RateLimit limit, int usable)
    {
        private readonly long _lengthTicks = limit.Window.Ticks;
        private long _index = long.MinValue;

        public RateLimit Limit { get; } = limit;

        public int Usable { get; } = usable;

        public int Used { get; set; }

        public DateTimeOffset End => new(checked((_index + 1) * _lengthTicks), TimeSpan.Zero);

        public DateTimeOffset EndAt(DateTimeOffset now) => new(((now.UtcTicks / _lengthTicks) + 1) * _lengthTicks, TimeSpan.Zero);

        public bool Contains(DateTimeOffset time) => time.UtcTicks / _lengthTicks == _index;

        public void Roll(DateTimeOffset now)
        {
            var index = now.UtcTicks / _lengthTicks;
            if (index != _index)
            {
                _index = index;
                Used = 0;
            }
        }
    }
}
