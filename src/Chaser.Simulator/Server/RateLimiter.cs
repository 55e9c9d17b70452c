using System.Globalization;
using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Server;

/// <summary>
/// Binance's fixed-window limits: request weight per IP per minute, order counts per account per 10 s and per
/// minute. Breaking a limit answers 429 with Retry-After; carrying on during that window earns an IP ban (418)
/// that doubles with each repeat, up to 3 days.
/// </summary>
internal sealed class RateLimiter(RateLimitOptions options, TimeProvider time)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, IpState> ips = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrderState> accounts = new(StringComparer.Ordinal);
    private RateLimitStats stats;

    public RateLimitOptions Options => options;

    /// <summary>What the limits refused since start and the busiest windows seen: what a load run checks the client against.</summary>
    public RateLimitStats Stats
    {
        get
        {
            lock (gate)
            {
                return stats;
            }
        }
    }

    /// <summary>Counts the request weight; throws -1003 (429 or 418) when the IP is over its limit or banned.</summary>
    public int ChargeWeight(string ip, int weight)
    {
        lock (gate)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (!ips.TryGetValue(ip, out var s))
            {
                s = new IpState();
                ips[ip] = s;
            }

            var window = now / 60_000;
            if (s.Window != window)
            {
                s.Window = window;
                s.Used = 0;
            }

            if (!options.Enabled)
            {
                s.Used += weight;
                return s.Used;
            }

            if (now < s.BannedUntil)
            {
                stats = stats with { Banned = stats.Banned + 1 };
                throw Banned(ip, s.BannedUntil, Seconds(s.BannedUntil - now));
            }

            if (now < s.LimitedUntil)
            {
                // Still hammering after a 429: ban, twice as long as last time.
                s.BanCount++;
                var ban = options.FirstBan.TotalMilliseconds * Math.Pow(2, s.BanCount - 1);
                s.BannedUntil = now + (long)Math.Min(ban, TimeSpan.FromDays(3).TotalMilliseconds);
                s.LimitedUntil = 0;
                stats = stats with { Banned = stats.Banned + 1 };
                throw Banned(ip, s.BannedUntil, Seconds(s.BannedUntil - now));
            }

            s.Used += weight;
            if (s.Used > options.RequestWeightPerMinute)
            {
                s.LimitedUntil = (window + 1) * 60_000;
                stats = stats with { TooManyRequests = stats.TooManyRequests + 1 };
                var error = BinanceErrors.TooManyRequests(
                    $"Too many requests; current limit of IP({ip}) request weight is {options.RequestWeightPerMinute} per minute. Please use WebSocket Streams for live updates to avoid polling the API.", 429);
                error.RetryAfterSeconds = Seconds(s.LimitedUntil - now);
                throw error;
            }

            return s.Used;
        }
    }

    public int UsedWeight(string ip)
    {
        lock (gate)
        {
            var window = time.GetUtcNow().ToUnixTimeMilliseconds() / 60_000;
            return ips.TryGetValue(ip, out var s) && s.Window == window ? s.Used : 0;
        }
    }

    /// <summary>Counts orders of an account; throws -1015 (429) over either limit.</summary>
    public (int TenSeconds, int Minute) ChargeOrders(string account, int tenSecondCount, int minuteCount)
    {
        lock (gate)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (!accounts.TryGetValue(account, out var s))
            {
                s = new OrderState();
                accounts[account] = s;
            }

            Roll(s, now);
            s.TenSeconds += tenSecondCount;
            s.Minute += minuteCount;
            stats = stats with { PeakOrders10s = Math.Max(stats.PeakOrders10s, s.TenSeconds), PeakOrders1m = Math.Max(stats.PeakOrders1m, s.Minute), Orders = stats.Orders + tenSecondCount };
            if (options.Enabled && s.TenSeconds > options.OrdersPer10Seconds)
            {
                stats = stats with { TooManyOrders = stats.TooManyOrders + 1 };
                var error = BinanceErrors.TooManyOrders(options.OrdersPer10Seconds, "TEN_SECONDS");
                error.RetryAfterSeconds = Seconds(((now / 10_000) + 1) * 10_000 - now);
                throw error;
            }

            if (options.Enabled && s.Minute > options.OrdersPerMinute)
            {
                stats = stats with { TooManyOrders = stats.TooManyOrders + 1 };
                var error = BinanceErrors.TooManyOrders(options.OrdersPerMinute, "ONE_MINUTE");
                error.RetryAfterSeconds = Seconds(((now / 60_000) + 1) * 60_000 - now);
                throw error;
            }

            return (s.TenSeconds, s.Minute);
        }
    }

    public (int TenSeconds, int Minute) OrderCounts(string account)
    {
        lock (gate)
        {
            if (!accounts.TryGetValue(account, out var s))
            {
                return (0, 0);
            }

            Roll(s, time.GetUtcNow().ToUnixTimeMilliseconds());
            return (s.TenSeconds, s.Minute);
        }
    }

    private static void Roll(OrderState s, long now)
    {
        if (s.TenSecondWindow != now / 10_000)
        {
            s.TenSecondWindow = now / 10_000;
            s.TenSeconds = 0;
        }

        if (s.MinuteWindow != now / 60_000)
        {
            s.MinuteWindow = now / 60_000;
            s.Minute = 0;
        }
    }

    private static int Seconds(long ms) => (int)Math.Max(1, (ms + 999) / 1000);

    private static BinanceException Banned(string ip, long until, int retryAfterSeconds)
    {
        var error = BinanceErrors.TooManyRequests(
            $"Way too many requests; IP({ip}) banned until {until.ToString(CultureInfo.InvariantCulture)}. Please use the websocket for live updates to avoid bans.", 418);
        error.RetryAfterSeconds = retryAfterSeconds;
        return error;
    }

    private sealed class IpState
    {
        public long Window { get; set; }
        public int Used { get; set; }
        public long LimitedUntil { get; set; }
        public long BannedUntil { get; set; }
        public int BanCount { get; set; }
    }

    private sealed class OrderState
    {
        public long TenSecondWindow { get; set; }
        public long MinuteWindow { get; set; }
        public int TenSeconds { get; set; }
        public int Minute { get; set; }
    }
}

/// <summary>
/// Refusals since start (429 weight, 418 ban, -1015 orders) and the most orders counted in one fixed 10 s and one
/// fixed 1 minute window (Binance's windows; refused orders count, as on Binance).
/// </summary>
internal readonly record struct RateLimitStats(long Orders, int PeakOrders10s, int PeakOrders1m, long TooManyRequests, long Banned, long TooManyOrders);
