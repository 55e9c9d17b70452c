using System.Globalization;
using System.Text.RegularExpressions;

namespace Chaser.Binance.Connector;

/// <summary>
/// The account's order-count limits (per 10 s and per minute) and the IP's request weight per minute, kept locally so
/// that no request is sent that would breach one, plus the pauses the exchange orders (429, 418, -1015). The one rate
/// governor of the connector: REST calls, REST and WebSocket API orders all go through it. Thread-safe; time from a
/// TimeProvider, windows on the exchange's clock.
/// </summary>
/// <remarks>
/// Binance counts in fixed windows aligned to its clock, not sliding ones: "a 1 MINUTE interval starts every minute
/// … once the 00:02:00 minute starts, the count will reset to zero", and 10 SECOND intervals reset at :00, :10, :20 …
/// of each minute (Binance API docs, WebSocket API "Rate limits"; the USDⓈ-M pages share the limits, API notes §4, §8).
/// So the windows here are numbered by server time (local time plus the <see cref="ServerClock"/> offset): a sliding
/// window refuses orders the exchange would take right after a reset, and a window on the local clock lets orders
/// through that fall into the exchange's current window.
/// </remarks>
public sealed partial class OrderRateGuard
{
    /// <summary>A refusal whose reason was not asked for (<see cref="Rehearse"/>): building it would allocate on every rehearsal.</summary>
    private const string Undescribed = "refused";

    /// <summary>An IP ban (418) that states no end: Binance's shortest ban is 2 minutes (API notes §4).</summary>
    private static readonly TimeSpan DefaultBan = TimeSpan.FromMinutes(2);

    private readonly TimeProvider _time;
    private readonly ServerClock _clock;
    private readonly Lock _lock = new();
    private readonly Window _orders10s = new(TimeSpan.FromSeconds(10), "orders per 10 s");
    private readonly Window _orders1m = new(TimeSpan.FromMinutes(1), "orders per minute");
    private readonly Window _weight1m = new(TimeSpan.FromMinutes(1), "request weight per minute");
    private readonly Window[] _windows;
    private readonly Dictionary<string, long> _lastAsked = new(StringComparer.Ordinal);
    private DateTimeOffset _bannedUntil = DateTimeOffset.MinValue;
    private DateTimeOffset _ordersPausedUntil = DateTimeOffset.MinValue;
    private string _pauseReason = string.Empty;

    public OrderRateGuard(TimeProvider time, int ordersPer10s = 300, int ordersPerMinute = 1_200, int weightPerMinute = 2_400, ServerClock? clock = null)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _clock = clock ?? new ServerClock(time);
        _windows = [_orders10s, _orders1m, _weight1m];
        SetLimits(ordersPer10s, ordersPerMinute, weightPerMinute);
    }

    public int OrdersPer10s => _orders10s.Limit;

    public int OrdersPerMinute => _orders1m.Limit;

    public int WeightPerMinute => _weight1m.Limit;

    /// <summary>Limits as exchangeInfo states them; a margin keeps us clear of the edge (the exchange counts requests we can't see).</summary>
    public void SetLimits(int ordersPer10s, int ordersPerMinute, int weightPerMinute)
    {
        lock (_lock)
        {
            _orders10s.Limit = ordersPer10s;
            _orders1m.Limit = ordersPerMinute;
            _weight1m.Limit = weightPerMinute;
        }
    }

    /// <summary>
    /// Takes budget for one request, or says why not (nothing is taken then). A <paramref name="deferrable"/> request
    /// (a book snapshot: it can wait for the next window) takes weight only up to <see cref="DeferrableUsable"/>, so that
    /// a reconnect resynchronising many books never leaves a cancel or a query without room.
    /// </summary>
    /// <remarks>
    /// Orders of a <paramref name="claimant"/> (the symbol) share the order windows fairly once they run short: the
    /// first half of a window's usable orders goes to whoever asks first, the second half only to claimants that have
    /// taken less than an equal share among those that asked in this window or the last. Without that, when the budget
    /// is tight, a window is spent by the fastest-ticking symbols in its first moments and a slow symbol's re-price
    /// waits window after window while the others keep re-pricing.
    /// </remarks>
    public bool TryAcquire(int orderCount, int weight, out string? refusal, bool deferrable = false, string? claimant = null)
    {
        lock (_lock)
        {
            refusal = Refusal(orderCount, weight, deferrable, out _);
            if (orderCount > 0 && claimant is not null)
            {
                // Asking counts, granted or not: a claimant refused all along is a contender too.
                _lastAsked[claimant] = _orders10s.Index;
                refusal ??= FairShareRefusal(orderCount, claimant);
            }

            if (refusal is not null)
            {
                return false;
            }

            _orders10s.Take(orderCount, claimant);
            _orders1m.Take(orderCount, claimant);
            _weight1m.Ours += weight;
            return true;
        }
    }

    /// <summary>
    /// Asks what <see cref="TryAcquire"/> asks (the windows, the pauses, the claimant's fair share) and takes nothing,
    /// not even the claimant's place among the contenders: a rehearsal of the request path, never a request.
    /// </summary>
    public bool Rehearse(int orderCount, int weight, string claimant)
    {
        lock (_lock)
        {
            return Refusal(orderCount, weight, deferrable: false, out _, describe: false) is null
                && (orderCount == 0 || FairShareRefusal(orderCount, claimant, describe: false) is null);
        }
    }

    /// <summary>Why this claimant's orders must leave the rest of a short window to others; null when they need not.</summary>
    private string? FairShareRefusal(int orderCount, string claimant, bool describe = true)
    {
        // Contenders: the claimants that asked for orders in this 10 s window or the one before.
        var index = _orders10s.Index;
        var contenders = 0;
        foreach (var asked in _lastAsked.Values)
        {
            if (asked >= index - 1)
            {
                contenders++;
            }
        }

        if (contenders <= 1)
        {
            return null;
        }

        foreach (var window in (ReadOnlySpan<Window>)[_orders10s, _orders1m])
        {
            var usable = Safe(window.Limit);
            if (window.Used + orderCount <= usable / 2)
            {
                continue;
            }

            var share = (usable + contenders - 1) / contenders;
            var taken = window.TakenBy(claimant);
            if (taken + orderCount > share)
            {
                return describe ? $"order rate limit: {claimant} has had {taken} of the {usable} usable {window.Name}, its share among {contenders} symbols while it is short ({window.Used} used)" : Undescribed;
            }
        }

        return null;
    }

    /// <summary>
    /// How long until a request of this cost would be granted if nothing else is sent: zero when it would be now,
    /// <see cref="TimeSpan.MaxValue"/> when it never can (it costs more than a whole window allows).
    /// </summary>
    public TimeSpan TimeUntilAcquirable(int orderCount, int weight, bool deferrable = false)
    {
        lock (_lock)
        {
            return Refusal(orderCount, weight, deferrable, out var wait) is null ? TimeSpan.Zero : wait;
        }
    }

    /// <summary>
    /// The counts the exchange reported (<c>X-MBX-ORDER-COUNT-10S|1M</c>, <c>X-MBX-USED-WEIGHT-1M</c>, or a WebSocket
    /// API answer's <c>rateLimits</c>): they include what other clients of the account and IP sent, so they are the
    /// truth for the window they were counted in, and the usage taken is the larger of theirs and ours (ours includes
    /// requests still on their way), plus what we took after their count arrived. A report belongs to the current window only if the request was sent in it:
    /// one that straddles a reset may be the previous window's count, and is dropped. Without
    /// <paramref name="sentAt"/> the request is taken as sent now.
    /// </summary>
    public void Observe(int? orders10s, int? orders1m, int? usedWeight1m, DateTimeOffset? sentAt = null)
    {
        lock (_lock)
        {
            var now = ServerNowMs();
            var sent = sentAt is { } at ? at.ToUnixTimeMilliseconds() + _clock.OffsetMs : now;
            _orders10s.Report(orders10s, sent, now);
            _orders1m.Report(orders1m, sent, now);
            _weight1m.Report(usedWeight1m, sent, now);
        }
    }

    /// <summary>
    /// A rate-limit answer: HTTP 429 or 418, or code -1015 (too many orders), with the Retry-After it carried. Pauses
    /// what it must until the exchange says, else until the window it broke resets (API notes §4, §12):
    /// <list type="bullet">
    /// <item>-1015: orders only (cancels, queries and reads go on) until Retry-After, else until the order window the
    /// message names (or the longest) resets;</item>
    /// <item>429 (-1003): every request until Retry-After, else until the weight window resets — carrying on after a
    /// 429 is what earns the IP a ban;</item>
    /// <item>418: every request until the ban ends: Retry-After, or the "banned until &lt;ms&gt;" (server time) of the
    /// message, else Binance's shortest ban, 2 minutes.</item>
    /// </list>
    /// Returns what was paused and until when, for the diagnostics; null when the answer was no rate limit.
    /// </summary>
    public string? ObserveRateLimited(int httpStatus, int? code, string? message, TimeSpan? retryAfter)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            var serverNow = ServerNowMs();
            if (code == -1015)
            {
                var window = message is not null && message.Contains("MINUTE", StringComparison.OrdinalIgnoreCase) ? _orders1m
                    : message is not null && (message.Contains("SECOND", StringComparison.OrdinalIgnoreCase) || message.Contains("10S", StringComparison.OrdinalIgnoreCase)) ? _orders10s
                    : _orders1m;
                window.Roll(serverNow);
                var until = retryAfter is { } wait ? Later(now, wait) : LocalTime(window.EndMs);
                _ordersPausedUntil = Max(_ordersPausedUntil, until);
                _pauseReason = $"too many orders (-1015): orders paused until {_ordersPausedUntil:O}";
                return _pauseReason;
            }

            if (httpStatus == 418)
            {
                var until = retryAfter is { } wait ? Later(now, wait)
                    : BannedUntil(message) is { } serverMs ? LocalTime(serverMs)
                    : now + DefaultBan;
                _bannedUntil = Max(_bannedUntil, until);
                _pauseReason = $"IP banned (HTTP 418) until {_bannedUntil:O}";
                return _pauseReason;
            }

            if (httpStatus == 429)
            {
                _weight1m.Roll(serverNow);
                var until = retryAfter is { } wait ? Later(now, wait) : LocalTime(_weight1m.EndMs);
                _bannedUntil = Max(_bannedUntil, until);
                _pauseReason = $"rate limit broken (HTTP 429): paused until {_bannedUntil:O}";
                return _pauseReason;
            }

            return null;
        }
    }

    /// <summary>The share of the tightest limit still free (0..1): the chasers re-price less often as it falls.</summary>
    public decimal AvailableFraction()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (now < _bannedUntil || now < _ordersPausedUntil)
            {
                return 0m;
            }

            var serverNow = ServerNowMs();
            var used = 0m;
            foreach (var window in _windows)
            {
                window.Roll(serverNow);
                used = Math.Max(used, (decimal)window.Used / Math.Max(1, Safe(window.Limit)));
            }

            return Math.Clamp(1m - used, 0m, 1m);
        }
    }

    /// <summary>
    /// How long until <see cref="AvailableFraction"/> reaches <paramref name="fraction"/> if nothing more is sent: when
    /// every window that holds too much has reset and any pause has ended. Zero when it already has. What lets a budget
    /// that fell to zero come back on time alone.
    /// </summary>
    public TimeSpan TimeUntilAvailable(decimal fraction)
    {
        fraction = Math.Clamp(fraction, 0m, 1m);
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            var wait = Later(_bannedUntil - now, _ordersPausedUntil - now);
            var serverNow = ServerNowMs();
            foreach (var window in _windows)
            {
                window.Roll(serverNow);
                var allowed = (int)decimal.Floor((1m - fraction) * Math.Max(1, Safe(window.Limit)));
                if (window.Used > allowed)
                {
                    // A fixed window frees all of its budget at once, when it resets.
                    wait = Later(wait, TimeSpan.FromMilliseconds(window.EndMs - serverNow));
                }
            }

            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
    }

    /// <summary>
    /// Why a request of this cost can't go now, and how long until it could; null when it can. Without
    /// <paramref name="describe"/> (a rehearsal, which nobody reads the reason of) a refusal is <see cref="Undescribed"/>:
    /// the same decision, no message built.
    /// </summary>
    private string? Refusal(int orderCount, int weight, bool deferrable, out TimeSpan wait, bool describe = true)
    {
        var now = _time.GetUtcNow();
        if (now < _bannedUntil)
        {
            wait = _bannedUntil - now;
            return describe ? $"not sent: {_pauseReason}" : Undescribed;
        }

        if (orderCount > 0 && now < _ordersPausedUntil)
        {
            wait = _ordersPausedUntil - now;
            return describe ? $"not sent: {_pauseReason}" : Undescribed;
        }

        var serverNow = ServerNowMs();
        foreach (var window in _windows)
        {
            window.Roll(serverNow);
        }

        foreach (var window in _windows)
        {
            var isWeight = ReferenceEquals(window, _weight1m);
            var cost = isWeight ? weight : orderCount;
            var limit = window.Limit;
            if (cost == 0)
            {
                continue;
            }

            var usable = isWeight && deferrable ? DeferrableUsable(limit) : Safe(limit);
            if (cost > usable)
            {
                wait = TimeSpan.MaxValue;
                return describe ? $"not sent: a cost of {cost} is more than the {usable} usable of {limit} {window.Name}" : Undescribed;
            }

            if (window.Used + cost > usable)
            {
                wait = TimeSpan.FromMilliseconds(window.EndMs - serverNow);
                return !describe ? Undescribed
                    : isWeight
                    ? $"request weight limit: {window.Used}/{limit} per minute{(deferrable ? $" (at most {usable} for requests that can wait)" : string.Empty)}"
                    : $"order rate limit: {_orders10s.Used}/{OrdersPer10s} per 10 s, {_orders1m.Used}/{OrdersPerMinute} per minute";
            }
        }

        wait = TimeSpan.Zero;
        return null;
    }

    private long ServerNowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds() + _clock.OffsetMs;

    // Clamped: a time past what DateTimeOffset holds (a garbled ban end) is "as long as can be", never an exception.
    private DateTimeOffset LocalTime(long serverMs) => DateTimeOffset.FromUnixTimeMilliseconds(
        Math.Clamp(serverMs - _clock.OffsetMs, DateTimeOffset.MinValue.ToUnixTimeMilliseconds(), DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));

    /// <summary>The ban's end Binance states in a 418's message: "Way too many requests; IP(…) banned until 1615183669840."</summary>
    private static long? BannedUntil(string? message) =>
        message is not null && BannedUntilPattern().Match(message) is { Success: true } match
            && long.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? ms
            : null;

    [GeneratedRegex(@"banned until (\d{10,16})", RegexOptions.CultureInvariant)]
    private static partial Regex BannedUntilPattern();

    private static TimeSpan Later(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary><paramref name="now"/> + <paramref name="wait"/>, a negative wait as none and one past the calendar as its end.</summary>
    private static DateTimeOffset Later(DateTimeOffset now, TimeSpan wait) =>
        wait <= TimeSpan.Zero ? now : wait >= DateTimeOffset.MaxValue - now ? DateTimeOffset.MaxValue : now + wait;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    // Keep 10 % of every limit in reserve for cancels and for requests of other clients on the same account.
    private static int Safe(int limit) => limit - (limit / 10);

    // Requests that can wait (book snapshots: 20 weight each, one per symbol on every market reconnect, so 60 symbols
    // take half the minute's weight) stop at 60 % of the limit: the rest is for order entry and its reconciliation.
    private static int DeferrableUsable(int limit) => Safe(limit) - (limit * 3 / 10);

    /// <summary>
    /// One fixed window on the exchange's clock: what we took in it and the most the exchange reported for it. The usage
    /// is the larger of ours and theirs — plus what we took after their count arrived, which it can't include.
    /// </summary>
    private sealed class Window(TimeSpan length, string name)
    {
        private readonly long _lengthMs = (long)length.TotalMilliseconds;
        private readonly Dictionary<string, int> _taken = new(StringComparer.Ordinal);
        private long _index = long.MinValue;
        private int _oursWhenReported;

        public string Name { get; } = name;

        /// <summary>The exchange's limit for the window (exchangeInfo); 10 % of it is kept in reserve.</summary>
        public int Limit { get; set; }

        public int Ours { get; set; }

        public int Reported { get; private set; }

        public int Used => Math.Max(Ours, Reported + Ours - _oursWhenReported);

        public long EndMs => (_index + 1) * _lengthMs;

        public long Index => _index;

        public void Roll(long serverNowMs)
        {
            var index = Math.DivRem(serverNowMs, _lengthMs, out var remainder) - (remainder < 0 ? 1 : 0);
            if (index != _index)
            {
                _index = index;
                Ours = 0;
                Reported = 0;
                _oursWhenReported = 0;
                // Cleared, not replaced: the entries are reused window after window without allocating.
                _taken.Clear();
            }
        }

        /// <summary>What a claimant took in this window.</summary>
        public int TakenBy(string claimant) => _taken.GetValueOrDefault(claimant);

        public void Take(int count, string? claimant)
        {
            Ours += count;
            if (claimant is not null && count > 0)
            {
                System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_taken, claimant, out _) += count;
            }
        }

        public void Report(int? count, long sentServerMs, long serverNowMs)
        {
            Roll(serverNowMs);
            // A lower count is an answer overtaken by later ones: it never lowers the usage.
            if (count is { } value && sentServerMs / _lengthMs == _index && value > Reported + Ours - _oursWhenReported)
            {
                Reported = value;
                _oursWhenReported = Ours;
            }
        }
    }
}
