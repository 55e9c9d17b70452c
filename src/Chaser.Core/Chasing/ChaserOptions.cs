namespace Chaser.Core.Chasing;

/// <summary>Whether a resting child follows the best price.</summary>
public enum RepricePolicy
{
    /// <summary>Re-price the resting child whenever it is no longer at the best price.</summary>
    Chase,

    /// <summary>
    /// Leave the child where it was posted until it fills, is rejected or the order stops: it keeps its place in the
    /// queue. A child that is gone (a post-only reject, a fill) is followed by a new one at the then best price.
    /// </summary>
    Never,
}

/// <summary>Tuning of one chaser. The defaults are conservative choices for a real account.</summary>
public sealed record ChaserOptions
{
    /// <summary>Re-price with one modify (PUT) rather than cancel + new. Both lose queue priority on Binance; modify costs one request instead of two.</summary>
    public bool PreferModify { get; init; } = true;

    /// <summary>Whether the resting child follows the best price (<see cref="RepricePolicy.Never"/>: post once, wait).</summary>
    public RepricePolicy Reprice { get; init; } = RepricePolicy.Chase;

    /// <summary>
    /// When the child is alone at the top of its side (the level holds only what it has left), move it back to the
    /// next level, so as not to pay more than the rest of the book asks. Off: the child stays at the touch it made.
    /// Applies only when <see cref="Reprice"/> is <see cref="RepricePolicy.Chase"/>.
    /// </summary>
    public bool StepBack { get; init; } = true;

    /// <summary>
    /// Take the whole order with market orders from the start instead of posting: the path
    /// <see cref="Domain.DeadlineAction.TakeRemainder"/> takes at the deadline (each market order sized from the book
    /// it takes from, the next one on a newer book), started at once. Nothing is posted, so <see cref="Reprice"/>,
    /// <see cref="StepBack"/> and <see cref="MinRepriceInterval"/> do not apply.
    /// </summary>
    public bool TakeAtArrival { get; init; }

    /// <summary>Minimum time between two requests that re-price the same parent order (rate-limit protection).</summary>
    public TimeSpan MinRepriceInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>After this many post-only rejections in a row, wait <see cref="PostOnlyRejectBackoff"/> (doubling) before re-posting.</summary>
    public int PostOnlyRejectsBeforeBackoff { get; init; } = 3;

    public TimeSpan PostOnlyRejectBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Wait after a retryable rejection (rate limit, throttling) before the next request.</summary>
    public TimeSpan RetryableRejectBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait for a child's final state (after a cancel was refused as unknown, or a post-only modify) before querying it.</summary>
    public TimeSpan FinalStateTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait for a status query's answer before asking again.</summary>
    public TimeSpan QueryRetryInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long after sending a request the exchange may still act on it: the <c>recvWindow</c> the host signs
    /// requests with. Until then "not found" or "still as it was" from a status query may just mean the request is
    /// still on its way, so it does not settle an unknown outcome.
    /// </summary>
    public TimeSpan RequestExpiry { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Binance's quantitative rules count an order canceled sooner than this after placement as an invalid cancellation.</summary>
    public TimeSpan InvalidCancelWindow { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The bound the chaser keeps the invalid-cancellation ratio under (young cancels / orders, per symbol, per 10-minute cycle).</summary>
    public decimal MaxInvalidCancelRatio { get; init; } = 0.5m;

    /// <summary>The ratio is not enforced until this many orders were placed in the cycle (a ratio of a handful of orders means nothing).</summary>
    public int InvalidCancelRatioMinOrders { get; init; } = 10;

    /// <summary>Count a modify of a young order as an invalid cancellation (Binance does not say whether it does; assume it does).</summary>
    public bool CountModifyAsCancel { get; init; } = true;

    public void Validate()
    {
        if (!Enum.IsDefined(Reprice))
        {
            throw new ArgumentOutOfRangeException(nameof(Reprice), Reprice, "must be Chase or Never");
        }

        if (MinRepriceInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MinRepriceInterval), MinRepriceInterval, "must not be negative");
        }

        if (PostOnlyRejectsBeforeBackoff < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(PostOnlyRejectsBeforeBackoff), PostOnlyRejectsBeforeBackoff, "must be at least 1");
        }

        if (MaxInvalidCancelRatio is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxInvalidCancelRatio), MaxInvalidCancelRatio, "must be in (0, 1]");
        }

        if (FinalStateTimeout <= TimeSpan.Zero || QueryRetryInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(FinalStateTimeout), "timeouts must be positive");
        }
    }
}
