using Chaser.Core.Chasing;
using Chaser.Core.Domain;

namespace Chaser.Core.Ports;

/// <summary>One execution of a child order, as recorded.</summary>
public sealed record FillRecord(
    long ParentId,
    string ClientOrderId,
    long TradeId,
    decimal Price,
    decimal Quantity,
    decimal Fee,
    string? FeeAsset,
    bool IsMaker,
    DateTimeOffset ExchangeTime,
    DateTimeOffset ReceivedAt);

/// <summary>
/// One decision of a chaser: the command, its cause, the measured tick-to-order latency (from the frame that made the
/// order stale, deliberate waits included) and the engine's own hop (from the input it was decided on to the bytes
/// handed to the socket); both null for a decision that sent nothing. A value (one is made for every command, many a
/// second): recording it allocates nothing.
/// </summary>
public readonly record struct DecisionRecord(
    long ParentId,
    DateTimeOffset Time,
    ChaserCommand Command,
    double? TickToOrderMicroseconds,
    double? HopMicroseconds = null);

/// <summary>A mid-price sample of the book a parent order was worked against. A value: one is made per book that moves the mid.</summary>
public readonly record struct MidSample(long ParentId, decimal Bid, decimal Ask, DateTimeOffset ExchangeTime, DateTimeOffset ReceivedAt)
{
    public decimal Mid => (Bid + Ask) / 2m;
}

/// <summary>A print on the market's tape seen while a parent order worked (the VWAP benchmark is computed from these). A value: one per print.</summary>
public readonly record struct MarketTradeSample(long ParentId, decimal Price, decimal Quantity, bool BuyerIsMaker, DateTimeOffset ExchangeTime, DateTimeOffset ReceivedAt);

/// <summary>p50 / p99 / max of a latency over one parent order's decisions, in microseconds.</summary>
public sealed record LatencySummary(int Count, double P50, double P99, double Max)
{
    public static LatencySummary Of(IReadOnlyCollection<double> samples)
    {
        if (samples.Count == 0)
        {
            return new LatencySummary(0, 0, 0, 0);
        }

        var sorted = samples.Order().ToArray();
        return new LatencySummary(sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted[^1]);
    }

    // Nearest-rank percentile: a value that was actually observed.
    private static double Percentile(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>The outcome of one parent order: what the post-trade table and <c>--json</c> print, and what storage finalises the row with.</summary>
public sealed record ExecutionResult
{
    public required ParentOrderSpec Spec { get; init; }

    /// <summary>filled, canceled, expired or failed.</summary>
    public required FinishReason Status { get; init; }

    public string? Detail { get; init; }

    public decimal FilledQuantity { get; init; }

    public decimal FilledNotional { get; init; }

    public decimal AveragePrice => FilledQuantity == 0 ? 0m : FilledNotional / FilledQuantity;

    public decimal Fees { get; init; }

    /// <summary>Mid of the first sane book after the order started working.</summary>
    public decimal ArrivalMid { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset CompletedAt { get; init; }

    public TimeSpan Duration => CompletedAt - StartedAt;

    public int ChildOrders { get; init; }

    public int Modifies { get; init; }

    public int Cancels { get; init; }

    public int PostOnlyRejects { get; init; }

    /// <summary>The fills, copied when set: a result is a value, and a list the caller keeps filling must not change it.</summary>
    public IReadOnlyList<FillRecord> Fills
    {
        get;
        init => field = value is null ? [] : [.. value];
    } = [];

    /// <summary>Tick-to-order: from the frame that made the order stale (or caused the request) to its bytes on the socket, waits included.</summary>
    public LatencySummary Latency { get; init; } = new(0, 0, 0, 0);

    /// <summary>The engine's own hop: from the input each request was decided on to its bytes on the socket, no waits.</summary>
    public LatencySummary Hop { get; init; } = new(0, 0, 0, 0);

    /// <summary>The target in quote currency: the size for a notional order, size × arrival mid for a quantity order.</summary>
    public decimal TargetNotional => Spec.SizeType == SizeType.Notional ? Spec.Size : Spec.Size * ArrivalMid;

    /// <summary>Slippage against the arrival mid as a fraction, signed so that positive is a cost: side × (avg − mid) / mid.</summary>
    public decimal Slippage => FilledQuantity == 0 || ArrivalMid == 0 ? 0m : Spec.Side.Sign() * (AveragePrice - ArrivalMid) / ArrivalMid;

    public decimal SlippageBps => Slippage * 10_000m;
}
