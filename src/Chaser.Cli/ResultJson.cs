using System.Text.Json;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;

namespace Chaser.Cli;

/// <summary>
/// The <c>--json</c> output: an array with one object per parent order, snake_case like the seed's DataFrame columns.
/// Money is written as JSON numbers from <see cref="decimal"/>, so no digit is lost to binary floating point.
/// </summary>
internal static class ResultJson
{
    public static string Write(IReadOnlyList<ExecutionResult> results)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (var result in results)
            {
                WriteOrder(json, result);
            }

            json.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string StatusName(FinishReason status) => status switch
    {
        FinishReason.Filled => "filled",
        FinishReason.Canceled => "canceled",
        FinishReason.Expired => "expired",
        FinishReason.Failed => "failed",
        _ => "working",
    };

    private static void WriteOrder(Utf8JsonWriter json, ExecutionResult result)
    {
        var spec = result.Spec;
        json.WriteStartObject();
        json.WriteNumber("id", spec.Id);
        json.WriteString("symbol", spec.Symbol);
        json.WriteNumber("side", spec.Side.Sign());
        json.WriteNumber("size", spec.Size);
        json.WriteString("size_type", spec.SizeType == SizeType.Notional ? "n" : "q");
        json.WriteBoolean("reduce_only", spec.ReduceOnly);
        // The order's own fields, spelled as the API spells them (POST /api/orders), so one reader serves both.
        json.WriteString("strategy", spec.Strategy);
        Number(json, "price_expected", spec.PriceExpected > 0 ? spec.PriceExpected : null);
        json.WriteString("deadline_action", spec.OnDeadline == DeadlineAction.TakeRemainder ? "take" : "cancel");
        Number(json, "min_reprice_interval_ms", spec.MinRepriceInterval is { } interval ? (decimal)interval.TotalMilliseconds : null);
        json.WriteString("status", StatusName(result.Status));
        json.WriteString("detail", result.Detail);

        json.WriteNumber("target_notional", result.TargetNotional);
        json.WriteNumber("filled_qty", result.FilledQuantity);
        json.WriteNumber("filled_notional", result.FilledNotional);
        // A figure that can't be computed (no fill, no book) is null, never 0: a 0 slippage reads as a perfect fill.
        Number(json, "avg_price", ResultTable.AveragePrice(result));
        Number(json, "arrival_mid", ResultTable.ArrivalMid(result));
        Number(json, "slippage", ResultTable.Slippage(result) is { } slippage ? Math.Round(slippage, 10) : null);
        Number(json, "slippage_bps", ResultTable.SlippageBps(result) is { } bps ? Math.Round(bps, 4) : null);
        json.WriteNumber("fees", result.Fees);
        json.WriteString("started_at", Display.JsonTime(result.StartedAt));
        json.WriteString("completed_at", Display.JsonTime(result.CompletedAt));
        json.WriteNumber("duration_s", Math.Round(result.Duration.TotalSeconds, 3));
        json.WriteNumber("child_orders", result.ChildOrders);
        json.WriteNumber("modifies", result.Modifies);
        json.WriteNumber("cancels", result.Cancels);
        json.WriteNumber("post_only_rejects", result.PostOnlyRejects);
        json.WriteStartArray("fills");
        foreach (var fill in result.Fills)
        {
            json.WriteStartObject();
            json.WriteNumber("trade_id", fill.TradeId);
            json.WriteString("client_order_id", fill.ClientOrderId);
            json.WriteNumber("price", fill.Price);
            json.WriteNumber("qty", fill.Quantity);
            json.WriteBoolean("maker", fill.IsMaker);
            json.WriteNumber("fee", fill.Fee);
            json.WriteString("fee_asset", fill.FeeAsset);
            json.WriteString("time", Display.JsonTime(fill.ExchangeTime));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        Latency(json, "latency_us", result.Latency);
        Latency(json, "hop_us", result.Hop);
        json.WriteEndObject();
    }

    private static void Latency(Utf8JsonWriter json, string name, LatencySummary latency)
    {
        json.WriteStartObject(name);
        json.WriteNumber("count", latency.Count);
        // No decision measured: no percentile (null), not a latency of 0 µs.
        var measured = latency.Count > 0;
        Number(json, "p50", measured ? Math.Round(latency.P50, 1) : null);
        Number(json, "p99", measured ? Math.Round(latency.P99, 1) : null);
        Number(json, "max", measured ? Math.Round(latency.Max, 1) : null);
        json.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter json, string name, decimal? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
