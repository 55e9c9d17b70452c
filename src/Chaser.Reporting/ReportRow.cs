using System.ComponentModel;
using System.Text.Json.Serialization;
using Chaser.Core.Analytics;

namespace Chaser.Reporting;

/// <summary>
/// One parent order's line of the post-trade report: what the terminal table, CSV, Parquet, JSON and the dashboard
/// show. Slippage and markouts are signed so that positive is a cost; null means "can't be computed from what was
/// recorded", never zero. Column names are the JSON names (snake_case), the same in every format.
/// </summary>
public sealed class ReportRow
{
    /// <summary>Binance's account limit on order requests (places and modifies) per 10 seconds.</summary>
    public const int OrderLimitPer10s = 300;

    [JsonPropertyName("id")]
    public long Id { get; init; }

    [JsonPropertyName("symbol")]
    public string Symbol { get; init; } = "";

    [JsonPropertyName("side")]
    public string Side { get; init; } = "";

    [JsonPropertyName("strategy")]
    public string Strategy { get; init; } = "";

    [JsonPropertyName("status")]
    public string Status { get; init; } = "";

    /// <summary>Why the order ended as it did (or what it waits for): the reason a failed or canceled order gives.</summary>
    [JsonPropertyName("status_detail")]
    public string? StatusDetail { get; init; }

    [JsonPropertyName("size")]
    public decimal Size { get; init; }

    /// <summary>"n" (quote notional) or "q" (base quantity).</summary>
    [JsonPropertyName("size_type")]
    public string SizeType { get; init; } = "";

    [JsonPropertyName("price_expected")]
    public decimal? PriceExpected { get; init; }

    [JsonPropertyName("started_at")]
    public DateTime? StartedAt { get; init; }

    [JsonPropertyName("completed_at")]
    public DateTime? CompletedAt { get; init; }

    [JsonPropertyName("duration_s")]
    public double DurationSeconds { get; init; }

    [JsonPropertyName("time_to_first_fill_s")]
    public double? TimeToFirstFillSeconds { get; init; }

    [JsonPropertyName("filled_qty")]
    public decimal FilledQty { get; init; }

    [JsonPropertyName("filled_notional")]
    public decimal FilledNotional { get; init; }

    [JsonPropertyName("fill_rate")]
    public decimal FillRate { get; init; }

    [JsonPropertyName("avg_price")]
    public decimal? AvgPrice { get; init; }

    [JsonPropertyName("arrival_mid")]
    public decimal? ArrivalMid { get; init; }

    /// <summary>Against the arrival mid, as a fraction (the seed's <c>slippage</c> column).</summary>
    [JsonPropertyName("slippage")]
    public decimal? Slippage { get; init; }

    [JsonPropertyName("slippage_bps")]
    public decimal? SlippageBps { get; init; }

    [JsonPropertyName("slippage_vs_expected_bps")]
    public decimal? SlippageVsExpectedBps { get; init; }

    [JsonPropertyName("market_vwap")]
    public decimal? MarketVwap { get; init; }

    [JsonPropertyName("slippage_vs_vwap_bps")]
    public decimal? SlippageVsVwapBps { get; init; }

    /// <summary>1 = every fill at our touch (the whole half-spread earned), 0 = at the mid, below 0 = beyond it.</summary>
    [JsonPropertyName("half_spread_captured")]
    public decimal? HalfSpreadCaptured { get; init; }

    [JsonPropertyName("maker_fraction")]
    public decimal? MakerFraction { get; init; }

    [JsonPropertyName("fees")]
    public decimal Fees { get; init; }

    /// <summary>The mid when the order ended (the last one it recorded), at which the unfilled remainder is valued.</summary>
    [JsonPropertyName("end_mid")]
    [Description("The mid when the order ended (the last one it recorded; now, for a working order), at which the unfilled remainder is valued.")]
    public decimal? EndMid { get; init; }

    /// <summary>What leaving the remainder unfilled cost: side × (target − filled, in base) × (end mid − arrival mid).</summary>
    [JsonPropertyName("opportunity_cost")]
    [Description("In the quote asset: side × unfilled base quantity (a notional target converted at the arrival mid) × (end mid − arrival mid); positive = a cost.")]
    public decimal? OpportunityCost { get; init; }

    /// <summary>Perold's implementation shortfall against the arrival mid, in the quote asset: fills beyond the mid + fees + opportunity cost.</summary>
    [JsonPropertyName("implementation_shortfall")]
    [Description("Implementation shortfall against the arrival mid, in the quote asset (USDT): side × Σ qty × (price − arrival mid) + fees + opportunity cost; positive = a cost. Null without an arrival mid, with a remainder but no end mid, or with a fee paid in another asset.")]
    public decimal? ImplementationShortfall { get; init; }

    /// <summary>Implementation shortfall in bp of the target valued at the arrival mid.</summary>
    [JsonPropertyName("implementation_shortfall_bps")]
    [Description("Implementation shortfall in basis points of the target valued at the arrival mid (target quantity × arrival mid, or the notional target).")]
    public decimal? ImplementationShortfallBps { get; init; }

    [JsonPropertyName("child_orders")]
    public int ChildOrders { get; init; }

    [JsonPropertyName("modifies")]
    public int Modifies { get; init; }

    [JsonPropertyName("cancels")]
    public int Cancels { get; init; }

    [JsonPropertyName("post_only_rejects")]
    public int PostOnlyRejects { get; init; }

    [JsonPropertyName("fills")]
    public int Fills { get; init; }

    [JsonPropertyName("order_requests")]
    public int OrderRequests { get; init; }

    /// <summary>The busiest 10 s of this order as a share of the account's order-rate limit (300 per 10 s).</summary>
    [JsonPropertyName("order_budget_peak_10s")]
    public decimal OrderBudgetPeak10s { get; init; }

    [JsonPropertyName("tick_to_order_p50_us")]
    public double? TickToOrderP50Us { get; init; }

    [JsonPropertyName("tick_to_order_p99_us")]
    public double? TickToOrderP99Us { get; init; }

    /// <summary>The engine's own hop (input received → bytes on the socket), no deliberate waits.</summary>
    [JsonPropertyName("hop_p50_us")]
    public double? HopP50Us { get; init; }

    [JsonPropertyName("hop_p99_us")]
    public double? HopP99Us { get; init; }

    [JsonPropertyName("markout_1s_bps")]
    public decimal? Markout1sBps { get; init; }

    [JsonPropertyName("markout_10s_bps")]
    public decimal? Markout10sBps { get; init; }

    [JsonPropertyName("markout_60s_bps")]
    public decimal? Markout60sBps { get; init; }

    public static ReportRow Of(StoredExecution execution, ExecutionMetrics m)
    {
        ArgumentNullException.ThrowIfNull(execution);
        ArgumentNullException.ThrowIfNull(m);
        var o = execution.Order;
        return new ReportRow
        {
            Id = o.Id,
            Symbol = o.Symbol,
            Side = execution.Side == Core.Domain.Side.Buy ? "buy" : "sell",
            Strategy = o.Strategy,
            Status = o.Status,
            StatusDetail = o.StatusDetail,
            Size = o.Size,
            SizeType = o.SizeType,
            PriceExpected = o.PriceExpected > 0 ? o.PriceExpected : null,
            StartedAt = o.StartedAt?.UtcDateTime,
            CompletedAt = o.CompletedAt?.UtcDateTime,
            DurationSeconds = Math.Round(m.Duration.TotalSeconds, 6),
            TimeToFirstFillSeconds = m.TimeToFirstFill is { } first ? Math.Round(first.TotalSeconds, 6) : null,
            FilledQty = m.FilledQuantity,
            FilledNotional = m.FilledNotional,
            FillRate = Math.Round(m.FillRate, 6, MidpointRounding.AwayFromZero),
            AvgPrice = Round(m.AveragePrice, 8),
            ArrivalMid = m.ArrivalMid > 0 ? m.ArrivalMid : null,
            Slippage = Round(m.SlippageVsArrival, 10),
            SlippageBps = Round(m.SlippageVsArrivalBps, 4),
            SlippageVsExpectedBps = Round(m.SlippageVsExpected * 10_000m, 4),
            MarketVwap = Round(m.MarketVwap, 8),
            SlippageVsVwapBps = Round(m.SlippageVsVwap * 10_000m, 4),
            HalfSpreadCaptured = Round(m.HalfSpreadCaptured, 4),
            MakerFraction = Round(m.MakerFraction, 4),
            Fees = m.Fees,
            EndMid = Round(m.EndMid, 8),
            OpportunityCost = Round(m.OpportunityCost, 8),
            ImplementationShortfall = Round(m.ImplementationShortfall, 8),
            ImplementationShortfallBps = Round(m.ImplementationShortfallBps, 4),
            ChildOrders = m.ChildOrders,
            Modifies = m.Modifies,
            Cancels = m.Cancels,
            PostOnlyRejects = m.PostOnlyRejects,
            Fills = execution.Fills.Count,
            OrderRequests = m.OrderRequests,
            OrderBudgetPeak10s = Math.Round((decimal)m.PeakOrderRequestsPer10s / OrderLimitPer10s, 6),
            TickToOrderP50Us = m.LatencyP50Microseconds,
            TickToOrderP99Us = m.LatencyP99Microseconds,
            HopP50Us = m.HopP50Microseconds,
            HopP99Us = m.HopP99Microseconds,
            Markout1sBps = Round(m.MarkoutsBps[0], 4),
            Markout10sBps = Round(m.MarkoutsBps[1], 4),
            Markout60sBps = Round(m.MarkoutsBps[2], 4),
        };
    }

    // Report precision: decimals of 28 significant digits are noise in a table and too wide for Parquet's decimal(38,18).
    internal static decimal? Round(decimal? value, int decimals) => value is { } v ? Math.Round(v, decimals, MidpointRounding.AwayFromZero) : null;
}

/// <summary>One group of the report's aggregate table (symbol, side, strategy), weighted by filled notional.</summary>
public sealed record AggregateRow(
    [property: JsonPropertyName("symbol")] string Symbol,
    [property: JsonPropertyName("side")] string Side,
    [property: JsonPropertyName("strategy")] string Strategy,
    [property: JsonPropertyName("orders")] int Orders,
    [property: JsonPropertyName("filled_notional")] decimal FilledNotional,
    [property: JsonPropertyName("fees")] decimal Fees,
    [property: JsonPropertyName("slippage_bps")] decimal? SlippageBps,
    [property: JsonPropertyName("slippage_vs_expected_bps")] decimal? SlippageVsExpectedBps,
    [property: JsonPropertyName("half_spread_captured")] decimal? HalfSpreadCaptured,
    [property: JsonPropertyName("maker_fraction")] decimal? MakerFraction,
    [property: JsonPropertyName("markout_1s_bps")] decimal? Markout1sBps,
    [property: JsonPropertyName("implementation_shortfall"), Description("The sum of the group's implementation shortfalls, in the quote asset; positive = a cost.")] decimal? ImplementationShortfall,
    [property: JsonPropertyName("implementation_shortfall_bps"), Description("The group's implementation shortfall in bp of its orders' targets valued at their arrival mids (unfilled orders count).")] decimal? ImplementationShortfallBps)
{
    public static AggregateRow Of(ExecutionAggregate a)
    {
        ArgumentNullException.ThrowIfNull(a);
        static decimal? R(decimal? v) => ReportRow.Round(v, 4);
        return new AggregateRow(a.Symbol, a.Side == Core.Domain.Side.Buy ? "buy" : "sell", a.Strategy, a.Orders, a.FilledNotional, a.Fees,
            R(a.SlippageVsArrivalBps), R(a.SlippageVsExpectedBps), R(a.HalfSpreadCaptured), R(a.MakerFraction), R(a.MarkoutBps1s),
            ReportRow.Round(a.ImplementationShortfall, 8), R(a.ImplementationShortfallBps));
    }
}

/// <summary>The post-trade report: a row per parent order and the aggregate table.</summary>
public sealed record ExecutionReport(
    [property: JsonPropertyName("orders")] IReadOnlyList<ReportRow> Orders,
    [property: JsonPropertyName("aggregates")] IReadOnlyList<AggregateRow> Aggregates)
{
    public static ExecutionReport Build(IReadOnlyList<StoredExecution> executions, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(executions);
        var measured = executions.Select(e => (Execution: e, Metrics: e.Metrics(now))).ToList();
        var groups = ExecutionAggregate.Group(measured.Select(x => new LabelledMetrics(x.Execution.Order.Symbol, x.Execution.Side, x.Execution.Order.Strategy, x.Metrics)));
        return new ExecutionReport([.. measured.Select(x => ReportRow.Of(x.Execution, x.Metrics))], [.. groups.Select(AggregateRow.Of)]);
    }
}
