using System.Text.Json;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Engine;

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
        json.WriteString("status", StatusName(result.Status));
        if (result.Detail is not null)
        {
            json.WriteString("detail", result.Detail);
        }

        json.WriteNumber("target_notional", result.TargetNotional);
        json.WriteNumber("filled_qty", result.FilledQuantity);
        json.WriteNumber("filled_notional", result.FilledNotional);
        json.WriteNumber("avg_price", result.AveragePrice);
        json.WriteNumber("arrival_mid", result.ArrivalMid);
        json.WriteNumber("slippage", Math.Round(result.Slippage, 10));
        json.WriteNumber("slippage_bps", Math.Round(result.SlippageBps, 4));
        json.WriteNumber("fees", result.Fees);
        json.WriteString("started_at", result.StartedAt);
        json.WriteString("completed_at", result.CompletedAt);
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
            if (fill.FeeAsset is not null)
            {
                json.WriteString("fee_asset", fill.FeeAsset);
            }

            json.WriteString("time", fill.ExchangeTime);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartObject("latency_us");
        json.WriteNumber("count", result.Latency.Count);
        json.WriteNumber("p50", Math.Round(result.Latency.P50, 1));
        json.WriteNumber("p99", Math.Round(result.Latency.P99, 1));
        json.WriteNumber("max", Math.Round(result.Latency.Max, 1));
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
