using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using Chaser.Binance.Parsing;
using Chaser.Binance.Rates;
using Chaser.Binance.Requests;
using Chaser.Binance.Signing;
using Chaser.Core.Chasing;
using Chaser.Core.Rules;

namespace Chaser.Binance.Rest;

/// <summary>Where and as whom a <see cref="BinanceRestClient"/> talks. Every address is configurable.</summary>
public sealed record BinanceRestOptions
{
    /// <summary>e.g. https://fapi.binance.com, a testnet, or the simulator on loopback.</summary>
    public required Uri BaseAddress { get; init; }

    /// <summary>Needed for signed and listenKey endpoints; public market data works without.</summary>
    public ApiKey? ApiKey { get; init; }

    public IRequestSigner? Signer { get; init; }

    public int RecvWindowMs { get; init; } = 5_000;

    /// <summary>Past this the request's outcome is unknown (orders) or failed (reads).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a call may wait for rate budget before it is refused locally.</summary>
    public TimeSpan MaxRateLimitWait { get; init; } = TimeSpan.FromSeconds(2);

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Binance USDⓈ-M REST over one <see cref="HttpClient"/> (SocketsHttpHandler, pooled connections). Every call goes
/// through the account's <see cref="RateLimitGovernor"/>, signed calls are stamped with the <see cref="ServerClock"/>
/// (resynced first when it is stale, e.g. after -1021), and every exchange-level answer comes back as a
/// <see cref="RestResult{T}"/>: success, rejected (code and kind), or outcome unknown.
/// </summary>
public sealed class BinanceRestClient : IDisposable
{
    private readonly BinanceRestOptions _options;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly RestResponseParser _parser;
    private readonly SemaphoreSlim _clockSync = new(1, 1);

    public BinanceRestClient(
        BinanceRestOptions options,
        RateLimitGovernor governor,
        ServerClock clock,
        Utf8StringCache strings,
        HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(governor);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(strings);
        _options = options;
        _time = options.Time;
        Governor = governor;
        Clock = clock;
        _parser = new RestResponseParser(strings);
        handler ??= new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AutomaticDecompression = DecompressionMethods.None,
            EnableMultipleHttp2Connections = true,
        };
        _http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = options.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan, // per request, below, so a timeout is told apart from cancellation
        };
    }

    public RateLimitGovernor Governor { get; }

    public ServerClock Clock { get; }

    public Task<RestResult<OrderResponse>> PlaceOrderAsync(NewOrder order, SymbolRules rules, CancellationToken cancellationToken = default) =>
        SignedAsync(BinanceEndpoint.PlaceOrder, (buffer, signing) => BinanceRequests.NewOrder(buffer, order, rules, signing), ParseOrder, cancellationToken);

    public Task<RestResult<OrderResponse>> ModifyOrderAsync(ModifyOrder modify, SymbolRules rules, CancellationToken cancellationToken = default) =>
        SignedAsync(BinanceEndpoint.ModifyOrder, (buffer, signing) => BinanceRequests.ModifyOrder(buffer, modify, rules, signing), ParseOrder, cancellationToken);

    public Task<RestResult<OrderResponse>> CancelOrderAsync(string symbol, string clientOrderId, CancellationToken cancellationToken = default) =>
        SignedAsync(BinanceEndpoint.CancelOrder, (buffer, signing) => BinanceRequests.CancelOrder(buffer, symbol, clientOrderId, signing), ParseOrder, cancellationToken);

    public Task<RestResult<OrderResponse>> QueryOrderAsync(string symbol, string clientOrderId, CancellationToken cancellationToken = default) =>
        SignedAsync(BinanceEndpoint.QueryOrder, (buffer, signing) => BinanceRequests.QueryOrder(buffer, symbol, clientOrderId, signing), ParseOrder, cancellationToken);

    public Task<RestResult<List<OrderResponse>>> OpenOrdersAsync(string? symbol, CancellationToken cancellationToken = default) =>
        SignedAsync(
            symbol is null ? BinanceEndpoint.OpenOrdersAllSymbols : BinanceEndpoint.OpenOrdersOneSymbol,
            (buffer, signing) => BinanceRequests.OpenOrders(buffer, symbol, signing),
            body => _parser.ParseOrders(body),
            cancellationToken);

    public Task<RestResult<List<UserTrade>>> UserTradesAsync(string symbol, long? orderId, long? fromTradeId = null, int limit = 500, CancellationToken cancellationToken = default) =>
        SignedAsync(
            BinanceEndpoint.UserTrades,
            (buffer, signing) => BinanceRequests.UserTrades(buffer, symbol, orderId, fromTradeId, limit, signing),
            body => _parser.ParseUserTrades(body),
            cancellationToken);

    /// <summary>Arms (or with 0 disarms) the exchange-side dead-man switch for a symbol.</summary>
    public Task<RestResult<bool>> CountdownCancelAllAsync(string symbol, long countdownMs, CancellationToken cancellationToken = default) =>
        SignedAsync(
            BinanceEndpoint.CountdownCancelAll,
            (buffer, signing) => BinanceRequests.CountdownCancelAll(buffer, symbol, countdownMs, signing),
            _ => true,
            cancellationToken);

    public Task<RestResult<string>> StartListenKeyAsync(CancellationToken cancellationToken = default) =>
        SendAsync(BinanceEndpoint.StartListenKey, string.Empty, body => RestResponseParser.ParseListenKey(body), cancellationToken);

    /// <summary>Extends the key by 60 minutes; a -1125 reject means it is gone and must be recreated.</summary>
    public Task<RestResult<bool>> KeepAliveListenKeyAsync(CancellationToken cancellationToken = default) =>
        SendAsync(BinanceEndpoint.KeepAliveListenKey, string.Empty, _ => true, cancellationToken);

    public Task<RestResult<bool>> CloseListenKeyAsync(CancellationToken cancellationToken = default) =>
        SendAsync(BinanceEndpoint.CloseListenKey, string.Empty, _ => true, cancellationToken);

    public Task<RestResult<ExchangeInfo>> ExchangeInfoAsync(CancellationToken cancellationToken = default) =>
        SendAsync(BinanceEndpoint.ExchangeInfo, string.Empty, body => RestResponseParser.ParseExchangeInfo(body), cancellationToken);

    public Task<RestResult<DepthSnapshot>> DepthAsync(string symbol, int limit = 1000, CancellationToken cancellationToken = default)
    {
        var query = string.Create(CultureInfo.InvariantCulture, $"symbol={Uri.EscapeDataString(symbol)}&limit={limit}");
        return SendAsync(BinanceEndpoint.Depth(limit), query, body => RestResponseParser.ParseDepthSnapshot(body), cancellationToken);
    }

    public Task<RestResult<long>> ServerTimeAsync(CancellationToken cancellationToken = default) =>
        SendAsync(BinanceEndpoint.ServerTime, string.Empty, body => RestResponseParser.ParseServerTime(body), cancellationToken);

    /// <summary>Resyncs the <see cref="ServerClock"/> (a few GET time samples). Throws when the exchange can't be reached.</summary>
    public async Task SyncClockAsync(int samples = 3, CancellationToken cancellationToken = default)
    {
        await Clock.SyncAsync(
            async token =>
            {
                var result = await ServerTimeAsync(token).ConfigureAwait(false);
                return result.IsSuccess
                    ? result.Value
                    : throw new HttpRequestException($"GET /fapi/v1/time failed: {result}");
            },
            samples,
            cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _http.Dispose();
        _clockSync.Dispose();
    }

    private delegate int QueryBuilder(Span<byte> buffer, SigningContext signing);

    private OrderResponse ParseOrder(byte[] body) => _parser.ParseOrder(body);

    private async Task<RestResult<T>> SignedAsync<T>(BinanceEndpoint endpoint, QueryBuilder build, Func<byte[], T> parse, CancellationToken cancellationToken)
    {
        var signer = _options.Signer ?? throw new InvalidOperationException($"{endpoint.Path} is signed: configure a signer");
        if (Clock.NeedsResync)
        {
            await ResyncClockOnceAsync(cancellationToken).ConfigureAwait(false);
        }

        string query;
        var buffer = ArrayPool<byte>.Shared.Rent(BinanceRequests.MaxQueryLength);
        try
        {
            var length = build(buffer, new SigningContext(signer, Clock.TimestampMs, _options.RecvWindowMs));
            query = Encoding.ASCII.GetString(buffer, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return await SendAsync(endpoint, query, parse, cancellationToken).ConfigureAwait(false);
    }

    private async Task ResyncClockOnceAsync(CancellationToken cancellationToken)
    {
        await _clockSync.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Clock.NeedsResync)
            {
                // A failed sync leaves the flag set and the old offset in use; the call itself then reports what happens.
                try
                {
                    await SyncClockAsync(1, cancellationToken).ConfigureAwait(false);
                }
                catch (HttpRequestException)
                {
                }
            }
        }
        finally
        {
            _clockSync.Release();
        }
    }

    private async Task<RestResult<T>> SendAsync<T>(BinanceEndpoint endpoint, string query, Func<byte[], T> parse, CancellationToken cancellationToken)
    {
        var permit = await Governor.AcquireAsync(endpoint.Weight, endpoint.OrderCount, _options.MaxRateLimitWait, cancellationToken).ConfigureAwait(false);
        if (!permit.Granted)
        {
            return RestResult.Rejected<T>(new BinanceError(LocalRejects.RateLimitedLocally, $"not sent: {permit}", 0, RejectKind.Retryable));
        }

        using var request = new HttpRequestMessage(ToHttpMethod(endpoint.Method), query.Length == 0 ? endpoint.Path : endpoint.Path + "?" + query);
        if (endpoint.Security != SecurityType.None)
        {
            var key = _options.ApiKey ?? throw new InvalidOperationException($"{endpoint.Path} needs an API key");
            request.Headers.TryAddWithoutValidation("X-MBX-APIKEY", key.Value);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        var sentAt = _time.GetUtcNow();
        HttpResponseMessage response;
        byte[] body;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
            body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return RestResult.Unknown<T>($"{endpoint.Method} {endpoint.Path}: no answer within {_options.RequestTimeout.TotalMilliseconds} ms");
        }
        catch (HttpRequestException e)
        {
            // The connection failed during or after sending: the exchange may have the request.
            return RestResult.Unknown<T>($"{endpoint.Method} {endpoint.Path}: {e.HttpRequestError} ({e.Message})");
        }

        using (response)
        {
            Governor.ObserveUsage(sentAt, response.Headers);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                try
                {
                    return RestResult.Success(parse(body));
                }
                catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
                {
                    // A 2xx we can't read: it was executed, but we don't know the details.
                    return RestResult.Unknown<T>($"{endpoint.Method} {endpoint.Path}: unreadable 2xx answer ({e.Message})");
                }
            }

            var hasBody = RestResponseParser.TryParseError(body, status, out var error);
            if (!hasBody)
            {
                error = new BinanceError(0, $"HTTP {status} {response.ReasonPhrase}", status, BinanceRejects.Classify(0, status));
            }

            if (status is 429 or 418 || error.Code == -1015)
            {
                Governor.ObserveRateLimited(status, hasBody ? error.Code : null, RetryAfter(response));
            }

            if (error.Code == -1021)
            {
                Clock.MarkNeedsResync();
            }

            return IsOutcomeUnknown(status, error, body)
                ? RestResult.Unknown<T>($"{endpoint.Method} {endpoint.Path}: {error}", error)
                : RestResult.Rejected<T>(error);
        }
    }

    /// <summary>
    /// API notes §4 and §12: 503 "Unknown error…" and -1007 mean the execution status is unknown; so do 408 and any
    /// other 5xx, except 503 "Service Unavailable", which means the request failed.
    /// </summary>
    private static bool IsOutcomeUnknown(int status, BinanceError error, byte[] body)
    {
        if (error.Code == -1007)
        {
            return true;
        }

        if (status == 503)
        {
            var text = error.Message.Length > 0 ? error.Message : Encoding.UTF8.GetString(body);
            return !text.Contains("Service Unavailable", StringComparison.OrdinalIgnoreCase);
        }

        return status == 408 || status >= 500;
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retry = response.Headers.RetryAfter;
        if (retry?.Delta is { } delta)
        {
            return delta;
        }

        return retry?.Date is { } date ? date - _time.GetUtcNow() : null;
    }

    private static HttpMethod ToHttpMethod(RestMethod method) => method switch
    {
        RestMethod.Post => HttpMethod.Post,
        RestMethod.Put => HttpMethod.Put,
        RestMethod.Delete => HttpMethod.Delete,
        _ => HttpMethod.Get,
    };
}
