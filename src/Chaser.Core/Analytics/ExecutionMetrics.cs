using Chaser.Core.Domain;

namespace Chaser.Core.Analytics;

/// <summary>One of our fills, as the metrics need it: the fee is positive when paid, negative for a rebate, in <paramref name="FeeAsset"/> (null: the quote asset).</summary>
public readonly record struct TraceFill(DateTimeOffset Time, decimal Price, decimal Quantity, decimal Fee, bool IsMaker, string? FeeAsset = null);

/// <summary>A top-of-book sample (bid, ask) at a time.</summary>
public readonly record struct TraceQuote(DateTimeOffset Time, decimal Bid, decimal Ask)
{
    public decimal Mid => (Bid + Ask) / 2m;
}

/// <summary>A print on the market's tape.</summary>
public readonly record struct TracePrint(DateTimeOffset Time, decimal Price, decimal Quantity);

/// <summary>
/// Everything about one parent order's execution that post-trade metrics are computed from. Build it from stored rows
/// (orders, fills, mids, events) or from an <c>ExecutionResult</c>; quotes and prints must be in time order.
/// </summary>
public sealed record ExecutionTrace
{
    public required Side Side { get; init; }

    public required SizeType SizeType { get; init; }

    /// <summary>Target: quote notional or base quantity, per <see cref="SizeType"/>.</summary>
    public required decimal Size { get; init; }

    public decimal? PriceExpected { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>The mid when the order started working (0 when unknown).</summary>
    public decimal ArrivalMid { get; init; }

    /// <summary>
    /// The mid when the order ended (or now, for one still working), which values the unfilled remainder; null when
    /// none was recorded.
    /// </summary>
    public decimal? EndMid { get; init; }

    /// <summary>
    /// The asset prices, notionals and fees are stated in (USDT for BTCUSDT); a fee paid in another asset (BNB) can't
    /// be added to a cost in it. Null when unknown: every fee is then taken as in the quote asset.
    /// </summary>
    public string? QuoteAsset { get; init; }

    public IReadOnlyList<TraceFill> Fills { get; init; } = [];

    /// <summary>Book samples during and, for markouts, after the order.</summary>
    public IReadOnlyList<TraceQuote> Quotes { get; init; } = [];

    /// <summary>The market's tape over the order's life, when recorded; null when not.</summary>
    public IReadOnlyList<TracePrint>? Tape { get; init; }

    public int ChildOrders { get; init; }

    public int Modifies { get; init; }

    public int Cancels { get; init; }

    public int PostOnlyRejects { get; init; }

    public IReadOnlyList<double> TickToOrderMicroseconds { get; init; } = [];

    /// <summary>The engine's hop of each sent request: from the input it was decided on to its bytes on the socket.</summary>
    public IReadOnlyList<double> HopMicroseconds { get; init; } = [];

    /// <summary>When each request that counts against the exchange's order-rate limit (a place or a modify) was sent.</summary>
    public IReadOnlyList<DateTimeOffset> OrderRequestTimes { get; init; } = [];
}

/// <summary>
/// Post-trade metrics of one parent order. Every slippage is signed so that positive is a cost to us:
/// <c>side × (average price − reference) / reference</c>, as a fraction and in basis points. A metric that can't be
/// computed from the trace (no fills, no reference, no data at a markout horizon) is null, never zero.
/// </summary>
public sealed record ExecutionMetrics
{
    public static readonly TimeSpan[] MarkoutHorizons = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60)];

    public decimal FilledQuantity { get; init; }

    public decimal FilledNotional { get; init; }

    public decimal? AveragePrice { get; init; }

    public decimal ArrivalMid { get; init; }

    public decimal? SlippageVsArrival { get; init; }

    public decimal? SlippageVsArrivalBps => SlippageVsArrival * 10_000m;

    public decimal? SlippageVsExpected { get; init; }

    public decimal? MarketVwap { get; init; }

    public decimal? SlippageVsVwap { get; init; }

    /// <summary>How much of the half-spread we earned, size-weighted: 1 = every fill at our side's best (maker at the touch), 0 = at the mid, negative = beyond the mid.</summary>
    public decimal? HalfSpreadCaptured { get; init; }

    public TimeSpan Duration { get; init; }

    public TimeSpan? TimeToFirstFill { get; init; }

    /// <summary>Filled ÷ target, in the target's unit.</summary>
    public decimal FillRate { get; init; }

    public decimal? MakerFraction { get; init; }

    public decimal Fees { get; init; }

    /// <summary>The target valued at the arrival mid, <c>S × M0</c> (the notional itself for a notional target): what shortfall in bp is of.</summary>
    public decimal? ArrivalNotional { get; init; }

    /// <summary>The mid the unfilled remainder is valued at (<see cref="ExecutionTrace.EndMid"/>).</summary>
    public decimal? EndMid { get; init; }

    /// <summary>
    /// The target left unfilled, in base quantity: <c>S − Σq</c>, with a notional target converted at the arrival mid
    /// (<c>S = notional / M0</c>). Negative when more was bought or sold than that (a notional buy while the price fell).
    /// </summary>
    public decimal? UnfilledQuantity { get; init; }

    /// <summary>What not filling the remainder cost: <c>side × R × (M_end − M0)</c>, positive = the market moved away from us.</summary>
    public decimal? OpportunityCost { get; init; }

    /// <summary>
    /// Implementation shortfall (Perold 1988) against the arrival mid, in the quote asset:
    /// <c>side × Σ q_i (p_i − M0) + F + side × R × (M_end − M0)</c> — what the fills paid beyond the arrival mid, the fees
    /// (a rebate counts negative) and the cost of the remainder left unfilled; positive = a cost. Null without an arrival
    /// mid, with a remainder but no end mid, or with a fee in another asset than the quote's.
    /// </summary>
    public decimal? ImplementationShortfall { get; init; }

    /// <summary>Implementation shortfall in basis points of <see cref="ArrivalNotional"/>.</summary>
    public decimal? ImplementationShortfallBps => ImplementationShortfall / ArrivalNotional * 10_000m; // divided first: a USDT amount × 10,000 may not fit a decimal

    public int ChildOrders { get; init; }

    public int Modifies { get; init; }

    public int Cancels { get; init; }

    public int PostOnlyRejects { get; init; }

    /// <summary>Requests that count against the exchange's order-rate limit (places and modifies; cancels don't).</summary>
    public int OrderRequests { get; init; }

    /// <summary>The most order requests sent in any 10-second window (Binance allows 300 per account).</summary>
    public int PeakOrderRequestsPer10s { get; init; }

    public double? LatencyP50Microseconds { get; init; }

    public double? LatencyP99Microseconds { get; init; }

    public double? HopP50Microseconds { get; init; }

    public double? HopP99Microseconds { get; init; }

    /// <summary>
    /// Size-weighted markouts in basis points at +1 s, +10 s, +60 s: <c>side × (fill price − mid at fill time + h) / fill
    /// price</c>, positive = the market moved against us after the fill (adverse selection). Null for a horizon no
    /// quote reaches.
    /// </summary>
    public IReadOnlyList<decimal?> MarkoutsBps { get; init; } = [];

    public static ExecutionMetrics Compute(ExecutionTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var side = trace.Side.Sign();
        var fills = trace.Fills;
        var quantity = fills.Sum(f => f.Quantity);
        var notional = fills.Sum(f => f.Quantity * f.Price);
        decimal? average = quantity > 0 ? notional / quantity : null;

        decimal? Slippage(decimal? reference) =>
            average is { } avg && reference is > 0 ? side * (avg - reference.Value) / reference.Value : null;

        decimal? vwap = null;
        if (trace.Tape is { } tape)
        {
            var window = tape.Where(p => p.Time >= trace.StartedAt && p.Time <= trace.CompletedAt).ToArray();
            var volume = window.Sum(p => p.Quantity);
            vwap = volume > 0 ? window.Sum(p => p.Price * p.Quantity) / volume : null;
        }

        var shortfall = Shortfall(trace, side, quantity, notional);
        return new ExecutionMetrics
        {
            FilledQuantity = quantity,
            FilledNotional = notional,
            AveragePrice = average,
            ArrivalMid = trace.ArrivalMid,
            SlippageVsArrival = Slippage(trace.ArrivalMid),
            SlippageVsExpected = Slippage(trace.PriceExpected),
            MarketVwap = vwap,
            SlippageVsVwap = Slippage(vwap),
            HalfSpreadCaptured = HalfSpread(trace, side),
            Duration = trace.CompletedAt - trace.StartedAt,
            TimeToFirstFill = fills.Count > 0 ? fills.Min(f => f.Time) - trace.StartedAt : null,
            FillRate = trace.Size > 0 ? (trace.SizeType == SizeType.Notional ? notional : quantity) / trace.Size : 0m,
            MakerFraction = quantity > 0 ? fills.Where(f => f.IsMaker).Sum(f => f.Quantity) / quantity : null,
            Fees = fills.Sum(f => f.Fee),
            ArrivalNotional = shortfall.ArrivalNotional,
            EndMid = trace.EndMid,
            UnfilledQuantity = shortfall.Unfilled,
            OpportunityCost = shortfall.OpportunityCost,
            ImplementationShortfall = shortfall.Total,
            ChildOrders = trace.ChildOrders,
            Modifies = trace.Modifies,
            Cancels = trace.Cancels,
            PostOnlyRejects = trace.PostOnlyRejects,
            OrderRequests = trace.OrderRequestTimes.Count,
            PeakOrderRequestsPer10s = PeakInWindow(trace.OrderRequestTimes, TimeSpan.FromSeconds(10)),
            LatencyP50Microseconds = Percentile(trace.TickToOrderMicroseconds, 0.50),
            LatencyP99Microseconds = Percentile(trace.TickToOrderMicroseconds, 0.99),
            HopP50Microseconds = Percentile(trace.HopMicroseconds, 0.50),
            HopP99Microseconds = Percentile(trace.HopMicroseconds, 0.99),
            MarkoutsBps = [.. MarkoutHorizons.Select(h => Markout(trace, side, h))],
        };
    }

    /// <summary>Perold's implementation shortfall and its parts; see <see cref="ImplementationShortfall"/>.</summary>
    private static (decimal? ArrivalNotional, decimal? Unfilled, decimal? OpportunityCost, decimal? Total) Shortfall(
        ExecutionTrace trace, int side, decimal quantity, decimal notional)
    {
        var m0 = trace.ArrivalMid;
        if (m0 <= 0 || trace.Size <= 0)
        {
            return (null, null, null, null);
        }

        try
        {
            return ShortfallOf(trace, side, quantity, notional, m0);
        }
        catch (OverflowException)
        {
            // A target so large that S × M0 leaves the decimal range (past 79 × 10^27): a figure the report can't state,
            // not a report that can't be built.
            return (null, null, null, null);
        }
    }

    private static (decimal? ArrivalNotional, decimal? Unfilled, decimal? OpportunityCost, decimal? Total) ShortfallOf(
        ExecutionTrace trace, int side, decimal quantity, decimal notional, decimal m0)
    {
        var isNotional = trace.SizeType == SizeType.Notional;
        var arrivalNotional = isNotional ? trace.Size : trace.Size * m0;
        var unfilled = isNotional ? (trace.Size / m0) - quantity : trace.Size - quantity;

        // Σ q_i (p_i − M0) = Σ q_i p_i − M0 Σ q_i: exact, no division.
        var execution = side * (notional - (m0 * quantity));

        decimal? opportunity = null;
        if (unfilled == 0)
        {
            opportunity = 0m;
        }
        else if (trace.EndMid is { } end && end > 0)
        {
            // For a notional target, (S / M0 − Σq)(M_end − M0) as S (M_end − M0) / M0 − Σq (M_end − M0): one division, last.
            var move = end - m0;
            opportunity = side * (isNotional ? (trace.Size * move / m0) - (quantity * move) : unfilled * move);
        }

        var foreignFee = trace.Fills.Any(f => f.Fee != 0 && !string.IsNullOrEmpty(f.FeeAsset) && trace.QuoteAsset is { } quote
            && !string.Equals(f.FeeAsset, quote, StringComparison.OrdinalIgnoreCase));
        decimal? total = opportunity is { } o && !foreignFee ? execution + trace.Fills.Sum(f => f.Fee) + o : null;
        return (arrivalNotional, unfilled, opportunity, total);
    }

    /// <summary>The quote in effect at a time: the last sample at or before it (strictly before, when asked).</summary>
    private static TraceQuote? QuoteAt(IReadOnlyList<TraceQuote> quotes, DateTimeOffset time, bool strictlyBefore = false)
    {
        TraceQuote? found = null;
        foreach (var quote in quotes)
        {
            if (quote.Time > time || (strictlyBefore && quote.Time == time))
            {
                break;
            }

            found = quote;
        }

        return found;
    }

    private static decimal? HalfSpread(ExecutionTrace trace, int side)
    {
        decimal earned = 0, available = 0;
        foreach (var fill in trace.Fills)
        {
            // The book just before the fill: an update stamped with the fill's own time may already show the fill's
            // effect (our level consumed), which would make a fill at our touch look like one beyond it.
            if (QuoteAt(trace.Quotes, fill.Time, strictlyBefore: true) is not { } quote || quote.Ask <= quote.Bid)
            {
                continue;
            }

            earned += fill.Quantity * side * (quote.Mid - fill.Price);
            available += fill.Quantity * (quote.Ask - quote.Bid) / 2m;
        }

        return available > 0 ? earned / available : null;
    }

    private static decimal? Markout(ExecutionTrace trace, int side, TimeSpan horizon)
    {
        if (trace.Quotes.Count == 0)
        {
            return null;
        }

        var last = trace.Quotes[^1].Time;
        decimal weighted = 0, size = 0;
        foreach (var fill in trace.Fills)
        {
            var at = fill.Time + horizon;
            if (at > last || QuoteAt(trace.Quotes, at) is not { } quote || fill.Price <= 0)
            {
                continue; // the data does not reach this horizon for this fill
            }

            weighted += fill.Quantity * side * (fill.Price - quote.Mid) / fill.Price;
            size += fill.Quantity;
        }

        return size > 0 ? weighted / size * 10_000m : null;
    }

    // The largest number of times within any window [t, t + width): a sliding window over the sorted times.
    private static int PeakInWindow(IReadOnlyList<DateTimeOffset> times, TimeSpan width)
    {
        var sorted = times.Order().ToArray();
        var peak = 0;
        var start = 0;
        for (var end = 0; end < sorted.Length; end++)
        {
            while (sorted[end] - sorted[start] >= width)
            {
                start++;
            }

            peak = Math.Max(peak, end - start + 1);
        }

        return peak;
    }

    // Nearest rank: a value that was observed.
    private static double? Percentile(IReadOnlyList<double> samples, double p)
    {
        if (samples.Count == 0)
        {
            return null;
        }

        var sorted = samples.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
