using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Chaser.Binance.Parsing;
using Chaser.Binance.Requests;
using Chaser.Core.Chasing;
using Chaser.Core.Ports;
using Chaser.Core.Rules;

namespace Chaser.Binance.Connector;

/// <summary>
/// Binance USDⓈ-M Futures behind the engine's connector port: signed REST order entry with a local rate guard,
/// clock sync, the user data stream and combined market streams. The same code talks to Binance, its testnet and the
/// simulator; only the base URLs and keys differ.
/// </summary>
public sealed class BinanceConnector : IExchangeConnector, IExchangeHistory, IDeadManSwitch
{
    private readonly BinanceConnectorOptions _options;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly Utf8StringCache _strings = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _exchangeInfoLock = new();
    private Task<ExchangeInfo>? _exchangeInfo;
    private IExchangeEventSink? _sink;
    private UserStream? _userStream;
    private MarketStream? _marketStream;
    private long _clockOffsetMs;
    private int _clockResyncing;
    private readonly Lock _budgetLock = new();
    private readonly ITimer _budgetRecovery;
    private decimal _lastBudget = 1m;
    private bool _budgetStopped;
    private readonly ConcurrentDictionary<string, byte> _seededBooks = new(StringComparer.Ordinal);
    private WsApiOrderEntry? _wsApi;
    private int _rateLimitedResponses;

    public BinanceConnector(BinanceConnectorOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = options.Time;
        RateGuard = new OrderRateGuard(_time);
        _budgetRecovery = _time.CreateTimer(_ => ReportBudget(recheck: true), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AutomaticDecompression = DecompressionMethods.None,
        };
        _http = new HttpClient(handler) { BaseAddress = options.RestBaseUrl, Timeout = options.RequestTimeout };
        _http.DefaultRequestHeaders.Add("X-MBX-APIKEY", options.ApiKey.Value);
    }

    public OrderRateGuard RateGuard { get; }

    /// <summary>How many 429 / 418 answers the exchange gave us: a rate-limit breach, which must stay at zero.</summary>
    public int RateLimitedResponses => Volatile.Read(ref _rateLimitedResponses);

    /// <summary>Server time minus local time, in milliseconds, from the last clock sync.</summary>
    public long ClockOffsetMs => Interlocked.Read(ref _clockOffsetMs);

    public async Task ConnectAsync(IExchangeEventSink sink, CancellationToken cancellationToken)
    {
        _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        await SyncClockAsync(cancellationToken).ConfigureAwait(false);
        var info = await GetExchangeInfoAsync(cancellationToken).ConfigureAwait(false);
        ApplyRateLimits(info);
        _userStream = new UserStream(this, _options, sink, _strings);
        await _userStream.StartAsync(cancellationToken).ConfigureAwait(false);
        _marketStream = new MarketStream(_options, sink, _strings, FetchDepthSnapshotAsync);
        if (_options.OrderEntryWebSocketUrl is { } url)
        {
            var wsApi = new WsApiOrderEntry(this, _options, url);
            try
            {
                await wsApi.StartAsync(cancellationToken).ConfigureAwait(false);
                _wsApi = wsApi;
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException or HttpRequestException)
            {
                await wsApi.DisposeAsync().ConfigureAwait(false);
                Diagnose($"order-entry websocket unavailable ({e.Message}); orders go over REST");
            }
        }
    }

    /// <summary>Order requests sent over the WebSocket API (the rest went over REST).</summary>
    public long WebSocketOrderRequests => _wsApi?.Sent ?? 0;

    public async Task<SymbolRules> GetSymbolRulesAsync(string symbol, CancellationToken cancellationToken)
    {
        var info = await GetExchangeInfoAsync(cancellationToken).ConfigureAwait(false);
        if (!info.Symbols.TryGetValue(symbol, out var rules))
        {
            throw new KeyNotFoundException($"symbol {symbol} is not listed in exchangeInfo");
        }

        if (info.SymbolStatus.TryGetValue(symbol, out var status) && !string.Equals(status, "TRADING", StringComparison.Ordinal))
        {
            throw new KeyNotFoundException($"symbol {symbol} is not trading (status {status})");
        }

        return rules;
    }

    public async Task SubscribeAsync(string symbol, CancellationToken cancellationToken)
    {
        var market = _marketStream ?? throw new InvalidOperationException("connect before subscribing");
        await market.SubscribeAsync(symbol, cancellationToken).ConfigureAwait(false);
        if (_seededBooks.TryAdd(symbol, 0))
        {
            // The bookTicker stream only speaks when the top changes: on a quiet symbol the first frame may be long in
            // coming, so the book starts from the REST snapshot (older books are dropped by update id downstream).
            var received = _time.GetTimestamp();
            var body = await CallAsync(HttpMethod.Get, BinanceEndpoint.BookTickerOneSymbol.Path + "?symbol=" + symbol, cancellationToken).ConfigureAwait(false);
            Sink.OnBook(symbol, RestResponseParser.ParseBookTicker(body), received);
        }
    }

    public long Submit(in OrderRequest request)
    {
        var command = request.Command;
        var endpoint = command.Kind switch
        {
            ChaserCommandKind.Place => BinanceEndpoint.PlaceOrder,
            ChaserCommandKind.Modify => BinanceEndpoint.ModifyOrder,
            ChaserCommandKind.Cancel => BinanceEndpoint.CancelOrder,
            ChaserCommandKind.Query => BinanceEndpoint.QueryOrder,
            _ => throw new ArgumentOutOfRangeException(nameof(request), command.Kind, "not a request"),
        };

        if (!RateGuard.TryAcquire(endpoint.OrderCount, endpoint.Weight, out var refusal))
        {
            // Never send what would breach a limit: the chaser backs off as after the exchange's own -1015.
            if (command.Kind != ChaserCommandKind.Query)
            {
                Sink.OnRejected(new OrderRejected(command.ClientOrderId, ToRequestKind(command.Kind), RejectKind.Retryable, -1015, refusal, _time.GetUtcNow()));
            }

            ReportBudget();
            return _time.GetTimestamp();
        }

        // Over the WebSocket API the frame is built, signed and handed to the socket in one go, stamped at the hand-off.
        if (command.Kind != ChaserCommandKind.Query && _wsApi is { IsUp: true } wsApi && wsApi.TrySend(request, Timestamp(), out var handedOff))
        {
            return handedOff;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(BinanceRequests.MaxQueryLength);
        int length;
        var signing = new SigningContext(_options.Signer, Timestamp(), _options.RecvWindowMs);
        switch (command.Kind)
        {
            case ChaserCommandKind.Place:
                length = BinanceRequests.NewOrder(buffer, new NewOrder(request.Symbol, command.Side, command.OrderType, command.Price, command.Quantity, command.ClientOrderId, request.ReduceOnly), request.Rules, signing);
                break;
            case ChaserCommandKind.Modify:
                length = BinanceRequests.ModifyOrder(buffer, new ModifyOrder(request.Symbol, command.Side, command.ClientOrderId, command.Price, command.Quantity), request.Rules, signing);
                break;
            case ChaserCommandKind.Cancel:
                length = BinanceRequests.CancelOrder(buffer, request.Symbol, command.ClientOrderId, signing);
                break;
            default:
                length = BinanceRequests.QueryOrder(buffer, request.Symbol, command.ClientOrderId, signing);
                break;
        }

        var uri = new Uri(endpoint.Path + "?" + Encoding.ASCII.GetString(buffer, 0, length), UriKind.Relative);
        ArrayPool<byte>.Shared.Return(buffer);
        var message = new HttpRequestMessage(ToHttpMethod(endpoint.Method), uri);
        // The request goes to HttpClient.SendAsync right away (the first thing either method does): as near to the
        // socket hand-off as REST lets us see.
        var sentAt = _time.GetTimestamp();
        _ = command.Kind == ChaserCommandKind.Query
            ? QueryAsync(message, request.Symbol, command.ClientOrderId)
            : SendOrderRequestAsync(message, command.Kind, command.ClientOrderId);
        return sentAt;
    }

    /// <summary>The children of one parent order of ours (client ids <c>chs-&lt;tag&gt;-&lt;parent&gt;-…</c>) since a time, each with its trades.</summary>
    public async Task<IReadOnlyList<ChildHistory>> GetChildHistoryAsync(string symbol, string clientIdTag, long parentId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var buffer = new byte[BinanceRequests.MaxQueryLength];
        var length = BinanceRequests.AllOrders(buffer, symbol, since.ToUnixTimeMilliseconds(), 1000, new SigningContext(_options.Signer, Timestamp(), _options.RecvWindowMs));
        var body = await CallAsync(HttpMethod.Get, BinanceEndpoint.AllOrders.Path + "?" + Encoding.ASCII.GetString(buffer, 0, length), cancellationToken).ConfigureAwait(false);
        var result = new List<ChildHistory>();
        var now = _time.GetUtcNow();
        foreach (var order in new RestResponseParser(_strings).ParseOrders(body))
        {
            // Another instance's order with the same parent id is not ours: its trades must not be restored here.
            if (!ClientOrderIds.IsOurs(order.ClientOrderId, clientIdTag, out var parent) || parent != parentId)
            {
                continue;
            }

            var fills = new List<Fill>();
            if (order.ExecutedQuantity > 0)
            {
                length = BinanceRequests.UserTrades(buffer, symbol, order.OrderId, fromTradeId: null, limit: 1000, new SigningContext(_options.Signer, Timestamp(), _options.RecvWindowMs));
                var trades = await CallAsync(HttpMethod.Get, BinanceEndpoint.UserTrades.Path + "?" + Encoding.ASCII.GetString(buffer, 0, length), cancellationToken).ConfigureAwait(false);
                var cumulative = 0m;
                foreach (var trade in new RestResponseParser(_strings).ParseUserTrades(trades).OrderBy(t => t.TradeId))
                {
                    cumulative += trade.Quantity;
                    fills.Add(trade.ToFill(order.ClientOrderId, cumulative, cumulative >= order.OriginalQuantity, now));
                }
            }

            result.Add(new ChildHistory(order.ClientOrderId, order.Status.ToCore(), order.ExecutedQuantity, fills));
        }

        return result;
    }

    /// <summary>POST countdownCancelAll (weight 10): Binance cancels the symbol's open orders when the countdown runs out.</summary>
    public async Task ArmCancelAllAsync(string symbol, TimeSpan countdown, CancellationToken cancellationToken)
    {
        var buffer = new byte[BinanceRequests.MaxQueryLength];
        var length = BinanceRequests.CountdownCancelAll(buffer, symbol, (long)countdown.TotalMilliseconds, new SigningContext(_options.Signer, Timestamp(), _options.RecvWindowMs));
        await CallAsync(HttpMethod.Post, BinanceEndpoint.CountdownCancelAll.Path + "?" + Encoding.ASCII.GetString(buffer, 0, length), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cancels every open order of ours (client id <c>chs-&lt;tag&gt;-…</c>) on a symbol; other orders of the account, another instance's included, are left alone.</summary>
    public async Task CancelAllAsync(string symbol, string clientIdTag, CancellationToken cancellationToken)
    {
        var buffer = new byte[BinanceRequests.MaxQueryLength];
        var length = BinanceRequests.OpenOrders(buffer, symbol, new SigningContext(_options.Signer, Timestamp(), _options.RecvWindowMs));
        using var response = await _http.GetAsync(new Uri(BinanceEndpoint.OpenOrdersOneSymbol.Path + "?" + Encoding.ASCII.GetString(buffer, 0, length), UriKind.Relative), cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        ObserveHeaders(response);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"openOrders for {symbol} failed: {Describe(body, (int)response.StatusCode)}");
        }

        foreach (var order in new RestResponseParser(_strings).ParseOrders(body))
        {
            if (!ClientOrderIds.IsOurs(order.ClientOrderId, clientIdTag, out _))
            {
                continue;
            }

            length = BinanceRequests.CancelOrder(buffer, symbol, order.ClientOrderId, new SigningContext(_options.Signer, Timestamp(), _options.RecvWindowMs));
            using var cancel = await _http.DeleteAsync(new Uri(BinanceEndpoint.CancelOrder.Path + "?" + Encoding.ASCII.GetString(buffer, 0, length), UriKind.Relative), cancellationToken).ConfigureAwait(false);
            ObserveHeaders(cancel);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        lock (_budgetLock)
        {
            // Answers still in flight may report the budget after this: they must not touch the disposed timer.
            _budgetStopped = true;
        }

        await _budgetRecovery.DisposeAsync().ConfigureAwait(false);
        if (_wsApi is not null)
        {
            await _wsApi.DisposeAsync().ConfigureAwait(false);
        }

        if (_marketStream is not null)
        {
            await _marketStream.DisposeAsync().ConfigureAwait(false);
        }

        if (_userStream is not null)
        {
            await _userStream.DisposeAsync().ConfigureAwait(false);
        }

        _http.Dispose();
        _stopping.Dispose();
    }

    /// <summary>
    /// A REST call outside the hot path (listen key, exchangeInfo, time, userTrades): the body, or an exception naming
    /// the endpoint. These calls are idempotent, so a 5xx, a 429 or a dropped connection is retried a few times with
    /// jittered backoff (honouring Retry-After) before giving up; a 4xx or a 418 ban is not.
    /// </summary>
    internal async Task<byte[]> CallAsync(HttpMethod method, string pathAndQuery, CancellationToken cancellationToken)
    {
        const int attempts = 5;
        var path = pathAndQuery.Split('?')[0];
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan wait;
            try
            {
                using var message = new HttpRequestMessage(method, new Uri(pathAndQuery, UriKind.Relative));
                using var response = await _http.SendAsync(message, cancellationToken).ConfigureAwait(false);
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                ObserveHeaders(response);
                if (response.IsSuccessStatusCode)
                {
                    return body;
                }

                var status = (int)response.StatusCode;
                var retryable = status >= 500 || status == 429;
                if (!retryable || attempt == attempts)
                {
                    throw new HttpRequestException($"{method} {path} failed: {Describe(body, status)}", null, response.StatusCode);
                }

                wait = response.Headers.RetryAfter?.Delta is { } retryAfter && retryAfter <= TimeSpan.FromSeconds(5)
                    ? retryAfter
                    : Backoff.Jittered(attempt, TimeSpan.FromSeconds(2));
                Diagnose($"{method} {path}: HTTP {status}, retrying in {wait.TotalMilliseconds:0} ms ({attempt}/{attempts})");
            }
            catch (HttpRequestException ex) when (ex.StatusCode is null && attempt < attempts && !cancellationToken.IsCancellationRequested)
            {
                // No answer at all (connection refused or reset): the call can be repeated.
                wait = Backoff.Jittered(attempt, TimeSpan.FromSeconds(2));
                Diagnose($"{method} {path}: {ex.Message}, retrying in {wait.TotalMilliseconds:0} ms ({attempt}/{attempts})");
            }

            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The REST depth snapshot a local book synchronises onto (1000 levels, as Binance's procedure asks).</summary>
    private Task<byte[]> FetchDepthSnapshotAsync(string symbol, CancellationToken cancellationToken) =>
        CallAsync(HttpMethod.Get, BinanceEndpoint.Depth(1000).Path + "?symbol=" + symbol + "&limit=1000", cancellationToken);

    /// <summary>A request whose fate can't be known (its connection dropped): the chaser confirms by query.</summary>
    internal void ReportUnknown(string clientOrderId, ChaserCommandKind kind) =>
        Sink.OnOutcomeUnknown(new RequestOutcomeUnknown(clientOrderId, ToRequestKind(kind), _time.GetUtcNow()));

    internal void Diagnose(string message) => _options.Diagnostics?.Invoke(message);

    private IExchangeEventSink Sink => _sink ?? throw new InvalidOperationException("connect first");

    private static string Describe(byte[] body, int status) =>
        RestResponseParser.TryParseError(body, status, out var error) ? error.ToString() : $"HTTP {status}";

    private static RequestKind ToRequestKind(ChaserCommandKind kind) => kind switch
    {
        ChaserCommandKind.Place => RequestKind.Place,
        ChaserCommandKind.Modify => RequestKind.Modify,
        _ => RequestKind.Cancel,
    };

    private static HttpMethod ToHttpMethod(RestMethod method) => method switch
    {
        RestMethod.Post => HttpMethod.Post,
        RestMethod.Put => HttpMethod.Put,
        RestMethod.Delete => HttpMethod.Delete,
        _ => HttpMethod.Get,
    };

    private long Timestamp() => _time.GetUtcNow().ToUnixTimeMilliseconds() + Interlocked.Read(ref _clockOffsetMs);

    private Task<ExchangeInfo> GetExchangeInfoAsync(CancellationToken cancellationToken)
    {
        lock (_exchangeInfoLock)
        {
            if (_exchangeInfo is null || _exchangeInfo.IsFaulted || _exchangeInfo.IsCanceled)
            {
                _exchangeInfo = LoadExchangeInfoAsync(cancellationToken);
            }

            return _exchangeInfo;
        }
    }

    private async Task<ExchangeInfo> LoadExchangeInfoAsync(CancellationToken cancellationToken)
    {
        var body = await CallAsync(HttpMethod.Get, BinanceEndpoint.ExchangeInfo.Path, cancellationToken).ConfigureAwait(false);
        return RestResponseParser.ParseExchangeInfo(body);
    }

    private void ApplyRateLimits(ExchangeInfo info)
    {
        int orders10s = RateGuard.OrdersPer10s, orders1m = RateGuard.OrdersPerMinute, weight = RateGuard.WeightPerMinute;
        foreach (var rule in info.RateLimits)
        {
            if (rule.RateLimitType == "ORDERS" && rule.Window == TimeSpan.FromSeconds(10))
            {
                orders10s = rule.Limit;
            }
            else if (rule.RateLimitType == "ORDERS" && rule.Window == TimeSpan.FromMinutes(1))
            {
                orders1m = rule.Limit;
            }
            else if (rule.RateLimitType == "REQUEST_WEIGHT" && rule.Window == TimeSpan.FromMinutes(1))
            {
                weight = rule.Limit;
            }
        }

        RateGuard.SetLimits(orders10s, orders1m, weight);
    }

    /// <summary>Server clock offset from GET time, taking the round trip's midpoint as the server's reading time.</summary>
    private async Task SyncClockAsync(CancellationToken cancellationToken)
    {
        var before = _time.GetUtcNow();
        var body = await CallAsync(HttpMethod.Get, BinanceEndpoint.ServerTime.Path, cancellationToken).ConfigureAwait(false);
        var after = _time.GetUtcNow();
        var serverMs = RestResponseParser.ParseServerTime(body);
        var localMidpointMs = (before.ToUnixTimeMilliseconds() + after.ToUnixTimeMilliseconds()) / 2;
        Interlocked.Exchange(ref _clockOffsetMs, serverMs - localMidpointMs);
    }

    private void ResyncClockInBackground()
    {
        if (Interlocked.Exchange(ref _clockResyncing, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await SyncClockAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                Diagnose($"clock resync failed: {e.Message}");
            }
            finally
            {
                Interlocked.Exchange(ref _clockResyncing, 0);
            }
        });
    }

    private async Task SendOrderRequestAsync(HttpRequestMessage message, ChaserCommandKind kind, string clientOrderId)
    {
        var request = ToRequestKind(kind);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Sent or not, we can't tell: the chaser queries before doing anything else with this child.
            message.Dispose();
            Diagnose($"{kind} {clientOrderId}: outcome unknown ({e.GetType().Name})");
            Sink.OnOutcomeUnknown(new RequestOutcomeUnknown(clientOrderId, request, _time.GetUtcNow()));
            return;
        }

        using (message)
        using (response)
        {
            byte[] body;
            try
            {
                body = await response.Content.ReadAsByteArrayAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Sink.OnOutcomeUnknown(new RequestOutcomeUnknown(clientOrderId, request, _time.GetUtcNow()));
                return;
            }

            ObserveHeaders(response);
            HandleOrderAnswer(body, (int)response.StatusCode, kind, clientOrderId);
        }
    }

    /// <summary>
    /// What an answer to a place / modify / cancel means for the chaser, whichever way it came (REST or the
    /// WebSocket API): accepted, finished, rejected, or an unknown outcome that must be confirmed by a query.
    /// </summary>
    internal void HandleOrderAnswer(ReadOnlySpan<byte> body, int status, ChaserCommandKind kind, string clientOrderId)
    {
        var request = ToRequestKind(kind);
        var now = _time.GetUtcNow();
        if (status is >= 200 and < 300)
        {
            var order = new RestResponseParser(_strings).ParseOrder(body);
            var final = order.Status is BinanceOrderStatus.Canceled or BinanceOrderStatus.Expired or BinanceOrderStatus.Filled or BinanceOrderStatus.ExpiredInMatch;
            if (kind == ChaserCommandKind.Place && order.Status is BinanceOrderStatus.Expired or BinanceOrderStatus.ExpiredInMatch)
            {
                // The pre-2023 way of refusing a post-only order that would cross: accepted, then expired.
                Sink.OnRejected(new OrderRejected(clientOrderId, request, RejectKind.PostOnlyWouldCross, -5022, "post-only order expired", now));
            }
            else if (kind == ChaserCommandKind.Cancel || final)
            {
                Sink.OnOrderFinished(new OrderFinished(clientOrderId, order.Status.ToCore(), order.ExecutedQuantity, JsonRead.Time(order.UpdateTimeMs), now));
            }
            else
            {
                Sink.OnAccepted(order.ToAccepted(kind == ChaserCommandKind.Modify, now));
            }

            return;
        }

        if (!RestResponseParser.TryParseError(body, status, out var error))
        {
            error = new BinanceError(0, $"HTTP {status}", status, BinanceRejects.Classify(0, status));
        }

        if (error.Code == -1021)
        {
            ResyncClockInBackground();
        }

        // 503 "Unknown error" and -1007: the exchange may or may not have executed it.
        var unknown = error.Code == -1007 || (status == 503 && error.Message.Contains("Unknown error", StringComparison.OrdinalIgnoreCase)) || status == 408;
        if (unknown)
        {
            Sink.OnOutcomeUnknown(new RequestOutcomeUnknown(clientOrderId, request, now));
            return;
        }

        Sink.OnRejected(new OrderRejected(clientOrderId, request, BinanceRejects.Classify(error.Code, status), error.Code, error.Message, now));
    }

    /// <summary>GET order, then its trades (fed as fills, which the chaser counts once), then its status.</summary>
    private async Task QueryAsync(HttpRequestMessage message, string symbol, string clientOrderId)
    {
        try
        {
            OrderResponse order;
            using (message)
            using (var response = await _http.SendAsync(message, _stopping.Token).ConfigureAwait(false))
            {
                var body = await response.Content.ReadAsByteArrayAsync(_stopping.Token).ConfigureAwait(false);
                ObserveHeaders(response);
                if (!response.IsSuccessStatusCode)
                {
                    if (RestResponseParser.TryParseError(body, (int)response.StatusCode, out var error) && error.Code == -2013)
                    {
                        Sink.OnStatusReport(new OrderStatusReport(clientOrderId, false, ExchangeOrderStatus.New, 0m, 0m, 0m, _time.GetUtcNow()));
                    }
                    else
                    {
                        Diagnose($"query {clientOrderId}: {Describe(body, (int)response.StatusCode)}");
                    }

                    return;
                }

                order = new RestResponseParser(_strings).ParseOrder(body);
            }

            if (order.ExecutedQuantity > 0)
            {
                await FeedTradesAsync(symbol, clientOrderId, order).ConfigureAwait(false);
            }

            Sink.OnStatusReport(order.ToStatusReport(_time.GetUtcNow()));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FormatException)
        {
            // The chaser asks again after its query retry interval.
            Diagnose($"query {clientOrderId} failed: {e.Message}");
        }
    }

    private async Task FeedTradesAsync(string symbol, string clientOrderId, OrderResponse order)
    {
        var buffer = new byte[BinanceRequests.MaxQueryLength];
        var length = BinanceRequests.UserTrades(buffer, symbol, order.OrderId, fromTradeId: null, limit: 1000, new SigningContext(_options.Signer, Timestamp(), _options.RecvWindowMs));
        if (!RateGuard.TryAcquire(0, BinanceEndpoint.UserTrades.Weight, out var refusal))
        {
            Diagnose($"userTrades for {clientOrderId} deferred: {refusal}");
            return;
        }

        var body = await CallAsync(HttpMethod.Get, BinanceEndpoint.UserTrades.Path + "?" + Encoding.ASCII.GetString(buffer, 0, length), _stopping.Token).ConfigureAwait(false);
        var cumulative = 0m;
        var now = _time.GetUtcNow();
        foreach (var trade in new RestResponseParser(_strings).ParseUserTrades(body).OrderBy(t => t.TradeId))
        {
            cumulative += trade.Quantity;
            Sink.OnFill(trade.ToFill(clientOrderId, cumulative, cumulative >= order.OriginalQuantity, now));
        }
    }

    private void ObserveHeaders(HttpResponseMessage response)
    {
        if (response.StatusCode is HttpStatusCode.TooManyRequests or (HttpStatusCode)418)
        {
            Interlocked.Increment(ref _rateLimitedResponses);
            RateGuard.Ban(RetryAfter(response));
            Diagnose($"rate limited by the exchange: HTTP {(int)response.StatusCode}");
        }

        RateGuard.Observe(Header(response, "X-MBX-ORDER-COUNT-10S"), Header(response, "X-MBX-ORDER-COUNT-1M"), Header(response, "X-MBX-USED-WEIGHT-1M"));
        ReportBudget();
    }

    /// <summary>
    /// Tells the chasers the budget when it changed enough to matter, and while it is short, schedules the next report
    /// for when the windows will have rolled far enough (or the ban ended) for it: chasers held back at a low budget
    /// send nothing, so no answer would ever come to re-report it, and the budget must recover on time alone.
    /// </summary>
    internal void ReportBudget(bool recheck = false)
    {
        lock (_budgetLock)
        {
            if (_budgetStopped)
            {
                return;
            }

            var budget = RateGuard.AvailableFraction();
            // Tell the chasers only about changes that matter (a few percent), not every request.
            var report = Math.Abs(budget - _lastBudget) >= BudgetReportStep || (budget == 0m) != (_lastBudget == 0m) || (budget == 1m && _lastBudget != 1m);
            if (report)
            {
                _lastBudget = budget;
                _sink?.OnRateBudget(budget);
            }
            else if (!recheck)
            {
                // The timer stays right between reports: more requests only ever delay the recovery it waits for.
                return;
            }

            if (_lastBudget >= 1m)
            {
                _budgetRecovery.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                return;
            }

            // One timer for the account, not a poll per chaser. At least a step, so that chasers waking from zero
            // find room for more than one request between them.
            var due = RateGuard.TimeUntilAvailable(Math.Min(1m, _lastBudget + BudgetReportStep));
            _budgetRecovery.Change(due > MinBudgetRecheck ? due : MinBudgetRecheck, Timeout.InfiniteTimeSpan);
        }
    }

    private const decimal BudgetReportStep = 0.05m;

    private static readonly TimeSpan MinBudgetRecheck = TimeSpan.FromMilliseconds(10);

    private static int? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    // Binance documents Retry-After for spot only; without it, wait a minute (the weight window).
    private TimeSpan RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta ?? (response.Headers.RetryAfter?.Date is { } date ? date - _time.GetUtcNow() : TimeSpan.FromSeconds(60));
}
