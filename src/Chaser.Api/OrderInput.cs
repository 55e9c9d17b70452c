using System.Globalization;
using System.Text.Json;
using Chaser.Core.Domain;
using Chaser.Storage;

namespace Chaser.Api;

/// <summary>Reads one order of a POST /api/orders body; every problem is recorded under the field's name.</summary>
internal static class OrderInput
{
    /// <summary>
    /// The names that mean Binance USDⓈ-M Futures, exactly as written: Chaser's own (stored), ccxt's id, and the
    /// spelled-out name an existing settings constant is likely to hold. Every one is stored as <c>binfut</c>.
    /// </summary>
    public static readonly IReadOnlyList<string> ExchangeNames = ["binfut", "binanceusdm", "binance_futures"];

    /// <summary>Every field an order is created with; <see cref="TryParse"/> refuses any other.</summary>
    private static readonly string[] Fields =
    [
        "symbol", "side", "size", "size_type", "exchange", "type", "price_expected", "strategy", "reduce_only", "liquidated",
        "deadline", "time_limit", "deadline_action", "min_reprice_interval",
    ];

    /// <summary>The fields an order is returned with in milliseconds, and the field each is given as.</summary>
    private static readonly Dictionary<string, string> ReturnedAs = new(StringComparer.Ordinal)
    {
        ["time_limit_ms"] = "time_limit",
        ["min_reprice_interval_ms"] = "min_reprice_interval",
    };

    public static OrderRow? TryParse(JsonElement item, string prefix, Dictionary<string, string[]> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors[prefix.TrimEnd('.') is { Length: > 0 } p ? p : "body"] = ["must be an order object"];
            return null;
        }

        var before = errors.Count;
        void Fail(string field, string message) => errors[prefix + field] = [message];

        // Strings were checked for clean Unicode text when the body was read (RequestBody), so GetString cannot throw.
        string? Text(string field, string wrongType)
        {
            if (!item.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                Fail(field, wrongType);
                return null;
            }

            return value.GetString();
        }

        var symbol = Text("symbol", "must be a string: a Binance symbol like BTCUSDT")?.Trim().ToUpperInvariant();
        if (!errors.ContainsKey(prefix + "symbol") && (symbol is null || symbol.Length is < 2 or > 20 || !symbol.All(char.IsAsciiLetterOrDigit)))
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

        var size = Decimal(item, "size", out var sizeProblem);
        if (sizeProblem is not null || size is not > 0)
        {
            Fail("size", sizeProblem ?? (size is null ? "required: a number greater than zero" : "must be greater than zero"));
        }

        var sizeType = Text("size_type", "must be the string 'n' or 'q'");
        if (!errors.ContainsKey(prefix + "size_type") && sizeType is not ("n" or "q"))
        {
            Fail("size_type", "required: 'n' (notional, quote currency) or 'q' (base quantity)");
        }

        var priceExpected = Decimal(item, "price_expected", out var priceProblem) ?? 0m;
        if (priceProblem is not null || priceExpected < 0)
        {
            Fail("price_expected", priceProblem ?? "must be zero or more");
        }

        var strategy = Text("strategy", $"must be a string of at most {ParentOrderSpec.MaxStrategyLength} characters") ?? "";
        if (strategy.Length > ParentOrderSpec.MaxStrategyLength)
        {
            Fail("strategy", $"must be a string of at most {ParentOrderSpec.MaxStrategyLength} characters");
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
        if (Text("deadline", "must be a string: an ISO 8601 time, e.g. 2026-11-24T12:00:00Z") is { } deadlineText)
        {
            if (DateTimeOffset.TryParse(deadlineText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                deadline = parsed.ToUniversalTime();
            }
            else
            {
                Fail("deadline", "must be an ISO 8601 time, e.g. 2026-11-24T12:00:00Z");
            }
        }

        long? timeLimitMs = null;
        if (Text("time_limit", "must be a string: a duration like 90s, 10m or 1h, counted from when the order starts working") is { } limitText)
        {
            if (DurationText.TryParse(limitText, out var limit) && limit >= TimeSpan.FromMilliseconds(1))
            {
                timeLimitMs = (long)limit.TotalMilliseconds;
            }
            else
            {
                Fail("time_limit", "must be a positive duration like 90s, 10m or 1h, counted from when the order starts working");
            }
        }

        // One spelling, the stored column's (and the Django model's): a boolean take_remainder beside it would be a
        // second way to say the same thing, and a body giving both could disagree with itself.
        var deadlineAction = Text("deadline_action", "must be the string 'cancel' or 'take'") ?? "cancel";
        if (!errors.ContainsKey(prefix + "deadline_action"))
        {
            if (deadlineAction is not ("cancel" or "take"))
            {
                Fail("deadline_action", "must be 'cancel' (cancel the child and expire at the deadline) or 'take' (take the remainder with a market order at the deadline)");
            }
            else if (deadlineAction == "take" && deadline is null && timeLimitMs is null && !errors.ContainsKey(prefix + "deadline") && !errors.ContainsKey(prefix + "time_limit"))
            {
                Fail("deadline_action", "'take' needs a deadline or a time_limit: it takes the remainder when one of them is reached");
            }
        }

        long? minRepriceIntervalMs = null;
        if (Text("min_reprice_interval", "must be a string: a duration like 200ms or 1s, from 0 to 10m") is { } intervalText)
        {
            if (DurationText.TryParse(intervalText, out var interval) && interval >= TimeSpan.Zero && interval <= ParentOrderSpec.MaxMinRepriceInterval
                && interval.Ticks % TimeSpan.TicksPerMillisecond == 0)
            {
                minRepriceIntervalMs = (long)interval.TotalMilliseconds;
            }
            else
            {
                Fail("min_reprice_interval", "must be a duration from 0 to 10m in whole milliseconds, like 200ms, 1s or 1.5s: the least time between two re-pricing requests of this order");
            }
        }

        if (item.TryGetProperty("exchange", out var exchange) && !(exchange.ValueKind == JsonValueKind.String && ExchangeNames.Contains(exchange.GetString()!)))
        {
            Fail("exchange", $"must be the string 'binfut' (Binance USDⓈ-M Futures; also accepted: {string.Join(", ", ExchangeNames.Where(n => n != "binfut"))}), the only exchange supported");
        }

        // The seed's _type: "l" (or "limit") is the post-only chase at the best price, the only kind Chaser works.
        if (Text("type", "must be the string 'limit' (or 'l'): the post-only chase at the best price") is { } type && type is not ("limit" or "l"))
        {
            Fail("type", "must be 'limit' (or 'l'): the post-only chase at the best price is the only type Chaser works");
        }

        var liquidated = false;
        if (item.TryGetProperty("liquidated", out var liquidatedValue))
        {
            if (liquidatedValue.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                liquidated = liquidatedValue.GetBoolean();
            }
            else
            {
                Fail("liquidated", "must be true or false");
            }
        }

        foreach (var property in item.EnumerateObject())
        {
            if (!Fields.Contains(property.Name))
            {
                // Dropped, a misspelled or returned-only field would leave the order worked without what it asked for.
                Fail(property.Name, ReturnedAs.TryGetValue(property.Name, out var given)
                    ? $"unknown field: an order is given with {given} (a duration like \"500ms\"); {property.Name} is how it is returned"
                    : $"unknown field; an order's fields are {string.Join(", ", Fields)}");
            }
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
            PriceExpected = priceExpected,
            Strategy = strategy,
            ReduceOnly = reduceOnly,
            Liquidated = liquidated,
            Deadline = deadline,
            TimeLimitMs = timeLimitMs,
            DeadlineAction = deadlineAction,
            MinRepriceIntervalMs = minRepriceIntervalMs,
        };
    }

    /// <summary>
    /// A decimal given as a JSON number or a numeric string (Binance style), through <see cref="DecimalText"/>: null
    /// when absent; otherwise the value, or <paramref name="problem"/> saying why not (1e400 and 1e-30 included:
    /// refused, never rounded to what the database can hold).
    /// </summary>
    private static decimal? Decimal(JsonElement item, string name, out string? problem)
    {
        problem = null;
        if (!item.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var (text, options) = value.ValueKind switch
        {
            JsonValueKind.Number => (value.GetRawText(), DecimalTextOptions.AllowSign | DecimalTextOptions.AllowExponent),
            JsonValueKind.String => (value.GetString()!, DecimalTextOptions.AllowSign),
            _ => (null, DecimalTextOptions.None),
        };
        if (text is null)
        {
            problem = "must be a number, or a string holding one like \"0.5\"";
            return null;
        }

        if (!DecimalText.TryParse(text, out var parsed, out var reason, options))
        {
            problem = reason;
            return null;
        }

        return parsed;
    }
}

/// <summary>An order as the API returns it: its row without the related rows (those have their own routes).</summary>
public sealed record OrderView(
    long Id, string Exchange, string Symbol, string Type, decimal Size, string SizeType, int Side, bool ReduceOnly, bool Liquidated,
    decimal PriceExpected, string Strategy, DateTimeOffset? Deadline, long? TimeLimitMs, string DeadlineAction, long? MinRepriceIntervalMs, string Status, string? StatusDetail, DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, decimal ArrivalMid, decimal FilledQty, decimal FilledNotional,
    decimal AvgPrice, decimal Fees, int ChildOrders, int Modifies, int Cancels, int PostOnlyRejects)
{
    public static OrderView Of(OrderRow o) => new(
        o.Id, o.Exchange, o.Symbol, o.Type, o.Size, o.SizeType, o.Side, o.ReduceOnly, o.Liquidated, o.PriceExpected, o.Strategy, o.Deadline, o.TimeLimitMs,
        o.DeadlineAction, o.MinRepriceIntervalMs, o.Status, o.StatusDetail, o.CreatedAt, o.StartedAt, o.CompletedAt, o.ArrivalMid, o.FilledQty, o.FilledNotional, o.AvgPrice, o.Fees,
        o.ChildOrders, o.Modifies, o.Cancels, o.PostOnlyRejects);
}
