using System.Globalization;
using System.Text.Json;
using Chaser.Storage;

namespace Chaser.Api;

/// <summary>Reads one order of a POST /api/orders body; every problem is recorded under the field's name.</summary>
internal static class OrderInput
{
    public static OrderRow? TryParse(JsonElement item, string prefix, Dictionary<string, string[]> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors[prefix.TrimEnd('.') is { Length: > 0 } p ? p : "body"] = ["must be an order object"];
            return null;
        }

        var before = errors.Count;
        void Fail(string field, string message) => errors[prefix + field] = [message];

        var symbol = item.TryGetProperty("symbol", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()!.Trim().ToUpperInvariant() : null;
        if (symbol is null || symbol.Length is < 2 or > 20 || !symbol.All(char.IsAsciiLetterOrDigit))
        {
            Fail("symbol", "required: a Binance symbol like BTCUSDT");
        }

        var side = 0;
        if (!item.TryGetProperty("side", out var sideValue))
        {
            Fail("side", "required: 1 (buy) or -1 (sell)");
        }
        else
        {
            side = sideValue.ValueKind switch
            {
                JsonValueKind.Number when sideValue.TryGetInt32(out var n) && n is 1 or -1 => n,
                JsonValueKind.String when sideValue.GetString() is "buy" => 1,
                JsonValueKind.String when sideValue.GetString() is "sell" => -1,
                _ => 0,
            };
            if (side == 0)
            {
                Fail("side", "must be 1 (buy) or -1 (sell)");
            }
        }

        var size = Decimal(item, "size");
        if (size is not > 0)
        {
            Fail("size", "required: a number greater than zero");
        }

        var sizeType = item.TryGetProperty("size_type", out var st) && st.ValueKind == JsonValueKind.String ? st.GetString() : null;
        if (sizeType is not ("n" or "q"))
        {
            Fail("size_type", "required: 'n' (notional, quote currency) or 'q' (base quantity)");
        }

        var priceExpected = item.TryGetProperty("price_expected", out _) ? Decimal(item, "price_expected") : 0m;
        if (priceExpected is null or < 0)
        {
            Fail("price_expected", "must be a number, zero or more");
        }

        var strategy = item.TryGetProperty("strategy", out var strategyValue) ? strategyValue.ValueKind == JsonValueKind.String ? strategyValue.GetString() : null : "";
        if (strategy is null || strategy.Length > 64)
        {
            Fail("strategy", "must be a string of at most 64 characters");
        }

        var reduceOnly = false;
        if (item.TryGetProperty("reduce_only", out var ro))
        {
            if (ro.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                reduceOnly = ro.GetBoolean();
            }
            else
            {
                Fail("reduce_only", "must be true or false");
            }
        }

        DateTimeOffset? deadline = null;
        if (item.TryGetProperty("deadline", out var dl) && dl.ValueKind != JsonValueKind.Null)
        {
            if (dl.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(dl.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                deadline = parsed.ToUniversalTime();
            }
            else
            {
                Fail("deadline", "must be an ISO 8601 time, e.g. 2026-11-24T12:00:00Z");
            }
        }

        if (item.TryGetProperty("exchange", out var exchange) && exchange.GetString() != "binfut")
        {
            Fail("exchange", "only 'binfut' (Binance USDⓈ-M Futures) is supported");
        }

        if (errors.Count > before)
        {
            return null;
        }

        return new OrderRow
        {
            Symbol = symbol!,
            Side = side,
            Size = size!.Value,
            SizeType = sizeType!,
            PriceExpected = priceExpected!.Value,
            Strategy = strategy!,
            ReduceOnly = reduceOnly,
            Deadline = deadline,
        };
    }

    /// <summary>A decimal given as a JSON number or a numeric string (Binance style); null when neither.</summary>
    private static decimal? Decimal(JsonElement item, string name)
    {
        if (!item.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetDecimal(out var d) => d,
            JsonValueKind.String when decimal.TryParse(value.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => d,
            _ => null,
        };
    }
}

/// <summary>An order as the API returns it: its row without the related rows (those have their own routes).</summary>
public sealed record OrderView(
    long Id, string Exchange, string Symbol, string Type, decimal Size, string SizeType, int Side, bool ReduceOnly, bool Liquidated,
    decimal PriceExpected, string Strategy, DateTimeOffset? Deadline, string Status, string? StatusDetail, DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, decimal ArrivalMid, decimal FilledQty, decimal FilledNotional,
    decimal AvgPrice, decimal Fees, int ChildOrders, int Modifies, int Cancels, int PostOnlyRejects)
{
    public static OrderView Of(OrderRow o) => new(
        o.Id, o.Exchange, o.Symbol, o.Type, o.Size, o.SizeType, o.Side, o.ReduceOnly, o.Liquidated, o.PriceExpected, o.Strategy, o.Deadline,
        o.Status, o.StatusDetail, o.CreatedAt, o.StartedAt, o.CompletedAt, o.ArrivalMid, o.FilledQty, o.FilledNotional, o.AvgPrice, o.Fees,
        o.ChildOrders, o.Modifies, o.Cancels, o.PostOnlyRejects);
}
