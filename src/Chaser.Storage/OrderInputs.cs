using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Chaser.Core.Chasing;
using Chaser.Core.Market;
using Chaser.Core.Replay;
using Microsoft.EntityFrameworkCore;

namespace Chaser.Storage;

/// <summary>
/// A row of <c>order_inputs</c>: one input handed to a parent order's state machine (or, kind <c>start</c>, what the
/// machine was built from). <see cref="Time"/> is UTC ticks, not truncated: the machine compares times to the tick.
/// </summary>
public sealed class OrderInputRow
{
    public long Id { get; set; }

    public long OrderId { get; set; }

    /// <summary>The time the input was handed to the machine, in UTC ticks (100 ns).</summary>
    public long Time { get; set; }

    /// <summary><c>start</c>, or the snake_case of the machine's <see cref="EventKind"/>.</summary>
    public string Kind { get; set; } = "";

    /// <summary>The kind's fields, compactly (<see cref="OrderInputs"/>).</summary>
    public string Payload { get; set; } = "";

    /// <summary>How many decisions of the order were recorded before this input (<see cref="ReplayInput.DecisionsBefore"/>).</summary>
    public int DecisionsBefore { get; set; }
}

/// <summary>A stored row that can't be read back as what it claims to be: the row and the reason.</summary>
public sealed class OrderInputException(string message) : FormatException(message);

/// <summary>
/// How the inputs of a parent order are kept in <c>order_inputs</c>, and read back for a replay. A payload is the
/// kind's fields separated by one space — decimals as invariant text, enums in snake_case, times as ticks relative to
/// the row's time (an exchange time is close to it, so a few digits) — with free text (a reject's message) last; the
/// start is JSON of <see cref="ReplayStart"/>. Encoded by the background writer, never on the order's loop.
/// </summary>
public static class OrderInputs
{
    public const string StartKind = "start";

    private static readonly JsonSerializerOptions StartJson = new()
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static string KindOf(EventKind kind) => ChaserDb.SnakeCase(kind.ToString());

    public static string EncodeStart(ReplayStart start) => JsonSerializer.Serialize(start, StartJson);

    public static ReplayStart DecodeStart(string payload) =>
        JsonSerializer.Deserialize<ReplayStart>(payload, StartJson) ?? throw new JsonException("the start is null");

    public static string EncodeBook(in BookTop book, DateTimeOffset time) =>
        Join(Dec(book.Bid), Dec(book.BidQty), Dec(book.Ask), Dec(book.AskQty), Int(book.UpdateId), Delta(book.ExchangeTime, time));

    public static string EncodeTrade(in TradePrint trade, DateTimeOffset time) =>
        Join(Dec(trade.Price), Dec(trade.Quantity), Bool(trade.BuyerIsMaker), Delta(trade.ExchangeTime, time));

    public static string EncodeDepth(DepthLevels depth, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(depth);
        var text = new StringBuilder(32 + ((depth.Bids.Count + depth.Asks.Count) * 24));
        text.Append(Int(depth.UpdateId)).Append(' ').Append(Delta(depth.ExchangeTime, time)).Append(' ').Append(Int(depth.Bids.Count));
        foreach (var level in depth.Bids.Concat(depth.Asks))
        {
            text.Append(' ').Append(Dec(level.Price)).Append(' ').Append(Dec(level.Quantity));
        }

        return text.ToString();
    }

    /// <summary>The payload of any input handed at <paramref name="time"/> (book tops, trades and depth have their own, called without the whole input).</summary>
    public static string Encode(in ChaserInput input, DateTimeOffset time)
    {
        var t = time;
        return input.Kind switch
        {
            EventKind.BookTop => EncodeBook(input.Book, t),
            EventKind.Depth => EncodeDepth(input.Depth ?? throw new ArgumentException("a depth input without its levels", nameof(input)), t),
            EventKind.Trade => EncodeTrade(input.Trade, t),
            EventKind.Accepted => Join(input.Accepted.ClientOrderId, Int(input.Accepted.ExchangeOrderId), Dec(input.Accepted.Price), Dec(input.Accepted.Quantity), Bool(input.Accepted.IsModify), Delta(input.Accepted.ExchangeTime, t)),
            EventKind.Rejected => Join(input.Rejected.ClientOrderId, Name(input.Rejected.Request), Name(input.Rejected.Kind), Int(input.Rejected.Code)) + (input.Rejected.Message is { } message ? " " + message : ""),
            EventKind.Fill => Join(input.Fill.ClientOrderId, Int(input.Fill.TradeId), Dec(input.Fill.Price), Dec(input.Fill.Quantity), Dec(input.Fill.Fee), input.Fill.FeeAsset ?? "-", Bool(input.Fill.IsMaker), Dec(input.Fill.CumulativeQuantity), Bool(input.Fill.OrderFullyFilled), Delta(input.Fill.ExchangeTime, t)),
            EventKind.OrderFinished => Join(input.Finished.ClientOrderId, Name(input.Finished.Status), Dec(input.Finished.ExecutedQuantity), Delta(input.Finished.ExchangeTime, t)),
            EventKind.OutcomeUnknown => Join(input.Unknown.ClientOrderId, Name(input.Unknown.Request)),
            EventKind.StatusReport => Join(input.Status.ClientOrderId, Bool(input.Status.Found), Name(input.Status.Status), Dec(input.Status.Price), Dec(input.Status.Quantity), Dec(input.Status.ExecutedQuantity)),
            EventKind.ConnectivityLost or EventKind.ConnectivityRestored => Join(Name(input.Scope), input.Symbol ?? "-"),
            EventKind.RateBudget => Dec(input.Budget),
            EventKind.CancelBudget => Bool(input.YoungCancelsAllowed),
            _ => "",
        };
    }

    /// <summary>
    /// A stored input row of an order on <paramref name="symbol"/>, as the machine was handed it (a market-data input's
    /// arrival timestamp is not kept: it measured latency, the machine never reads it); a damaged row is an
    /// <see cref="OrderInputException"/> naming it.
    /// </summary>
    public static ReplayInput Decode(OrderInputRow row, string symbol)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(symbol);
        var time = new DateTimeOffset(row.Time, TimeSpan.Zero);
        try
        {
            var kind = Parse<EventKind>(row.Kind);
            if (kind == EventKind.Start)
            {
                throw new FormatException("a second start where an input belongs");
            }

            // Free text (a reject's message) is the last field and may hold spaces.
            var f = kind == EventKind.Rejected ? row.Payload.Split(' ', 5) : row.Payload.Split(' ');
            var input = kind switch
            {
                EventKind.BookTop => Fields(f, 6, ChaserInput.OfBook(symbol, new BookTop(D(f[0]), D(f[1]), D(f[2]), D(f[3]), L(f[4]), At(f[5], time)), 0)),
                EventKind.Depth => ChaserInput.OfDepth(symbol, DecodeDepth(f, time), 0),
                EventKind.Trade => Fields(f, 4, ChaserInput.OfTrade(symbol, new TradePrint(D(f[0]), D(f[1]), B(f[2]), At(f[3], time), time))),
                EventKind.Accepted => Fields(f, 6, ChaserInput.OfAccepted(new OrderAccepted(f[0], L(f[1]), D(f[2]), D(f[3]), B(f[4]), At(f[5], time), time))),
                EventKind.Rejected => Fields(f, f.Length is 4 or 5 ? f.Length : 4, ChaserInput.OfRejected(new OrderRejected(f[0], Parse<RequestKind>(f[1]), Parse<RejectKind>(f[2]), (int)L(f[3]), f.Length == 5 ? f[4] : null, time))),
                EventKind.Fill => Fields(f, 10, ChaserInput.OfFill(new Fill(f[0], L(f[1]), D(f[2]), D(f[3]), D(f[4]), f[5] == "-" ? null : f[5], B(f[6]), D(f[7]), B(f[8]), At(f[9], time), time))),
                EventKind.OrderFinished => Fields(f, 4, ChaserInput.OfFinished(new OrderFinished(f[0], Parse<ExchangeOrderStatus>(f[1]), D(f[2]), At(f[3], time), time))),
                EventKind.OutcomeUnknown => Fields(f, 2, ChaserInput.OfUnknown(new RequestOutcomeUnknown(f[0], Parse<RequestKind>(f[1]), time))),
                EventKind.StatusReport => Fields(f, 6, ChaserInput.OfStatus(new OrderStatusReport(f[0], B(f[1]), Parse<ExchangeOrderStatus>(f[2]), D(f[3]), D(f[4]), D(f[5]), time))),
                EventKind.ConnectivityLost or EventKind.ConnectivityRestored => Fields(f, 2, ChaserInput.OfConnectivity(Parse<ConnectionScope>(f[0]), f[1] == "-" ? null : f[1], kind == EventKind.ConnectivityRestored)),
                EventKind.RateBudget => Fields(f, 1, ChaserInput.OfRateBudget(D(f[0]))),
                EventKind.CancelBudget => Fields(f, 1, ChaserInput.OfCancelBudget(B(f[0]))),
                EventKind.UserCancel => Fields(f, 1, ChaserInput.UserCancel),
                EventKind.Timer => Fields(f, 1, ChaserInput.Timer),
                _ => throw new FormatException($"{kind} is not an input a host hands to a running machine"),
            };
            return new ReplayInput(input, time, row.DecisionsBefore);

            // An empty payload splits into one empty field.
            static ChaserInput Fields(string[] fields, int count, in ChaserInput input) => fields.Length == count
                ? input
                : throw new FormatException($"{count} fields expected, got {fields.Length}");
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new OrderInputException($"input {row.Id} of order {row.OrderId} ({row.Kind} '{Shorten(row.Payload)}') can't be read: {e.Message}");
        }
    }

    /// <summary>An enum value from its stored snake_case name.</summary>
    public static T Parse<T>(string name)
        where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
        {
            if (string.Equals(ChaserDb.SnakeCase(value.ToString()), name, StringComparison.Ordinal))
            {
                return value;
            }
        }

        throw new FormatException($"'{Shorten(name)}' is not a {typeof(T).Name}");
    }

    /// <summary>The order's recorded start and inputs, in the order the machine was handed them; null start: none recorded.</summary>
    public static async Task<(ReplayStart? Start, List<ReplayInput> Inputs)> LoadAsync(ChaserDb db, long orderId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);

        // An order executed again by a library caller on the same database starts again: its latest run is the one.
        var rows = await db.OrderInputs.AsNoTracking().Where(r => r.OrderId == orderId).OrderBy(r => r.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        var startAt = rows.FindLastIndex(r => r.Kind == StartKind);
        if (startAt < 0)
        {
            return (null, []);
        }

        ReplayStart start;
        try
        {
            start = DecodeStart(rows[startAt].Payload);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NotSupportedException)
        {
            throw new OrderInputException($"the start of order {orderId} (input {rows[startAt].Id}) can't be read: {e.Message}");
        }

        return (start, [.. rows.Skip(startAt + 1).Select(r => Decode(r, start.Spec.Symbol))]);
    }

    /// <summary>
    /// The order's recorded decisions (<c>events</c>) — of its latest run, from <paramref name="since"/> (its latest start),
    /// when it was started more than once — in the order they were made, as <see cref="RecordedDecision"/>s; a row that names no known command is an <see cref="OrderInputException"/>.
    /// </summary>
    public static async Task<List<RecordedDecision>> LoadDecisionsAsync(ChaserDb db, long orderId, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);

        // Only an order started more than once (a library caller's second run) needs its latest run's decisions told
        // apart, by time; decision times are kept to the microsecond, so the start's, exact, is truncated alike.
        var runs = await db.OrderInputs.CountAsync(r => r.OrderId == orderId && r.Kind == StartKind, cancellationToken).ConfigureAwait(false);
        var events = db.Events.AsNoTracking().Where(e => e.OrderId == orderId);
        if (runs > 1)
        {
            var from = new DateTimeOffset(ChaserDb.ToStoredTicks(since), TimeSpan.Zero);
            events = events.Where(e => e.Time >= from);
        }

        var rows = await events.OrderBy(e => e.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(Decision)];
    }

    private static RecordedDecision Decision(EventRow row)
    {
        try
        {
            return new RecordedDecision(
                Parse<ChaserCommandKind>(row.Kind),
                row.ClientOrderId,
                row.Price,
                row.Qty,
                Parse<EventKind>(row.Trigger),
                Parse<DecisionRule>(row.Rule),
                row.FinishReason is { } reason ? Parse<FinishReason>(reason) : null,
                row.Detail);
        }
        catch (FormatException e)
        {
            throw new OrderInputException($"decision {row.Id} of order {row.OrderId} can't be read: {e.Message}");
        }
    }

    private static DepthLevels DecodeDepth(string[] f, DateTimeOffset time)
    {
        if (f.Length < 3)
        {
            throw new FormatException($"at least 3 fields expected, got {f.Length}");
        }

        var bids = (int)L(f[2]);
        var levels = f.Length - 3;
        if (bids < 0 || levels % 2 != 0 || bids * 2 > levels)
        {
            throw new FormatException($"{bids} bids and {levels} price and quantity fields do not make levels");
        }

        var all = new PriceLevel[levels / 2];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = new PriceLevel(D(f[3 + (2 * i)]), D(f[4 + (2 * i)]));
        }

        return new DepthLevels(all[..bids], all[bids..], L(f[0]), At(f[1], time));
    }

    private static string Join(params ReadOnlySpan<string> fields) => string.Join(' ', fields);

    private static string Dec(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "1" : "0";

    private static string Name<T>(T value)
        where T : struct, Enum => ChaserDb.SnakeCase(value.ToString());

    private static string Delta(DateTimeOffset at, DateTimeOffset time) => Int(at.UtcTicks - time.UtcTicks);

    private static decimal D(string text) => decimal.Parse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    private static long L(string text) => long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static bool B(string text) => text switch
    {
        "1" => true,
        "0" => false,
        _ => throw new FormatException($"'{Shorten(text)}' is not 0 or 1"),
    };

    private static DateTimeOffset At(string delta, DateTimeOffset time) => new(time.UtcTicks + L(delta), TimeSpan.Zero);

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
