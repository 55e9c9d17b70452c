using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Chaser.Simulator.Engine;
using Chaser.Simulator.Wire;

namespace Chaser.Simulator.Server;

internal sealed partial class RestApi
{
    private static readonly string[] OrderTypes = ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"];
    private static readonly string[] TimeInForces = ["GTC", "IOC", "FOK", "GTX", "GTD"];

    private void RegisterMarketData()
    {
        Add("GET", "/fapi/v1/ping", Security.None, 1, _ => Json(w =>
        {
            w.WriteStartObject();
            w.WriteEndObject();
        }));
        Add("GET", "/fapi/v1/time", Security.None, 1, _ => Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("serverTime", Engine.Now);
            w.WriteEndObject();
        }));
        Add("GET", "/fapi/v1/exchangeInfo", Security.None, 1, _ => Json(WriteExchangeInfo));
        Add("GET", "/fapi/v1/depth", Security.None, p => (p.OptionalLong("limit") ?? 500) switch
        {
            <= 50 => 2,
            <= 100 => 5,
            <= 500 => 10,
            _ => 20,
        }, Depth);
        Add("GET", "/fapi/v1/ticker/bookTicker", Security.None, p => p.Has("symbol") ? 2 : 5, BookTickers);
        Add("GET", "/fapi/v1/ticker/price", Security.None, p => p.Has("symbol") ? 1 : 2, Prices);
        Add("GET", "/fapi/v2/ticker/price", Security.None, p => p.Has("symbol") ? 1 : 2, Prices);
        Add("GET", "/fapi/v1/ticker/24hr", Security.None, p => p.Has("symbol") ? 1 : 40, Tickers24h);
        Add("GET", "/fapi/v1/trades", Security.None, 5, Trades);
        Add("GET", "/fapi/v1/aggTrades", Security.None, 20, AggTrades);
        Add("GET", "/fapi/v1/premiumIndex", Security.None, p => p.Has("symbol") ? 1 : 10, PremiumIndex);
    }

    private void RegisterTrading()
    {
        AddOrder("POST", "/fapi/v1/order", 0, 1, 1, PlaceOrder);
        AddOrder("PUT", "/fapi/v1/order", 0, 1, 1, ModifyOrder);
        AddCancel("/fapi/v1/order", 1, CancelOrder);
        Add("GET", "/fapi/v1/order", Security.Signed, 1, QueryOrder);
        Add("GET", "/fapi/v1/openOrder", Security.Signed, 1, QueryOpenOrder);
        Add("GET", "/fapi/v1/openOrders", Security.Signed, p => p.Has("symbol") ? 1 : 40, OpenOrders);
        Add("GET", "/fapi/v1/allOrders", Security.Signed, 5, AllOrders);
        Add("GET", "/fapi/v1/orderAmendment", Security.Signed, 1, OrderAmendments);
        AddCancel("/fapi/v1/allOpenOrders", 1, CancelAll);
        AddOrder("POST", "/fapi/v1/batchOrders", 5, 5, 1, PlaceBatch);
        AddOrder("PUT", "/fapi/v1/batchOrders", 5, 5, 1, ModifyBatch);
        AddCancel("/fapi/v1/batchOrders", 1, CancelBatch);
        Add("GET", "/fapi/v1/userTrades", Security.Signed, 5, UserTrades);
        Add("POST", "/fapi/v1/countdownCancelAll", Security.Signed, 10, Countdown);
    }

    private void RegisterAccount()
    {
        Add("GET", "/fapi/v2/account", Security.Signed, 5, p => Json(w => WriteAccount(w, v3: false)));
        Add("GET", "/fapi/v3/account", Security.Signed, 5, p => Json(w => WriteAccount(w, v3: true)));
        Add("GET", "/fapi/v2/balance", Security.Signed, 5, _ => Json(WriteBalances));
        Add("GET", "/fapi/v3/balance", Security.Signed, 5, _ => Json(WriteBalances));
        Add("GET", "/fapi/v2/positionRisk", Security.Signed, 5, p => PositionRisk(p, v3: false));
        Add("GET", "/fapi/v3/positionRisk", Security.Signed, 5, p => PositionRisk(p, v3: true));
        Add("POST", "/fapi/v1/leverage", Security.Signed, 1, Leverage);
        Add("POST", "/fapi/v1/marginType", Security.Signed, 1, p =>
        {
            p.Symbol(Engine);
            return p.Required("marginType") == "CROSSED"
                ? throw new BinanceException(-4046, "No need to change margin type.")
                : throw new BinanceException(-4047, "Margin type cannot be changed if there exists open orders.");
        });
        Add("GET", "/fapi/v1/positionSide/dual", Security.Signed, 30, _ => Json(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("dualSidePosition", false);
            w.WriteEndObject();
        }));
        Add("GET", "/fapi/v1/multiAssetsMargin", Security.Signed, 30, _ => Json(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("multiAssetsMargin", false);
            w.WriteEndObject();
        }));
        Add("GET", "/fapi/v1/commissionRate", Security.Signed, 20, CommissionRate);
        Add("GET", "/fapi/v1/apiTradingStatus", Security.Signed, p => p.Has("symbol") ? 1 : 10, ApiTradingStatus);
        Add("GET", "/fapi/v1/rateLimit/order", Security.Signed, 1, _ => Json(w =>
        {
            w.WriteStartArray();
            WriteRateLimit(w, "ORDERS", "SECOND", 10, context.RateLimits.Options.OrdersPer10Seconds);
            WriteRateLimit(w, "ORDERS", "MINUTE", 1, context.RateLimits.Options.OrdersPerMinute);
            w.WriteEndArray();
        }));
        Add("POST", "/fapi/v1/listenKey", Security.ApiKey, 1, _ => ListenKeyResponse(context.ListenKeys.CreateOrGet()));
        Add("PUT", "/fapi/v1/listenKey", Security.ApiKey, 1, p =>
            context.ListenKeys.Extend(p.Optional("listenKey")) ? ListenKeyResponse(context.ListenKeys.Active!) : throw BinanceErrors.InvalidListenKey());
        Add("DELETE", "/fapi/v1/listenKey", Security.ApiKey, 1, p =>
        {
            context.ListenKeys.Close(p.Optional("listenKey"));
            return Json(w =>
            {
                w.WriteStartObject();
                w.WriteEndObject();
            });
        });
    }

    // ------------------------------------------------------------ market data

    private void WriteExchangeInfo(Utf8JsonWriter w)
    {
        var limits = context.RateLimits.Options;
        w.WriteStartObject();
        w.WriteString("timezone", "UTC");
        w.WriteNumber("serverTime", Engine.Now);
        w.WriteString("futuresType", "U_MARGINED");
        w.WriteStartArray("rateLimits");
        WriteRateLimit(w, "REQUEST_WEIGHT", "MINUTE", 1, limits.RequestWeightPerMinute);
        WriteRateLimit(w, "ORDERS", "MINUTE", 1, limits.OrdersPerMinute);
        WriteRateLimit(w, "ORDERS", "SECOND", 10, limits.OrdersPer10Seconds);
        w.WriteEndArray();
        w.WriteStartArray("exchangeFilters");
        w.WriteEndArray();
        w.WriteStartArray("assets");
        w.WriteStartObject();
        w.WriteString("asset", "USDT");
        w.WriteBoolean("marginAvailable", true);
        w.WriteString("autoAssetExchange", "-10000");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteStartArray("symbols");
        foreach (var s in Engine.Symbols)
        {
            w.WriteStartObject();
            w.WriteString("symbol", s.Symbol);
            w.WriteString("pair", s.Symbol);
            w.WriteString("contractType", s.ContractType);
            w.WriteNumber("deliveryDate", 4133404800000);
            w.WriteNumber("onboardDate", 1569398400000);
            w.WriteString("status", "TRADING");
            w.WriteString("maintMarginPercent", "2.5000");
            w.WriteString("requiredMarginPercent", "5.0000");
            w.WriteString("baseAsset", s.BaseAsset);
            w.WriteString("quoteAsset", s.QuoteAsset);
            w.WriteString("marginAsset", s.QuoteAsset);
            w.WriteNumber("pricePrecision", s.PricePrecision);
            w.WriteNumber("quantityPrecision", s.QuantityPrecision);
            w.WriteNumber("baseAssetPrecision", 8);
            w.WriteNumber("quotePrecision", 8);
            w.WriteString("underlyingType", "COIN");
            w.WriteStartArray("underlyingSubType");
            w.WriteEndArray();
            w.WriteNumber("settlePlan", 0);
            w.WriteString("triggerProtect", "0.0500");
            w.WriteString("liquidationFee", "0.012500");
            w.WriteString("marketTakeBound", "0.05");
            w.WriteNumber("maxMoveOrderLimit", 10000);
            w.WriteStartArray("filters");
            Filter(w, "PRICE_FILTER", ("minPrice", s.MinPrice), ("maxPrice", s.MaxPrice), ("tickSize", s.TickSize));
            Filter(w, "LOT_SIZE", ("stepSize", s.StepSize), ("maxQty", s.MaxQty), ("minQty", s.MinQty));
            Filter(w, "MARKET_LOT_SIZE", ("stepSize", s.StepSize), ("maxQty", s.MarketMaxQty), ("minQty", s.MinQty));
            w.WriteStartObject();
            w.WriteString("filterType", "MAX_NUM_ORDERS");
            w.WriteNumber("limit", s.MaxNumOrders);
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("filterType", "MAX_NUM_ALGO_ORDERS");
            w.WriteNumber("limit", s.MaxNumAlgoOrders);
            w.WriteEndObject();
            Filter(w, "MIN_NOTIONAL", ("notional", s.MinNotional));
            w.WriteStartObject();
            w.WriteString("filterType", "PERCENT_PRICE");
            w.WriteString("multiplierUp", BinanceJson.Fixed(s.MultiplierUp, s.MultiplierDecimal));
            w.WriteString("multiplierDown", BinanceJson.Fixed(s.MultiplierDown, s.MultiplierDecimal));
            w.WriteString("multiplierDecimal", s.MultiplierDecimal.ToString(CultureInfo.InvariantCulture));
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartArray("orderTypes");
            foreach (var t in OrderTypes)
            {
                w.WriteStringValue(t);
            }

            w.WriteEndArray();
            w.WriteStartArray("timeInForce");
            foreach (var t in TimeInForces)
            {
                w.WriteStringValue(t);
            }

            w.WriteEndArray();
            w.WriteStartArray("permissionSets");
            w.WriteStringValue("GRID");
            w.WriteStringValue("COPY");
            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Filter(Utf8JsonWriter w, string type, params (string Name, decimal Value)[] fields)
    {
        w.WriteStartObject();
        w.WriteString("filterType", type);
        foreach (var (name, value) in fields)
        {
            w.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
        }

        w.WriteEndObject();
    }

    private static void WriteRateLimit(Utf8JsonWriter w, string type, string interval, int num, int limit)
    {
        w.WriteStartObject();
        w.WriteString("rateLimitType", type);
        w.WriteString("interval", interval);
        w.WriteNumber("intervalNum", num);
        w.WriteNumber("limit", limit);
        w.WriteEndObject();
    }

    private byte[] Depth(RequestParameters p)
    {
        var symbol = p.Symbol(Engine);
        var limit = (int)Math.Clamp(p.OptionalLong("limit") ?? 500, 1, 1000);
        var depth = Engine.GetDepth(symbol, limit);
        var spec = Spec(symbol);
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("lastUpdateId", depth.LastUpdateId);
            w.WriteNumber("E", depth.EventTime);
            w.WriteNumber("T", depth.TransactionTime);
            BinanceJson.WriteLevels(w, "bids", spec, depth.Bids);
            BinanceJson.WriteLevels(w, "asks", spec, depth.Asks);
            w.WriteEndObject();
        });
    }

    private byte[] BookTickers(RequestParameters p)
    {
        var symbol = p.OptionalSymbol(Engine);
        return Json(w =>
        {
            if (symbol is null)
            {
                w.WriteStartArray();
            }

            foreach (var s in symbol is null ? Engine.Symbols.Select(x => x.Symbol) : [symbol])
            {
                var t = Engine.GetBookTicker(s);
                var spec = Spec(s);
                w.WriteStartObject();
                w.WriteString("symbol", s);
                w.WriteString("bidPrice", spec.FormatPrice(t.BidPrice));
                w.WriteString("bidQty", spec.FormatQty(t.BidQty));
                w.WriteString("askPrice", spec.FormatPrice(t.AskPrice));
                w.WriteString("askQty", spec.FormatQty(t.AskQty));
                w.WriteNumber("time", t.TransactionTime);
                w.WriteNumber("lastUpdateId", t.UpdateId);
                w.WriteEndObject();
            }

            if (symbol is null)
            {
                w.WriteEndArray();
            }
        });
    }

    private byte[] Prices(RequestParameters p)
    {
        var symbol = p.OptionalSymbol(Engine);
        return Json(w =>
        {
            if (symbol is null)
            {
                w.WriteStartArray();
            }

            foreach (var s in symbol is null ? Engine.Symbols.Select(x => x.Symbol) : [symbol])
            {
                w.WriteStartObject();
                w.WriteString("symbol", s);
                w.WriteString("price", Spec(s).FormatPrice(Engine.GetLastPrice(s)));
                w.WriteNumber("time", Engine.Now);
                w.WriteEndObject();
            }

            if (symbol is null)
            {
                w.WriteEndArray();
            }
        });
    }

    /// <summary>
    /// The rolling 24-hour statistics, computed over the public tape the simulator keeps (its most recent trades
    /// within the last 24 hours of market time): open, high, low, last, volumes, VWAP, trade ids and count.
    /// </summary>
    private byte[] Tickers24h(RequestParameters p)
    {
        var symbol = p.OptionalSymbol(Engine);
        var now = Engine.Now;
        const long day = 24 * 3600 * 1000;
        return Json(w =>
        {
            if (symbol is null)
            {
                w.WriteStartArray();
            }

            foreach (var s in symbol is null ? Engine.Symbols.Select(x => x.Symbol) : [symbol])
            {
                var spec = Spec(s);
                var trades = Engine.GetRecentTrades(s, int.MaxValue).Where(t => t.Time > now - day).OrderBy(t => t.TradeId).ToArray();
                var last = trades.Length > 0 ? trades[^1].Price : Engine.GetLastPrice(s);
                var open = trades.Length > 0 ? trades[0].Price : last;
                var volume = trades.Sum(t => t.Qty);
                var quoteVolume = trades.Sum(t => t.Qty * t.Price);
                w.WriteStartObject();
                w.WriteString("symbol", s);
                w.WriteString("priceChange", spec.FormatPrice(last - open));
                w.WriteString("priceChangePercent", BinanceJson.Fixed(open == 0 ? 0m : (last - open) / open * 100m, 3));
                w.WriteString("weightedAvgPrice", spec.FormatPrice(volume == 0 ? last : Math.Round(quoteVolume / volume, spec.PricePrecision)));
                w.WriteString("lastPrice", spec.FormatPrice(last));
                w.WriteString("lastQty", spec.FormatQty(trades.Length > 0 ? trades[^1].Qty : 0m));
                w.WriteString("openPrice", spec.FormatPrice(open));
                w.WriteString("highPrice", spec.FormatPrice(trades.Length > 0 ? trades.Max(t => t.Price) : last));
                w.WriteString("lowPrice", spec.FormatPrice(trades.Length > 0 ? trades.Min(t => t.Price) : last));
                w.WriteString("volume", spec.FormatQty(volume));
                w.WriteString("quoteVolume", BinanceJson.Fixed(quoteVolume, 2));
                w.WriteNumber("openTime", trades.Length > 0 ? trades[0].Time : now - day);
                w.WriteNumber("closeTime", now);
                w.WriteNumber("firstId", trades.Length > 0 ? trades[0].TradeId : -1);
                w.WriteNumber("lastId", trades.Length > 0 ? trades[^1].TradeId : -1);
                w.WriteNumber("count", trades.Length);
                w.WriteEndObject();
            }

            if (symbol is null)
            {
                w.WriteEndArray();
            }
        });
    }

    private byte[] Trades(RequestParameters p)
    {
        var symbol = p.Symbol(Engine);
        var limit = (int)Math.Clamp(p.OptionalLong("limit") ?? 500, 1, 1000);
        var spec = Spec(symbol);
        var trades = Engine.GetRecentTrades(symbol, limit);
        return Json(w =>
        {
            w.WriteStartArray();
            foreach (var t in trades)
            {
                w.WriteStartObject();
                w.WriteNumber("id", t.TradeId);
                w.WriteString("price", spec.FormatPrice(t.Price));
                w.WriteString("qty", spec.FormatQty(t.Qty));
                w.WriteString("quoteQty", BinanceJson.Exact(t.Price * t.Qty));
                w.WriteNumber("time", t.Time);
                w.WriteBoolean("isBuyerMaker", t.BuyerIsMaker);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private byte[] AggTrades(RequestParameters p)
    {
        var symbol = p.Symbol(Engine);
        var limit = (int)Math.Clamp(p.OptionalLong("limit") ?? 500, 1, 1000);
        var fromId = p.OptionalLong("fromId");
        var start = p.OptionalLong("startTime");
        var end = p.OptionalLong("endTime");
        var spec = Spec(symbol);
        var trades = Engine.GetRecentTrades(symbol, 1000)
            .Where(t => (fromId is null || t.TradeId >= fromId) && (start is null || t.Time >= start) && (end is null || t.Time <= end));
        trades = fromId is null && start is null ? trades.TakeLast(limit) : trades.Take(limit);
        return Json(w =>
        {
            w.WriteStartArray();
            foreach (var t in trades)
            {
                w.WriteStartObject();
                w.WriteNumber("a", t.TradeId);
                w.WriteString("p", spec.FormatPrice(t.Price));
                w.WriteString("q", spec.FormatQty(t.Qty));
                w.WriteNumber("f", t.TradeId);
                w.WriteNumber("l", t.TradeId);
                w.WriteNumber("T", t.Time);
                w.WriteBoolean("m", t.BuyerIsMaker);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private byte[] PremiumIndex(RequestParameters p)
    {
        var symbol = p.OptionalSymbol(Engine);
        var now = Engine.Now;
        const long eightHours = 8 * 3600 * 1000;
        return Json(w =>
        {
            if (symbol is null)
            {
                w.WriteStartArray();
            }

            foreach (var s in symbol is null ? Engine.Symbols.Select(x => x.Symbol) : [symbol])
            {
                var mark = Engine.GetMarkPrice(s);
                w.WriteStartObject();
                w.WriteString("symbol", s);
                w.WriteString("markPrice", BinanceJson.Fixed(mark, 8));
                w.WriteString("indexPrice", BinanceJson.Fixed(mark, 8));
                w.WriteString("estimatedSettlePrice", BinanceJson.Fixed(mark, 8));
                w.WriteString("lastFundingRate", "0.00010000");
                w.WriteString("interestRate", "0.00010000");
                w.WriteNumber("nextFundingTime", ((now / eightHours) + 1) * eightHours);
                w.WriteNumber("time", now);
                w.WriteEndObject();
            }

            if (symbol is null)
            {
                w.WriteEndArray();
            }
        });
    }

    // ------------------------------------------------------------ trading

    private byte[] PlaceOrder(RequestParameters p)
    {
        var request = OrderRequests.ParseNew(p, Engine, out var resultResponse);
        var result = Engine.PlaceOrder(request);
        var spec = Spec(request.Symbol);
        return Json(w => BinanceJson.WriteOrder(w, spec, resultResponse ? result.Final : result.Accepted, includeTime: false));
    }

    private byte[] ModifyOrder(RequestParameters p)
    {
        var order = Engine.ModifyOrder(OrderRequests.ParseModify(p, Engine));
        return Json(w => BinanceJson.WriteOrder(w, Spec(order.Symbol), order, includeTime: false));
    }

    private byte[] CancelOrder(RequestParameters p)
    {
        var (symbol, orderId, clientId) = OrderRequests.ParseOrderRef(p, Engine);
        var order = Engine.CancelOrder(symbol, orderId, clientId);
        return Json(w => BinanceJson.WriteOrder(w, Spec(symbol), order, includeTime: false));
    }

    private byte[] QueryOrder(RequestParameters p)
    {
        var (symbol, orderId, clientId) = OrderRequests.ParseOrderRef(p, Engine);
        var order = Engine.QueryOrder(symbol, orderId, clientId);
        return Json(w => BinanceJson.WriteOrder(w, Spec(symbol), order, includeTime: true));
    }

    private byte[] QueryOpenOrder(RequestParameters p)
    {
        var (symbol, orderId, clientId) = OrderRequests.ParseOrderRef(p, Engine);
        var order = Engine.QueryOrder(symbol, orderId, clientId);
        return order.IsOpen
            ? Json(w => BinanceJson.WriteOrder(w, Spec(symbol), order, includeTime: true))
            : throw new BinanceException(-2013, "Order does not exist.");
    }

    private byte[] OpenOrders(RequestParameters p) => OrderList(Engine.GetOpenOrders(p.OptionalSymbol(Engine)));

    private byte[] AllOrders(RequestParameters p)
    {
        var symbol = p.Symbol(Engine);
        var limit = (int)Math.Clamp(p.OptionalLong("limit") ?? 500, 1, 1000);
        return OrderList(Engine.GetAllOrders(symbol, p.OptionalLong("orderId"), limit));
    }

    // Binance's "Get Order Modify History" (GET /fapi/v1/orderAmendment): orderId or origClientOrderId, limit 50 by
    // default and at most 100, newest first, prices and quantities as strings.
    private byte[] OrderAmendments(RequestParameters p)
    {
        var (symbol, orderId, clientId) = OrderRequests.ParseOrderRef(p, Engine);
        var limit = (int)Math.Clamp(p.OptionalLong("limit") ?? 50, 1, 100);
        var amendments = Engine.GetOrderAmendments(symbol, orderId, clientId, p.OptionalLong("startTime"), p.OptionalLong("endTime"), limit);
        var spec = Spec(symbol);
        return Json(w =>
        {
            w.WriteStartArray();
            foreach (var a in amendments)
            {
                w.WriteStartObject();
                w.WriteNumber("amendmentId", a.AmendmentId);
                w.WriteString("symbol", a.Symbol);
                w.WriteString("pair", a.Symbol);
                w.WriteNumber("orderId", a.OrderId);
                w.WriteString("clientOrderId", a.ClientOrderId);
                w.WriteNumber("time", a.Time);
                w.WriteStartObject("amendment");
                w.WriteStartObject("price");
                w.WriteString("before", spec.FormatPrice(a.PriceBefore));
                w.WriteString("after", spec.FormatPrice(a.PriceAfter));
                w.WriteEndObject();
                w.WriteStartObject("origQty");
                w.WriteString("before", spec.FormatQty(a.QtyBefore));
                w.WriteString("after", spec.FormatQty(a.QtyAfter));
                w.WriteEndObject();
                w.WriteNumber("count", a.Count);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private byte[] OrderList(IReadOnlyList<OrderSnapshot> orders) => Json(w =>
    {
        w.WriteStartArray();
        foreach (var o in orders)
        {
            BinanceJson.WriteOrder(w, Spec(o.Symbol), o, includeTime: true);
        }

        w.WriteEndArray();
    });

    private byte[] CancelAll(RequestParameters p)
    {
        Engine.CancelAllOpenOrders(p.Symbol(Engine));
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("code", 200);
            w.WriteString("msg", "The operation of cancel all open order is done.");
            w.WriteEndObject();
        });
    }

    /// <summary>Batches answer one element per request, in order: the order, or its {code,msg}.</summary>
    private static byte[] Batch<T>(IReadOnlyList<T> items, Action<Utf8JsonWriter, T> each) => Json(w =>
    {
        w.WriteStartArray();
        foreach (var item in items)
        {
            // Each element goes to its own buffer so a rejection halfway leaves no partial object behind.
            var single = new ArrayBufferWriter<byte>(1024);
            try
            {
                using (var itemWriter = new Utf8JsonWriter(single))
                {
                    each(itemWriter, item);
                }

                w.WriteRawValue(single.WrittenSpan, skipInputValidation: true);
            }
            catch (BinanceException ex)
            {
                BinanceJson.WriteError(w, ex.Code, ex.Message);
            }
        }

        w.WriteEndArray();
    });

    private static List<RequestParameters> ParseBatch(RequestParameters p, string name, int max)
    {
        List<RequestParameters> list = [];
        try
        {
            using var doc = JsonDocument.Parse(p.Required(name));
            foreach (var element in doc.RootElement.EnumerateArray())
            {
                list.Add(RequestParameters.FromValues(element.EnumerateObject().Select(
                    prop => KeyValuePair.Create(prop.Name, prop.Value.ValueKind == JsonValueKind.String ? prop.Value.GetString()! : prop.Value.GetRawText()))));
            }
        }
        catch (JsonException)
        {
            throw BinanceErrors.InvalidParameter(name);
        }

        return list.Count is 0 || list.Count > max ? throw BinanceErrors.InvalidParameter(name) : list;
    }

    private byte[] PlaceBatch(RequestParameters p) => Batch(ParseBatch(p, "batchOrders", 5), (w, item) =>
    {
        var request = OrderRequests.ParseNew(item, Engine, out var resultResponse);
        var result = Engine.PlaceOrder(request);
        BinanceJson.WriteOrder(w, Spec(request.Symbol), resultResponse ? result.Final : result.Accepted, includeTime: false);
    });

    private byte[] ModifyBatch(RequestParameters p) => Batch(ParseBatch(p, "batchOrders", 5), (w, item) =>
    {
        var order = Engine.ModifyOrder(OrderRequests.ParseModify(item, Engine));
        BinanceJson.WriteOrder(w, Spec(order.Symbol), order, includeTime: false);
    });

    private byte[] CancelBatch(RequestParameters p)
    {
        var symbol = p.Symbol(Engine);
        List<(long?, string?)> refs = [];
        try
        {
            if (p.Optional("orderIdList") is { } ids)
            {
                using var doc = JsonDocument.Parse(ids);
                refs.AddRange(doc.RootElement.EnumerateArray().Select(e => ((long?)e.GetInt64(), (string?)null)));
            }
            else
            {
                using var doc = JsonDocument.Parse(p.Required("origClientOrderIdList"));
                refs.AddRange(doc.RootElement.EnumerateArray().Select(e => ((long?)null, e.GetString())));
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw BinanceErrors.InvalidParameter("orderIdList");
        }

        if (refs.Count > 10)
        {
            throw BinanceErrors.InvalidParameter("orderIdList");
        }

        return Batch(refs, (w, r) => BinanceJson.WriteOrder(w, Spec(symbol), Engine.CancelOrder(symbol, r.Item1, r.Item2), includeTime: false));
    }

    private byte[] UserTrades(RequestParameters p)
    {
        var symbol = p.Symbol(Engine);
        var spec = Spec(symbol);
        var limit = (int)Math.Clamp(p.OptionalLong("limit") ?? 500, 1, 1000);
        var orderId = p.OptionalLong("orderId");
        var trades = Engine.GetUserTrades(symbol, p.OptionalLong("fromId"), int.MaxValue).Where(t => orderId is null || t.OrderId == orderId);
        trades = p.Has("fromId") ? trades.Take(limit) : trades.TakeLast(limit);
        return Json(w =>
        {
            w.WriteStartArray();
            foreach (var t in trades)
            {
                w.WriteStartObject();
                w.WriteBoolean("buyer", t.Side == OrderSide.Buy);
                w.WriteString("commission", BinanceJson.Usdt(t.Commission));
                w.WriteString("commissionAsset", t.CommissionAsset);
                w.WriteNumber("id", t.TradeId);
                w.WriteBoolean("maker", t.Maker);
                w.WriteNumber("orderId", t.OrderId);
                w.WriteString("price", spec.FormatPrice(t.Price));
                w.WriteString("qty", spec.FormatQty(t.Qty));
                w.WriteString("quoteQty", BinanceJson.Exact(t.QuoteQty));
                w.WriteString("realizedPnl", BinanceJson.Usdt(t.RealizedPnl));
                w.WriteString("side", t.Side.ToWire());
                w.WriteString("positionSide", "BOTH");
                w.WriteString("symbol", t.Symbol);
                w.WriteNumber("time", t.Time);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private byte[] Countdown(RequestParameters p)
    {
        var symbol = p.Symbol(Engine);
        var countdown = p.RequiredLong("countdownTime");
        Engine.SetCountdown(symbol, countdown);
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("symbol", symbol);
            w.WriteString("countdownTime", countdown.ToString(CultureInfo.InvariantCulture));
            w.WriteEndObject();
        });
    }

    // ------------------------------------------------------------ account

    private void WriteAccount(Utf8JsonWriter w, bool v3)
    {
        var now = Engine.Now;
        var positions = Engine.GetPositions();
        var wallet = Engine.WalletBalance;
        var unrealized = positions.Sum(x => x.UnrealizedPnl);
        var positionMargin = Engine.Symbols.Sum(s => Engine.GetPositionInitialMargin(s.Symbol));
        var orderMargin = Engine.Symbols.Sum(s => Engine.GetOpenOrderInitialMargin(s.Symbol));
        var available = Engine.GetAvailableBalance();
        w.WriteStartObject();
        if (!v3)
        {
            w.WriteNumber("feeTier", 0);
            w.WriteBoolean("feeBurn", false);
            w.WriteBoolean("canTrade", true);
            w.WriteBoolean("canDeposit", true);
            w.WriteBoolean("canWithdraw", true);
            w.WriteNumber("updateTime", 0);
            w.WriteBoolean("multiAssetsMargin", false);
            w.WriteNumber("tradeGroupId", -1);
        }

        w.WriteString("totalInitialMargin", BinanceJson.Usdt(positionMargin + orderMargin));
        w.WriteString("totalMaintMargin", BinanceJson.Usdt(positionMargin / 10m));
        w.WriteString("totalWalletBalance", BinanceJson.Usdt(wallet));
        w.WriteString("totalUnrealizedProfit", BinanceJson.Usdt(unrealized));
        w.WriteString("totalMarginBalance", BinanceJson.Usdt(wallet + unrealized));
        w.WriteString("totalPositionInitialMargin", BinanceJson.Usdt(positionMargin));
        w.WriteString("totalOpenOrderInitialMargin", BinanceJson.Usdt(orderMargin));
        w.WriteString("totalCrossWalletBalance", BinanceJson.Usdt(wallet));
        w.WriteString("totalCrossUnPnl", BinanceJson.Usdt(unrealized));
        w.WriteString("availableBalance", BinanceJson.Usdt(available));
        w.WriteString("maxWithdrawAmount", BinanceJson.Usdt(Math.Min(available, wallet)));
        w.WriteStartArray("assets");
        w.WriteStartObject();
        w.WriteString("asset", "USDT");
        w.WriteString("walletBalance", BinanceJson.Usdt(wallet));
        w.WriteString("unrealizedProfit", BinanceJson.Usdt(unrealized));
        w.WriteString("marginBalance", BinanceJson.Usdt(wallet + unrealized));
        w.WriteString("maintMargin", BinanceJson.Usdt(positionMargin / 10m));
        w.WriteString("initialMargin", BinanceJson.Usdt(positionMargin + orderMargin));
        w.WriteString("positionInitialMargin", BinanceJson.Usdt(positionMargin));
        w.WriteString("openOrderInitialMargin", BinanceJson.Usdt(orderMargin));
        w.WriteString("crossWalletBalance", BinanceJson.Usdt(wallet));
        w.WriteString("crossUnPnl", BinanceJson.Usdt(unrealized));
        w.WriteString("availableBalance", BinanceJson.Usdt(available));
        w.WriteString("maxWithdrawAmount", BinanceJson.Usdt(Math.Min(available, wallet)));
        w.WriteBoolean("marginAvailable", true);
        w.WriteNumber("updateTime", now);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteStartArray("positions");
        foreach (var pos in positions.Where(x => !v3 || x.Amount != 0m))
        {
            var spec = Spec(pos.Symbol);
            var margin = Engine.GetPositionInitialMargin(pos.Symbol);
            w.WriteStartObject();
            w.WriteString("symbol", pos.Symbol);
            w.WriteString("positionSide", "BOTH");
            w.WriteString("positionAmt", spec.FormatQty(pos.Amount));
            w.WriteString("unrealizedProfit", BinanceJson.Usdt(pos.UnrealizedPnl));
            w.WriteString("isolatedMargin", "0");
            w.WriteString("notional", BinanceJson.Usdt(pos.Amount * pos.MarkPrice));
            w.WriteString("isolatedWallet", "0");
            w.WriteString("initialMargin", BinanceJson.Usdt(margin + Engine.GetOpenOrderInitialMargin(pos.Symbol)));
            w.WriteString("maintMargin", BinanceJson.Usdt(margin / 10m));
            if (!v3)
            {
                w.WriteString("positionInitialMargin", BinanceJson.Usdt(margin));
                w.WriteString("openOrderInitialMargin", BinanceJson.Usdt(Engine.GetOpenOrderInitialMargin(pos.Symbol)));
                w.WriteString("leverage", pos.Leverage.ToString(CultureInfo.InvariantCulture));
                w.WriteBoolean("isolated", false);
                w.WriteString("entryPrice", BinanceJson.Avg(spec, pos.EntryPrice));
                w.WriteString("breakEvenPrice", BinanceJson.Avg(spec, pos.BreakEvenPrice));
                w.WriteString("maxNotional", "1000000");
                w.WriteString("bidNotional", "0");
                w.WriteString("askNotional", "0");
            }

            w.WriteNumber("updateTime", now);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private void WriteBalances(Utf8JsonWriter w)
    {
        var wallet = Engine.WalletBalance;
        var unrealized = Engine.GetPositions().Sum(x => x.UnrealizedPnl);
        var available = Engine.GetAvailableBalance();
        w.WriteStartArray();
        w.WriteStartObject();
        w.WriteString("accountAlias", "SgsR");
        w.WriteString("asset", "USDT");
        w.WriteString("balance", BinanceJson.Usdt(wallet));
        w.WriteString("crossWalletBalance", BinanceJson.Usdt(wallet));
        w.WriteString("crossUnPnl", BinanceJson.Usdt(unrealized));
        w.WriteString("availableBalance", BinanceJson.Usdt(available));
        w.WriteString("maxWithdrawAmount", BinanceJson.Usdt(Math.Min(available, wallet)));
        w.WriteBoolean("marginAvailable", true);
        w.WriteNumber("updateTime", Engine.Now);
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private byte[] PositionRisk(RequestParameters p, bool v3)
    {
        var symbol = p.OptionalSymbol(Engine);
        var positions = Engine.GetPositions().Where(x => (symbol is null || x.Symbol == symbol) && (!v3 || x.Amount != 0m)).ToList();
        var now = Engine.Now;
        return Json(w =>
        {
            w.WriteStartArray();
            foreach (var pos in positions)
            {
                var spec = Spec(pos.Symbol);
                var margin = Engine.GetPositionInitialMargin(pos.Symbol);
                w.WriteStartObject();
                w.WriteString("symbol", pos.Symbol);
                w.WriteString("positionSide", "BOTH");
                w.WriteString("positionAmt", spec.FormatQty(pos.Amount));
                w.WriteString("entryPrice", BinanceJson.Avg(spec, pos.EntryPrice));
                w.WriteString("breakEvenPrice", BinanceJson.Avg(spec, pos.BreakEvenPrice));
                w.WriteString("markPrice", BinanceJson.Fixed(pos.MarkPrice, 8));
                w.WriteString("unRealizedProfit", BinanceJson.Usdt(pos.UnrealizedPnl));
                w.WriteString("liquidationPrice", "0");
                w.WriteString("isolatedMargin", "0.00000000");
                w.WriteString("notional", BinanceJson.Usdt(pos.Amount * pos.MarkPrice));
                w.WriteString("isolatedWallet", "0");
                if (v3)
                {
                    w.WriteString("marginAsset", "USDT");
                    w.WriteString("initialMargin", BinanceJson.Usdt(margin));
                    w.WriteString("maintMargin", BinanceJson.Usdt(margin / 10m));
                    w.WriteString("positionInitialMargin", BinanceJson.Usdt(margin));
                    w.WriteString("openOrderInitialMargin", BinanceJson.Usdt(Engine.GetOpenOrderInitialMargin(pos.Symbol)));
                    w.WriteNumber("adl", 0);
                    w.WriteString("bidNotional", "0");
                    w.WriteString("askNotional", "0");
                }
                else
                {
                    w.WriteString("leverage", pos.Leverage.ToString(CultureInfo.InvariantCulture));
                    w.WriteString("maxNotionalValue", "1000000");
                    w.WriteString("marginType", "cross");
                    w.WriteString("isAutoAddMargin", "false");
                }

                w.WriteNumber("updateTime", now);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private byte[] Leverage(RequestParameters p)
    {
        var symbol = p.Symbol(Engine);
        var leverage = (int)p.RequiredLong("leverage");
        Engine.SetLeverage(symbol, leverage);
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("leverage", leverage);
            w.WriteString("maxNotionalValue", "1000000");
            w.WriteString("symbol", symbol);
            w.WriteEndObject();
        });
    }

    private byte[] CommissionRate(RequestParameters p)
    {
        var symbol = p.Symbol(Engine);
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("symbol", symbol);
            w.WriteString("makerCommissionRate", BinanceJson.Exact(Engine.Options.MakerFeeRate));
            w.WriteString("takerCommissionRate", BinanceJson.Exact(Engine.Options.TakerFeeRate));
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// The quantitative-rules indicators. Only GCR (GTC/GTX/GTD canceled within 5 s, per symbol per 10-minute
    /// cycle) is modelled; it is reported for every symbol with orders this cycle and never locks the account.
    /// </summary>
    private byte[] ApiTradingStatus(RequestParameters p)
    {
        var symbol = p.OptionalSymbol(Engine);
        var stats = Engine.GetCancellationStats().Where(s => symbol is null || s.Symbol == symbol).ToList();
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("indicators");
            foreach (var s in stats)
            {
                w.WriteStartArray(s.Symbol);
                w.WriteStartObject();
                w.WriteBoolean("isLocked", false);
                w.WriteNull("plannedRecoverTime");
                w.WriteString("indicator", "GCR");
                w.WriteNumber("value", Math.Round((decimal)s.QuickCancels / s.Placed, 4));
                w.WriteNumber("triggerValue", 0.99m);
                w.WriteNumber("placedOrders", s.Placed);
                w.WriteNumber("invalidCancellations", s.QuickCancels);
                w.WriteEndObject();
                w.WriteEndArray();
            }

            w.WriteEndObject();
            w.WriteNumber("updateTime", stats.Count == 0 ? 0 : Engine.Now);
            w.WriteEndObject();
        });
    }

    private static byte[] ListenKeyResponse(string key) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("listenKey", key);
        w.WriteEndObject();
    });
}
