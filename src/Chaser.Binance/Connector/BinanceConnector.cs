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
/// clock sync, the user data stream and combined market streams. The same code talks to Binance, its demo trading and
/// testnet, and the simulator; only the base URLs and keys differ. Every REST call and every order request, over REST
/// or the WebSocket API, goes through the one <see cref="OrderRateGuard"/>, and every signed one is stamped by the one
/// <see cref="ServerClock"/>.
/// </summary>
public sealed class BinanceConnector : IExchangeConnector, IExchangeHistory, IDeadManSwitch
{
    private readonly BinanceConnectorOptions _options;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly Utf8StringCache _strings = new();

    // The parser of every order request's answer (one per request; it keeps nothing but the shared string cache).
    private readonly RestResponseParser _answers;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _exchangeInfoLock = new();
    private Task<ExchangeInfo>? _exchangeInfo;
    private IExchangeEventSink? _sink;
    private UserStream? _userStream;
    private MarketStream? _marketStream;
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
        Clock = new ServerClock(_time);
        _answers = new RestResponseParser(_strings);
        RateGuard = new OrderRateGuard(_time, clock: Clock);
        _budgetRecovery = _time.CreateTimer(_ => ReportBudget(recheck: true), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var handler = options.HttpHandler ?? new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AutomaticDecompression = DecompressionMethods.None,
        };
        _http = new HttpClient(handler) { BaseAddress = options.RestBaseUrl, Timeout = options.RequestTimeout };
        _http.DefaultRequestHeaders.Add("X-MBX-APIKEY", options.ApiKey.Value);
    }

    public OrderRateGuard RateGuard { get; }

    /// <summary>The exchange's clock as we estimate it: the timestamps we sign and the rate windows we count in.</summary>
    public ServerClock Clock { get; }

    /// <summary>How many 429 / 418 answers the exchange gave us: a rate-limit breach, which must stay at zero.</summary>
    public int RateLimitedResponses => Volatile.Read(ref _rateLimitedResponses);

    /// <summary>Server time minus local time, in milliseconds, from the last clock sync.</summary>
    public long ClockOffsetMs => Clock.OffsetMs;

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

    /// <summary>Whether the WebSocket API connection is authenticated by <c>session.logon</c> (Ed25519 keys): its orders go unsigned.</summary>
    public bool WebSocketLoggedOn => _wsApi?.IsLoggedOn ?? false;

    /// <summary>Why the WebSocket API's last <c>session.logon</c> was refused (the exchange's code and message), null when it was not.</summary>
    public string? WebSocketLogonFailure => _wsApi?.LogonFailure;

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
            Sink.OnInput(ChaserInput.OfBook(symbol, RestResponseParser.ParseBookTicker(body), received));
        }
    }

    public Submission Submit(in OrderRequest request)
    {
        var command = request.Command;
        var endpoint = EndpointOf(request);

        if (!RateGuard.TryAcquire(endpoint.OrderCount, endpoint.Weight, out var refusal, claimant: request.Symbol))
        {
            // Never send what would breach a limit: the chaser backs off as after the exchange's own -1015.
            if (command.Kind != ChaserCommandKind.Query)
            {
                Sink.OnInput(ChaserInput.OfRejected(new OrderRejected(command.ClientOrderId, ToRequestKind(command.Kind), RejectKind.Retryable, -1015, refusal, _time.GetUtcNow())));
            }

            ReportBudget();
            return Submission.Refused;
        }

        // Over the WebSocket API the frame is built, signed and handed to the socket in one go, stamped at the hand-off.
        if (command.Kind != ChaserCommandKind.Query && _wsApi is { IsUp: true } wsApi && wsApi.TrySend(request, Timestamp(), out var handedOff))
        {
            return Submission.HandedOffAt(handedOff);
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
        return Submission.HandedOffAt(sentAt);
    }

    /// <summary>
    /// The WebSocket API path of <see cref="Submit"/> without the send: the rate guard asked as a real request would ask
    /// it (nothing taken), the frame written, signed or not, into a pooled buffer as a real one, then dropped. Nothing
    /// reaches the socket, no id or pending answer is taken, no budget is reported.
    /// </summary>
    public void Rehearse(in OrderRequest request)
    {
        var endpoint = EndpointOf(request);
        RateGuard.Rehearse(endpoint.OrderCount, endpoint.Weight, request.Symbol);
        if (request.Command.Kind != ChaserCommandKind.Query && _wsApi is { IsUp: true } wsApi)
        {
            wsApi.Rehearse(request, Timestamp());
        }
    }

    private static BinanceEndpoint EndpointOf(in OrderRequest request) => request.Command.Kind switch
    {
        ChaserCommandKind.Place => BinanceEndpoint.PlaceOrder,
        ChaserCommandKind.Modify => BinanceEndpoint.ModifyOrder,
        ChaserCommandKind.Cancel => BinanceEndpoint.CancelOrder,
        ChaserCommandKind.Query => BinanceEndpoint.QueryOrder,
        _ => throw new ArgumentOutOfRangeException(nameof(request), request.Command.Kind, "not a request"),
    };

    /// <summary>The children of one parent order of ours (client ids <c>chs-&lt;tag&gt;-&lt;parent&gt;-…</c>) since a time, each with its trades.</summary>
    public async Task<IReadOnlyList<ChildHistory>> GetChildHistoryAsync(string symbol, string clientIdTag, long parentId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var body = await CallAsync(BinanceEndpoint.AllOrders, Signed((b, s) => BinanceRequests.AllOrders(b, symbol, since.ToUnixTimeMilliseconds(), 1000, s)), cancellationToken).ConfigureAwait(false);
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
                var orderId = order.OrderId;
                var trades = await CallAsync(BinanceEndpoint.UserTrades, Signed((b, s) => BinanceRequests.UserTrades(b, symbol, orderId, fromTradeId: null, limit: 1000, s)), cancellationToken).ConfigureAwait(false);
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
        var countdownMs = (long)countdown.TotalMilliseconds;
        await CallAsync(BinanceEndpoint.CountdownCancelAll, Signed((b, s) => BinanceRequests.CountdownCancelAll(b, symbol, countdownMs, s)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cancels every open order of ours (client id <c>chs-&lt;tag&gt;-…</c>) on a symbol; other orders of the account, another instance's included, are left alone.</summary>
    public async Task CancelAllAsync(string symbol, string clientIdTag, CancellationToken cancellationToken)
    {
        var body = await CallAsync(BinanceEndpoint.OpenOrdersOneSymbol, Signed((b, s) => BinanceRequests.OpenOrders(b, symbol, s)), cancellationToken).ConfigureAwait(false);
        foreach (var order in new RestResponseParser(_strings).ParseOrders(body))
        {
            if (!ClientOrderIds.IsOurs(order.ClientOrderId, clientIdTag, out _))
            {
                continue;
            }

            // Once: a cancel that failed is found open again by the next sweep.
            var clientOrderId = order.ClientOrderId;
            await SendOnceAsync(BinanceEndpoint.CancelOrder, Signed((b, s) => BinanceRequests.CancelOrder(b, symbol, clientOrderId, s)), cancellationToken).ConfigureAwait(false);
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
    /// jittered backoff before giving up; a 4xx or a 418 ban is not. Each attempt first waits for the rate guard — a
    /// full window until it resets, a 429's pause until its Retry-After — so a retry never lands in a pause.
    /// </summary>
    internal Task<byte[]> CallAsync(HttpMethod method, string pathAndQuery, CancellationToken cancellationToken)
    {
        var at = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var path = at < 0 ? pathAndQuery : pathAndQuery[..at];
        var query = at < 0 ? null : pathAndQuery[(at + 1)..];
        return CallAsync(EndpointOf(method, path, query), query is null ? null : () => query, cancellationToken);
    }

    /// <summary>As above for a known endpoint; <paramref name="query"/> is built for each attempt, so a signed one carries a fresh timestamp.</summary>
    private async Task<byte[]> CallAsync(BinanceEndpoint endpoint, Func<string>? query, CancellationToken cancellationToken, bool deferrable = false)
    {
        const int attempts = 5;
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan wait;
            try
            {
                var (status, body) = await SendOnceAsync(endpoint, query, cancellationToken, deferrable).ConfigureAwait(false);
                if (status is >= 200 and < 300)
                {
                    return body;
                }

                var retryable = status >= 500 || status == 429;
                if (!retryable || attempt == attempts)
                {
                    throw new HttpRequestException($"{endpoint.Method.ToString().ToUpperInvariant()} {endpoint.Path} failed: {Describe(body, status)}", null, (HttpStatusCode)status);
                }

                // After a 429 the guard holds every request until Retry-After (or the window's reset): the next attempt waits for that.
                wait = status == 429 ? TimeSpan.Zero : Backoff.Jittered(attempt, TimeSpan.FromSeconds(2));
                Diagnose($"{endpoint.Method.ToString().ToUpperInvariant()} {endpoint.Path}: HTTP {status}, retrying ({attempt}/{attempts})");
            }
            catch (HttpRequestException ex) when (ex.StatusCode is null && attempt < attempts && !cancellationToken.IsCancellationRequested)
            {
                // No answer at all (connection refused or reset): the call can be repeated.
                wait = Backoff.Jittered(attempt, TimeSpan.FromSeconds(2));
                Diagnose($"{endpoint.Method.ToString().ToUpperInvariant()} {endpoint.Path}: {ex.Message}, retrying in {wait.TotalMilliseconds:0} ms ({attempt}/{attempts})");
            }

            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One request, once the rate guard lets it go; its answer's counts and pauses are taken in.</summary>
    private async Task<(int Status, byte[] Body)> SendOnceAsync(BinanceEndpoint endpoint, Func<string>? query, CancellationToken cancellationToken, bool deferrable = false)
    {
        await AcquireAsync(endpoint, deferrable, cancellationToken).ConfigureAwait(false);
        using var message = new HttpRequestMessage(ToHttpMethod(endpoint.Method), new Uri(query is null ? endpoint.Path : endpoint.Path + "?" + query(), UriKind.Relative));
        var sentAt = _time.GetUtcNow();
        using var response = await _http.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        ObserveResponse(response, body, sentAt);
        return ((int)response.StatusCode, body);
    }

    /// <summary>
    /// Waits until the guard grants the request's weight and order count. A wait longer than
    /// <see cref="MaxRateLimitWait"/> (an IP ban) fails the call with the reason instead: it has a status, so callers
    /// don't take it for a dropped connection and retry.
    /// </summary>
    private async Task AcquireAsync(BinanceEndpoint endpoint, bool deferrable, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + MaxRateLimitWait;
        string? refusal;
        while (!RateGuard.TryAcquire(endpoint.OrderCount, endpoint.Weight, out refusal, deferrable))
        {
            var wait = RateGuard.TimeUntilAcquirable(endpoint.OrderCount, endpoint.Weight, deferrable);
            if (wait == TimeSpan.MaxValue || _time.GetUtcNow() + wait > deadline)
            {
                throw new HttpRequestException($"{endpoint.Method.ToString().ToUpperInvariant()} {endpoint.Path} {refusal}", null, HttpStatusCode.TooManyRequests);
            }

            ReportBudget();
            await Task.Delay(wait > MinBudgetRecheck ? wait : MinBudgetRecheck, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The longest a call outside the hot path waits for budget: a minute window's reset, with margin.</summary>
    private static readonly TimeSpan MaxRateLimitWait = TimeSpan.FromSeconds(65);

    /// <summary>A signed query, built when sent: timestamp from the server clock.</summary>
    private Func<string> Signed(Func<Span<byte>, SigningContext, int> build) => () =>
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BinanceRequests.MaxQueryLength);
        try
        {
            var length = build(buffer, new SigningContext(_options.Signer, Timestamp(), _options.RecvWindowMs));
            return Encoding.ASCII.GetString(buffer, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    };

    /// <summary>What a call given by path costs: the endpoint of that method and path (depth by its limit), else weight 1.</summary>
    private static BinanceEndpoint EndpointOf(HttpMethod method, string path, string? query)
    {
        if (path == "/fapi/v1/depth")
        {
            var limit = query?.Split('&').Select(p => p.Split('=')).FirstOrDefault(p => p.Length == 2 && p[0] == "limit")?[1];
            return BinanceEndpoint.Depth(int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var levels) ? levels : 500);
        }

        return KnownEndpoints.FirstOrDefault(e => e.Path == path && ToHttpMethod(e.Method) == method)
            ?? new BinanceEndpoint(ToRestMethod(method), path, SecurityType.None, 1, 0);
    }

    private static readonly BinanceEndpoint[] KnownEndpoints =
    [
        BinanceEndpoint.StartListenKey, BinanceEndpoint.KeepAliveListenKey, BinanceEndpoint.CloseListenKey,
        BinanceEndpoint.ExchangeInfo, BinanceEndpoint.ServerTime, BinanceEndpoint.BookTickerOneSymbol,
        BinanceEndpoint.AllOrders, BinanceEndpoint.UserTrades, BinanceEndpoint.CountdownCancelAll, BinanceEndpoint.CancelOrder, BinanceEndpoint.QueryOrder,
    ];

    /// <summary>
    /// The REST depth snapshot a local book synchronises onto (1000 levels, as Binance's procedure asks). It can wait
    /// (the chasers price off bookTicker meanwhile), so it leaves the guard's share for order entry untouched.
    /// </summary>
    private Task<byte[]> FetchDepthSnapshotAsync(string symbol, CancellationToken cancellationToken) =>
        CallAsync(BinanceEndpoint.Depth(1000), () => "symbol=" + symbol + "&limit=1000", cancellationToken, deferrable: true);

    /// <summary>A request whose fate can't be known (its connection dropped): the chaser confirms by query.</summary>
    internal void ReportUnknown(string clientOrderId, ChaserCommandKind kind) =>
        Sink.OnInput(ChaserInput.OfUnknown(new RequestOutcomeUnknown(clientOrderId, ToRequestKind(kind), _time.GetUtcNow())));

    internal void Diagnose(string message) => _options.Diagnostics?.Invoke(message);

    private IExchangeEventSink Sink => _sink ?? throw new InvalidOperationException("connect first");

    /// <summary>Where events go without <see cref="ConnectAsync"/>: tests that drive the REST side with no streams.</summary>
    internal void UseSink(IExchangeEventSink sink) => _sink = sink;

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

    private static RestMethod ToRestMethod(HttpMethod method) =>
        method == HttpMethod.Post ? RestMethod.Post : method == HttpMethod.Put ? RestMethod.Put : method == HttpMethod.Delete ? RestMethod.Delete : RestMethod.Get;

    private long Timestamp() => Clock.TimestampMs;

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
        var body = await CallAsync(BinanceEndpoint.ExchangeInfo, null, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// The server clock from a few GET time samples (the shortest round trip wins), read so that our timestamps err
    /// behind the server's, never more than 1 s ahead of it (API notes §5; <see cref="ServerClock"/>).
    /// </summary>
    private Task SyncClockAsync(CancellationToken cancellationToken) => SyncClockAsync(ClockSamples, cancellationToken);

    private Task SyncClockAsync(int samples, CancellationToken cancellationToken) =>
        Clock.SyncAsync(async token => RestResponseParser.ParseServerTime(await CallAsync(BinanceEndpoint.ServerTime, null, token).ConfigureAwait(false)), samples, cancellationToken);

    private const int ClockSamples = 3;

    /// <summary>After a -1021 (timestamp outside recvWindow): one sync, off the hot path; the chaser retries the request.</summary>
    private void ResyncClockInBackground()
    {
        Clock.MarkNeedsResync();
        if (Interlocked.Exchange(ref _clockResyncing, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await SyncClockAsync(1, _stopping.Token).ConfigureAwait(false);
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
        var sentAt = _time.GetUtcNow();
        try
        {
            response = await _http.SendAsync(message, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Sent or not, we can't tell: the chaser queries before doing anything else with this child.
            message.Dispose();
            Diagnose($"{kind} {clientOrderId}: outcome unknown ({e.GetType().Name})");
            Sink.OnInput(ChaserInput.OfUnknown(new RequestOutcomeUnknown(clientOrderId, request, _time.GetUtcNow())));
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
                Sink.OnInput(ChaserInput.OfUnknown(new RequestOutcomeUnknown(clientOrderId, request, _time.GetUtcNow())));
                return;
            }

            var received = _time.GetTimestamp();
            ObserveResponse(response, body, sentAt);
            HandleOrderAnswer(body, (int)response.StatusCode, kind, clientOrderId, received, rateLimitObserved: true);
        }
    }

    /// <summary>
    /// What an answer to a place / modify / cancel means for the chaser, whichever way it came (REST or the
    /// WebSocket API): accepted, finished, rejected, or an unknown outcome that must be confirmed by a query. A rate-limit
    /// answer pauses the guard whichever way it came (the REST path has done so with the response's Retry-After).
    /// <paramref name="receivedTimestamp"/>: when the answer's bytes were read, what its input is stamped with (0: when it reaches the engine).
    /// </summary>
    internal void HandleOrderAnswer(ReadOnlySpan<byte> body, int status, ChaserCommandKind kind, string clientOrderId, long receivedTimestamp = 0, bool rateLimitObserved = false)
    {
        var request = ToRequestKind(kind);
        var now = _time.GetUtcNow();
        if (!rateLimitObserved && status is not (>= 200 and < 300))
        {
            ObserveRateLimited(status, body, retryAfter: null);
            ReportBudget();
        }

        if (status is >= 200 and < 300)
        {
            var order = _answers.ParseOrder(body);
            var final = order.Status is BinanceOrderStatus.Canceled or BinanceOrderStatus.Expired or BinanceOrderStatus.Filled or BinanceOrderStatus.ExpiredInMatch;
            if (kind == ChaserCommandKind.Place && order.Status is BinanceOrderStatus.Expired or BinanceOrderStatus.ExpiredInMatch)
            {
                // The pre-2023 way of refusing a post-only order that would cross: accepted, then expired.
                Sink.OnInput(ChaserInput.OfRejected(new OrderRejected(clientOrderId, request, RejectKind.PostOnlyWouldCross, -5022, "post-only order expired", now)).ReceivedAt(receivedTimestamp));
            }
            else if (kind == ChaserCommandKind.Cancel || final)
            {
                Sink.OnInput(ChaserInput.OfFinished(new OrderFinished(clientOrderId, order.Status.ToCore(), order.ExecutedQuantity, JsonRead.Time(order.UpdateTimeMs), now)).ReceivedAt(receivedTimestamp));
            }
            else
            {
                Sink.OnInput(ChaserInput.OfAccepted(order.ToAccepted(kind == ChaserCommandKind.Modify, now)).ReceivedAt(receivedTimestamp));
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

        // -1007, 408 and a 5xx: the exchange may or may not have executed it, so the chaser queries before acting
        // again. Only 503 "Service Unavailable." is a stated failure (API notes §4); a gateway's 502 / 504 or a 500
        // says nothing of the order, and taking it for a reject would leave a live order the chaser has forgotten.
        var unknown = error.Code == -1007 || status == 408
            || (status >= 500 && !(status == 503 && error.Message.Contains("Service Unavailable", StringComparison.OrdinalIgnoreCase)));
        if (unknown)
        {
            Sink.OnInput(ChaserInput.OfUnknown(new RequestOutcomeUnknown(clientOrderId, request, now)).ReceivedAt(receivedTimestamp));
            return;
        }

        Sink.OnInput(ChaserInput.OfRejected(new OrderRejected(clientOrderId, request, BinanceRejects.Classify(error.Code, status), error.Code, error.Message, now)).ReceivedAt(receivedTimestamp));
    }

    /// <summary>GET order, then its trades (fed as fills, which the chaser counts once), then its status.</summary>
    private async Task QueryAsync(HttpRequestMessage message, string symbol, string clientOrderId)
    {
        try
        {
            OrderResponse order;
            var sentAt = _time.GetUtcNow();
            using (message)
            using (var response = await _http.SendAsync(message, _stopping.Token).ConfigureAwait(false))
            {
                var body = await response.Content.ReadAsByteArrayAsync(_stopping.Token).ConfigureAwait(false);
                ObserveResponse(response, body, sentAt);
                if (!response.IsSuccessStatusCode)
                {
                    if (RestResponseParser.TryParseError(body, (int)response.StatusCode, out var error) && error.Code == -2013)
                    {
                        Sink.OnInput(ChaserInput.OfStatus(new OrderStatusReport(clientOrderId, false, ExchangeOrderStatus.New, 0m, 0m, 0m, _time.GetUtcNow())));
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

            Sink.OnInput(ChaserInput.OfStatus(order.ToStatusReport(_time.GetUtcNow())));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FormatException)
        {
            // The chaser asks again after its query retry interval.
            Diagnose($"query {clientOrderId} failed: {e.Message}");
        }
    }

    private async Task FeedTradesAsync(string symbol, string clientOrderId, OrderResponse order)
    {
        var orderId = order.OrderId;
        var body = await CallAsync(BinanceEndpoint.UserTrades, Signed((b, s) => BinanceRequests.UserTrades(b, symbol, orderId, fromTradeId: null, limit: 1000, s)), _stopping.Token).ConfigureAwait(false);
        var cumulative = 0m;
        var now = _time.GetUtcNow();
        foreach (var trade in new RestResponseParser(_strings).ParseUserTrades(body).OrderBy(t => t.TradeId))
        {
            cumulative += trade.Quantity;
            Sink.OnInput(ChaserInput.OfFill(trade.ToFill(clientOrderId, cumulative, cumulative >= order.OriginalQuantity, now)));
        }
    }

    /// <summary>
    /// A REST answer's rate-limit news: the usage headers (API notes §4: <c>X-MBX-USED-WEIGHT-1M</c>,
    /// <c>X-MBX-ORDER-COUNT-10S|1M</c>, for the window the request was sent in) and a 429 / 418 / -1015 with its Retry-After.
    /// </summary>
    private void ObserveResponse(HttpResponseMessage response, ReadOnlySpan<byte> body, DateTimeOffset sentAt)
    {
        RateGuard.Observe(Header(response, "X-MBX-ORDER-COUNT-10S"), Header(response, "X-MBX-ORDER-COUNT-1M"), Header(response, "X-MBX-USED-WEIGHT-1M"), sentAt);
        if (!response.IsSuccessStatusCode)
        {
            ObserveRateLimited((int)response.StatusCode, body, RetryAfter(response));
        }

        ReportBudget();
    }

    private void ObserveRateLimited(int status, ReadOnlySpan<byte> body, TimeSpan? retryAfter)
    {
        var parsed = RestResponseParser.TryParseError(body, status, out var error);
        if (status is not (429 or 418) && !(parsed && error.Code == -1015))
        {
            return;
        }

        if (status is 429 or 418)
        {
            Interlocked.Increment(ref _rateLimitedResponses);
        }

        var paused = RateGuard.ObserveRateLimited(status, parsed ? error.Code : null, parsed ? error.Message : null, retryAfter);
        Diagnose($"rate limited by the exchange: HTTP {status}{(parsed ? $" ({error.Code})" : string.Empty)}; {paused}");
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
                _sink?.OnInput(ChaserInput.OfRateBudget(budget));
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
            // At most an hour ahead (a timer can't be set years out, which a garbled ban end could ask): it re-checks then.
            var due = RateGuard.TimeUntilAvailable(Math.Min(1m, _lastBudget + BudgetReportStep));
            _budgetRecovery.Change(due < MinBudgetRecheck ? MinBudgetRecheck : due > MaxBudgetRecheck ? MaxBudgetRecheck : due, Timeout.InfiniteTimeSpan);
        }
    }

    private const decimal BudgetReportStep = 0.05m;

    private static readonly TimeSpan MinBudgetRecheck = TimeSpan.FromMilliseconds(10);

    private static readonly TimeSpan MaxBudgetRecheck = TimeSpan.FromHours(1);

    private static int? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    // Binance documents Retry-After for spot only (API notes §4): without it the guard waits for the broken window's reset.
    private TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta ?? (response.Headers.RetryAfter?.Date is { } date ? date - _time.GetUtcNow() : null);
}
