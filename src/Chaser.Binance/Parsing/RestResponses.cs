using System.Globalization;
using System.Text.Json;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Market;
using Chaser.Core.Rules;

namespace Chaser.Binance.Parsing;

/// <summary>A REST error body <c>{"code":-5022,"msg":"…"}</c> with the chaser's view of it.</summary>
public readonly record struct BinanceError(int Code, string Message, int HttpStatus, RejectKind Kind)
{
    public override string ToString() => $"HTTP {HttpStatus} code {Code} ({Kind}): {Message}";
}

/// <summary>The answer to POST/PUT/DELETE/GET order.</summary>
public readonly record struct OrderResponse(
    string Symbol,
    long OrderId,
    string ClientOrderId,
    BinanceOrderStatus Status,
    Side Side,
    decimal Price,
    decimal OriginalQuantity,
    decimal ExecutedQuantity,
    decimal AveragePrice,
    long UpdateTimeMs)
{
    public OrderAccepted ToAccepted(bool isModify, DateTimeOffset receivedAt) =>
        new(ClientOrderId, OrderId, Price, OriginalQuantity, isModify, JsonRead.Time(UpdateTimeMs), receivedAt);

    public OrderStatusReport ToStatusReport(DateTimeOffset receivedAt) =>
        new(ClientOrderId, Found: true, Status.ToCore(), Price, OriginalQuantity, ExecutedQuantity, receivedAt);
}

/// <summary>One row of GET userTrades.</summary>
public readonly record struct UserTrade(
    string Symbol,
    long TradeId,
    long OrderId,
    Side Side,
    decimal Price,
    decimal Quantity,
    decimal Commission,
    string CommissionAsset,
    bool IsMaker,
    long TimeMs)
{
    /// <summary>As a Core fill of our child <paramref name="clientOrderId"/> (userTrades rows do not carry it).</summary>
    public Fill ToFill(string clientOrderId, decimal cumulativeQuantity, bool orderFullyFilled, DateTimeOffset receivedAt) =>
        new(clientOrderId, TradeId, Price, Quantity, Commission, CommissionAsset, IsMaker, cumulativeQuantity, orderFullyFilled,
            JsonRead.Time(TimeMs), receivedAt);
}

/// <summary>GET depth: the snapshot a local book starts from.</summary>
public sealed record DepthSnapshot(long LastUpdateId, long EventTimeMs, long TransactionTimeMs, IReadOnlyList<PriceLevel> Bids, IReadOnlyList<PriceLevel> Asks);

/// <summary>One entry of exchangeInfo's <c>rateLimits</c>.</summary>
public readonly record struct RateLimitRule(string RateLimitType, string Interval, int IntervalNum, int Limit)
{
    /// <summary>The window length (<c>SECOND</c>/<c>MINUTE</c>/<c>DAY</c> × intervalNum).</summary>
    public TimeSpan Window => Interval switch
    {
        "SECOND" => TimeSpan.FromSeconds(IntervalNum),
        "MINUTE" => TimeSpan.FromMinutes(IntervalNum),
        "HOUR" => TimeSpan.FromHours(IntervalNum),
        "DAY" => TimeSpan.FromDays(IntervalNum),
        _ => throw new FormatException($"unknown rate limit interval '{Interval}'"),
    };
}

/// <summary>exchangeInfo as the adapter needs it: rate limits and each symbol's rules and status.</summary>
public sealed record ExchangeInfo(
    long ServerTimeMs,
    IReadOnlyList<RateLimitRule> RateLimits,
    IReadOnlyDictionary<string, SymbolRules> Symbols,
    IReadOnlyDictionary<string, string> SymbolStatus);

/// <summary>Parsers for REST answers. Order answers use Utf8JsonReader; exchangeInfo (rare, large) uses JsonDocument.</summary>
public sealed class RestResponseParser
{
    private readonly Utf8StringCache _strings;

    public RestResponseParser(Utf8StringCache strings)
    {
        ArgumentNullException.ThrowIfNull(strings);
        _strings = strings;
    }

    /// <summary>
    /// Reads <c>{"code","msg"}</c>. False when the body is not such an object (an HTML error page from a proxy or the
    /// WAF): the caller then classifies by HTTP status alone.
    /// </summary>
    public static bool TryParseError(ReadOnlySpan<byte> body, int httpStatus, out BinanceError error)
    {
        error = default;
        int? code = null;
        string? message = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isCode = reader.ValueTextEquals("code"u8);
                var isMessage = reader.ValueTextEquals("msg"u8);
                reader.Read();
                if (isCode && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var c))
                {
                    code = c;
                }
                else if (isMessage && reader.TokenType == JsonTokenType.String)
                {
                    message = reader.GetString();
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }

        if (code is not { } value)
        {
            return false;
        }

        error = new BinanceError(value, message ?? string.Empty, httpStatus, BinanceRejects.Classify(value, httpStatus));
        return true;
    }

    public OrderResponse ParseOrder(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        JsonRead.StartObject(ref reader);
        return ReadOrder(ref reader);
    }

    /// <summary>GET openOrders: an array of order objects.</summary>
    public List<OrderResponse> ParseOrders(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("expected a JSON array of orders");
        }

        var orders = new List<OrderResponse>();
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            orders.Add(ReadOrder(ref reader));
        }

        return orders;
    }

    public List<UserTrade> ParseUserTrades(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("expected a JSON array of trades");
        }

        var trades = new List<UserTrade>();
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            string symbol = string.Empty, asset = string.Empty;
            long id = 0, orderId = 0, time = 0;
            var side = Side.Buy;
            decimal price = 0, quantity = 0, commission = 0;
            var maker = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                JsonRead.Value(ref reader);
                switch (name)
                {
                    case var n when n.SequenceEqual("symbol"u8): symbol = JsonRead.Cached(ref reader, _strings, "symbol"); break;
                    case var n when n.SequenceEqual("id"u8): id = JsonRead.Long(ref reader, "id"); break;
                    case var n when n.SequenceEqual("orderId"u8): orderId = JsonRead.Long(ref reader, "orderId"); break;
                    case var n when n.SequenceEqual("side"u8): side = WireEnums.Side(JsonRead.Text(ref reader, "side")); break;
                    case var n when n.SequenceEqual("price"u8): price = JsonRead.Decimal(ref reader, "price"); break;
                    case var n when n.SequenceEqual("qty"u8): quantity = JsonRead.Decimal(ref reader, "qty"); break;
                    case var n when n.SequenceEqual("commission"u8): commission = JsonRead.Decimal(ref reader, "commission"); break;
                    case var n when n.SequenceEqual("commissionAsset"u8): asset = JsonRead.Cached(ref reader, _strings, "commissionAsset"); break;
                    case var n when n.SequenceEqual("maker"u8): maker = JsonRead.Bool(ref reader, "maker"); break;
                    case var n when n.SequenceEqual("time"u8): time = JsonRead.Long(ref reader, "time"); break;
                    default: reader.Skip(); break;
                }
            }

            trades.Add(new UserTrade(symbol, id, orderId, side, price, quantity, commission, asset, maker, time));
        }

        return trades;
    }

    public static long ParseServerTime(ReadOnlySpan<byte> body) => ReadSingleLong(body, "serverTime"u8, "serverTime");

    /// <summary>GET /fapi/v1/ticker/bookTicker for one symbol: the best bid and ask with the book's update id.</summary>
    public static BookTop ParseBookTicker(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        JsonRead.StartObject(ref reader);
        decimal bid = 0, bidQty = 0, ask = 0, askQty = 0;
        long time = 0, updateId = 0;
        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("bidPrice"u8))
            {
                reader.Read();
                bid = JsonRead.Decimal(ref reader, "bidPrice");
                seen |= 1;
            }
            else if (reader.ValueTextEquals("bidQty"u8))
            {
                reader.Read();
                bidQty = JsonRead.Decimal(ref reader, "bidQty");
                seen |= 2;
            }
            else if (reader.ValueTextEquals("askPrice"u8))
            {
                reader.Read();
                ask = JsonRead.Decimal(ref reader, "askPrice");
                seen |= 4;
            }
            else if (reader.ValueTextEquals("askQty"u8))
            {
                reader.Read();
                askQty = JsonRead.Decimal(ref reader, "askQty");
                seen |= 8;
            }
            else if (reader.ValueTextEquals("time"u8))
            {
                reader.Read();
                time = JsonRead.Long(ref reader, "time");
            }
            else if (reader.ValueTextEquals("lastUpdateId"u8))
            {
                reader.Read();
                updateId = JsonRead.Long(ref reader, "lastUpdateId");
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (seen != 15)
        {
            throw new JsonException("bookTicker response lacks one of bidPrice, bidQty, askPrice, askQty");
        }

        return new BookTop(bid, bidQty, ask, askQty, updateId, JsonRead.Time(time));
    }

    public static string ParseListenKey(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        JsonRead.StartObject(ref reader);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isKey = reader.ValueTextEquals("listenKey"u8);
            reader.Read();
            if (isKey && reader.TokenType == JsonTokenType.String)
            {
                return reader.GetString()!;
            }

            reader.Skip();
        }

        throw new JsonException("listenKey response has no 'listenKey'");
    }

    public static DepthSnapshot ParseDepthSnapshot(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        JsonRead.StartObject(ref reader);
        long lastUpdateId = -1, eventTime = 0, transactionTime = 0;
        var bids = new List<PriceLevel>(1000);
        var asks = new List<PriceLevel>(1000);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            JsonRead.Value(ref reader);
            switch (name)
            {
                case var n when n.SequenceEqual("lastUpdateId"u8): lastUpdateId = JsonRead.Long(ref reader, "lastUpdateId"); break;
                case [(byte)'E']: eventTime = JsonRead.Long(ref reader, "E"); break;
                case [(byte)'T']: transactionTime = JsonRead.Long(ref reader, "T"); break;
                case var n when n.SequenceEqual("bids"u8): MarketDataParser.ReadLevels(ref reader, bids, "bids"); break;
                case var n when n.SequenceEqual("asks"u8): MarketDataParser.ReadLevels(ref reader, asks, "asks"); break;
                default: reader.Skip(); break;
            }
        }

        return lastUpdateId < 0
            ? throw new JsonException("depth snapshot has no lastUpdateId")
            : new DepthSnapshot(lastUpdateId, eventTime, transactionTime, bids, asks);
    }

    /// <summary>exchangeInfo → rate limits and <see cref="SymbolRules"/> per symbol (via <see cref="SymbolRules.FromFilters"/>).</summary>
    public static ExchangeInfo ParseExchangeInfo(ReadOnlyMemory<byte> body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var serverTime = root.TryGetProperty("serverTime", out var time) ? time.GetInt64() : 0;
        var limits = new List<RateLimitRule>();
        if (root.TryGetProperty("rateLimits", out var rateLimits))
        {
            foreach (var limit in rateLimits.EnumerateArray())
            {
                limits.Add(new RateLimitRule(
                    limit.GetProperty("rateLimitType").GetString()!,
                    limit.GetProperty("interval").GetString()!,
                    limit.GetProperty("intervalNum").GetInt32(),
                    limit.GetProperty("limit").GetInt32()));
            }
        }

        var symbols = new Dictionary<string, SymbolRules>(StringComparer.Ordinal);
        var statuses = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var symbol in root.GetProperty("symbols").EnumerateArray())
        {
            var name = symbol.GetProperty("symbol").GetString()!;
            var filters = new List<ExchangeFilter>();
            foreach (var filter in symbol.GetProperty("filters").EnumerateArray())
            {
                var values = new Dictionary<string, string>(StringComparer.Ordinal);
                string? type = null;
                foreach (var property in filter.EnumerateObject())
                {
                    if (property.NameEquals("filterType"))
                    {
                        type = property.Value.GetString();
                    }
                    else if (property.Value.ValueKind == JsonValueKind.String)
                    {
                        values[property.Name] = property.Value.GetString()!;
                    }
                    else if (property.Value.ValueKind == JsonValueKind.Number)
                    {
                        // e.g. MAX_NUM_ORDERS.limit: 200 — keep the number's own text, never via double.
                        values[property.Name] = property.Value.GetRawText();
                    }
                }

                if (type is not null)
                {
                    filters.Add(new ExchangeFilter(type, values));
                }
            }

            var pricePrecision = symbol.TryGetProperty("pricePrecision", out var pp) ? pp.GetInt32() : 8;
            var quantityPrecision = symbol.TryGetProperty("quantityPrecision", out var qp) ? qp.GetInt32() : 8;
            symbols[name] = SymbolRules.FromFilters(name, filters, pricePrecision, quantityPrecision);
            statuses[name] = symbol.TryGetProperty("status", out var status) ? status.GetString() ?? string.Empty : string.Empty;
        }

        return new ExchangeInfo(serverTime, limits, symbols, statuses);
    }

    private OrderResponse ReadOrder(ref Utf8JsonReader reader)
    {
        string symbol = string.Empty, clientOrderId = string.Empty;
        long orderId = 0, updateTime = 0;
        var status = BinanceOrderStatus.Unknown;
        var side = Side.Buy;
        decimal price = 0, quantity = 0, executed = 0, average = 0;
        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            JsonRead.Value(ref reader);
            switch (name)
            {
                case var n when n.SequenceEqual("orderId"u8): orderId = JsonRead.Long(ref reader, "orderId"); seen |= 1; break;
                case var n when n.SequenceEqual("clientOrderId"u8): clientOrderId = JsonRead.Cached(ref reader, _strings, "clientOrderId"); seen |= 2; break;
                case var n when n.SequenceEqual("status"u8): status = WireEnums.Status(JsonRead.Text(ref reader, "status")); seen |= 4; break;
                case var n when n.SequenceEqual("symbol"u8): symbol = JsonRead.Cached(ref reader, _strings, "symbol"); break;
                case var n when n.SequenceEqual("side"u8): side = WireEnums.Side(JsonRead.Text(ref reader, "side")); break;
                case var n when n.SequenceEqual("price"u8): price = JsonRead.Decimal(ref reader, "price"); break;
                case var n when n.SequenceEqual("origQty"u8): quantity = JsonRead.Decimal(ref reader, "origQty"); break;
                case var n when n.SequenceEqual("executedQty"u8): executed = JsonRead.Decimal(ref reader, "executedQty"); break;
                case var n when n.SequenceEqual("avgPrice"u8): average = JsonRead.Decimal(ref reader, "avgPrice"); break;
                case var n when n.SequenceEqual("updateTime"u8): updateTime = JsonRead.Long(ref reader, "updateTime"); break;
                default: reader.Skip(); break;
            }
        }

        return seen == 7
            ? new OrderResponse(symbol, orderId, clientOrderId, status, side, price, quantity, executed, average, updateTime)
            : throw new JsonException("order response lacks one of orderId, clientOrderId, status");
    }

    private static long ReadSingleLong(ReadOnlySpan<byte> body, ReadOnlySpan<byte> property, string field)
    {
        var reader = new Utf8JsonReader(body);
        JsonRead.StartObject(ref reader);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = reader.ValueTextEquals(property);
            reader.Read();
            if (match)
            {
                return JsonRead.Long(ref reader, field);
            }

            reader.Skip();
        }

        throw new JsonException(string.Create(CultureInfo.InvariantCulture, $"response has no '{field}'"));
    }
}
