using System.Net;
using System.Security.Cryptography;
using System.Text;
using Chaser.Binance.Parsing;
using Chaser.Binance.Rates;
using Chaser.Binance.Requests;
using Chaser.Binance.Rest;
using Chaser.Binance.Signing;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Rules;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Binance.Tests;

public sealed class BinanceRestClientTests : IDisposable
{
    private const string SecretText = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly SymbolRules Btc = new() { Symbol = "BTCUSDT", TickSize = 0.1m, StepSize = 0.001m };
    private static readonly NewOrder PostOnly = new("BTCUSDT", Side.Buy, ChildOrderType.PostOnly, 65000.1m, 0.01m, "chs-42-1");

    private readonly FakeTimeProvider _time = new(Start);
    private readonly ScriptedHandler _handler = new();
    private readonly RateLimitGovernor _governor;
    private readonly ServerClock _clock;
    private readonly BinanceRestClient _client;

    public BinanceRestClientTests()
    {
        _governor = new RateLimitGovernor(RateLimit.Defaults, _time, 1m);
        _clock = new ServerClock(_time);
        _clock.Observe(Start, Start, Start.ToUnixTimeMilliseconds() + 250);
        _client = new BinanceRestClient(
            new BinanceRestOptions
            {
                BaseAddress = new Uri("http://exchange.test"),
                ApiKey = new ApiKey("dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"),
                Signer = new HmacSha256Signer(Secret.FromText(SecretText)),
                Time = _time,
                RequestTimeout = TimeSpan.FromSeconds(1),
            },
            _governor,
            _clock,
            new Utf8StringCache(),
            _handler);
    }

    public void Dispose() => _client.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Place_sends_a_signed_post_with_the_api_key_and_returns_the_order()
    {
        _handler.Respond(HttpStatusCode.OK, Encoding.UTF8.GetString(Payload.Bytes("order-response.json")), ("X-MBX-ORDER-COUNT-10S", "1"));

        var result = await _client.PlaceOrderAsync(PostOnly, Btc, Token);

        Assert.Equal(RestOutcome.Success, result.Outcome);
        Assert.Equal(22542179, result.Value.OrderId);
        var request = Assert.Single(_handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/fapi/v1/order", request.Path);
        Assert.Equal("dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83", request.ApiKey);
        var at = request.Query.IndexOf("&signature=", StringComparison.Ordinal);
        var signed = request.Query[..at];
        Assert.Contains($"timestamp={Start.ToUnixTimeMilliseconds() + 250}", signed, StringComparison.Ordinal);
        Assert.Contains("recvWindow=5000", signed, StringComparison.Ordinal);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.ASCII.GetBytes(SecretText), Encoding.ASCII.GetBytes(signed)));
        Assert.Equal(expected, request.Query[(at + 11)..]);
    }

    [Fact]
    public async Task Post_only_reject_is_a_value_not_an_exception()
    {
        _handler.Respond(HttpStatusCode.BadRequest, Encoding.UTF8.GetString(Payload.Bytes("error-post-only.json")));

        var result = await _client.PlaceOrderAsync(PostOnly, Btc, Token);

        Assert.Equal(RestOutcome.Rejected, result.Outcome);
        Assert.Equal((-5022, RejectKind.PostOnlyWouldCross), (result.Error.Code, result.RejectKind));
    }

    [Theory]
    [InlineData(503, """{"code":-1000,"msg":"Unknown error, please check your request or try again later."}""", RestOutcome.OutcomeUnknown)]
    [InlineData(503, """{"code":-1001,"msg":"Service Unavailable."}""", RestOutcome.Rejected)]
    [InlineData(400, """{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}""", RestOutcome.OutcomeUnknown)]
    [InlineData(408, "", RestOutcome.OutcomeUnknown)]
    [InlineData(502, "<html>bad gateway</html>", RestOutcome.OutcomeUnknown)]
    [InlineData(403, "<html>WAF</html>", RestOutcome.Rejected)]
    [InlineData(400, """{"code":-2011,"msg":"Unknown order sent."}""", RestOutcome.Rejected)]
    public async Task Http_answers_map_to_typed_outcomes(int status, string body, RestOutcome expected)
    {
        _handler.Respond((HttpStatusCode)status, body);

        var result = await _client.CancelOrderAsync("BTCUSDT", "chs-42-1", Token);

        Assert.Equal(expected, result.Outcome);
    }

    [Fact]
    public async Task Connection_failure_after_sending_is_an_unknown_outcome()
    {
        _handler.Fail(new HttpRequestException(HttpRequestError.ConnectionError, "connection reset"));

        var result = await _client.PlaceOrderAsync(PostOnly, Btc, Token);

        Assert.Equal(RestOutcome.OutcomeUnknown, result.Outcome);
        Assert.Contains("ConnectionError", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_answer_within_the_timeout_is_an_unknown_outcome()
    {
        _handler.Hang();

        var result = await _client.PlaceOrderAsync(PostOnly, Btc, Token);

        Assert.Equal(RestOutcome.OutcomeUnknown, result.Outcome);
        Assert.Contains("no answer", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Caller_cancellation_throws()
    {
        _handler.Hang();
        using var cancel = new CancellationTokenSource();
        var call = _client.PlaceOrderAsync(PostOnly, Btc, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task Timestamp_rejection_resyncs_the_clock_before_the_next_signed_call()
    {
        _handler.Respond(HttpStatusCode.BadRequest, """{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}""");
        _handler.Respond(HttpStatusCode.OK, $$"""{"serverTime":{{Start.ToUnixTimeMilliseconds() + 4000}}}""");
        _handler.Respond(HttpStatusCode.OK, Encoding.UTF8.GetString(Payload.Bytes("order-response.json")));

        var rejected = await _client.PlaceOrderAsync(PostOnly, Btc, Token);
        Assert.Equal((RestOutcome.Rejected, RejectKind.Retryable), (rejected.Outcome, rejected.RejectKind));
        Assert.True(_clock.NeedsResync);

        var retried = await _client.PlaceOrderAsync(PostOnly, Btc, Token);

        Assert.True(retried.IsSuccess);
        Assert.Equal(["/fapi/v1/order", "/fapi/v1/time", "/fapi/v1/order"], _handler.Requests.Select(r => r.Path));
        Assert.Equal(4000, _clock.OffsetMs);
        Assert.Contains($"timestamp={Start.ToUnixTimeMilliseconds() + 4000}&", _handler.Requests[2].Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_429_with_retry_after_stops_further_requests_locally()
    {
        _handler.Respond(HttpStatusCode.TooManyRequests, """{"code":-1003,"msg":"Too many requests."}""", ("Retry-After", "60"));

        var first = await _client.CancelOrderAsync("BTCUSDT", "chs-42-1", Token);
        var second = await _client.CancelOrderAsync("BTCUSDT", "chs-42-1", Token);

        Assert.Equal((RestOutcome.Rejected, RejectKind.Retryable), (first.Outcome, first.RejectKind));
        Assert.Equal(RestOutcome.Rejected, second.Outcome);
        Assert.Equal(LocalRejects.RateLimitedLocally, second.Error.Code);
        Assert.Contains("429", second.Error.Message, StringComparison.Ordinal);
        Assert.Single(_handler.Requests);
    }

    [Fact]
    public async Task Usage_headers_feed_the_governor()
    {
        _handler.Respond(HttpStatusCode.OK, """[]""", ("X-MBX-USED-WEIGHT-1M", "2000"));

        var result = await _client.OpenOrdersAsync("BTCUSDT", Token);

        Assert.True(result.IsSuccess);
        Assert.Equal(1m - (2000m / 2400m), _governor.AvailableFraction);
    }

    [Fact]
    public async Task Public_endpoints_send_no_key_and_no_signature()
    {
        _handler.Respond(HttpStatusCode.OK, Encoding.UTF8.GetString(Payload.Bytes("depth-snapshot.json")));

        var result = await _client.DepthAsync("BTCUSDT", 1000, Token);

        Assert.True(result.IsSuccess);
        Assert.Equal(1027024, result.Value!.LastUpdateId);
        var request = Assert.Single(_handler.Requests);
        Assert.Equal(("/fapi/v1/depth", "symbol=BTCUSDT&limit=1000", (string?)null), (request.Path, request.Query, request.ApiKey));
    }

    [Fact]
    public async Task Listen_key_calls_send_the_key_without_signing()
    {
        _handler.Respond(HttpStatusCode.OK, """{"listenKey":"abc123"}""");

        var result = await _client.StartListenKeyAsync(Token);

        Assert.Equal("abc123", result.Value);
        var request = Assert.Single(_handler.Requests);
        Assert.Equal((HttpMethod.Post, "", true), (request.Method, request.Query, request.ApiKey is not null));
    }

    [Fact]
    public void Secrets_do_not_leak_through_the_client_options()
    {
        var options = new BinanceRestOptions
        {
            BaseAddress = new Uri("http://exchange.test"),
            ApiKey = new ApiKey("dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"),
            Signer = new HmacSha256Signer(Secret.FromText(SecretText)),
        };

        var text = options.ToString();

        Assert.DoesNotContain(SecretText, text, StringComparison.Ordinal);
        Assert.DoesNotContain("dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83", text, StringComparison.Ordinal);
    }

    private sealed record SeenRequest(HttpMethod Method, string Path, string Query, string? ApiKey);

    /// <summary>Answers requests from a script, in order, and records what was sent.</summary>
    private sealed class ScriptedHandler : HttpMessageHandler
    {
        private readonly Queue<Func<CancellationToken, Task<HttpResponseMessage>>> _script = new();

        public List<SeenRequest> Requests { get; } = [];

        public void Respond(HttpStatusCode status, string body, params (string Name, string Value)[] headers) =>
            _script.Enqueue(_ =>
            {
                var response = new HttpResponseMessage(status) { Content = new StringContent(body) };
                foreach (var (name, value) in headers)
                {
                    response.Headers.TryAddWithoutValidation(name, value);
                }

                return Task.FromResult(response);
            });

        public void Fail(Exception error) => _script.Enqueue(_ => Task.FromException<HttpResponseMessage>(error));

        public void Hang() => _script.Enqueue(async token =>
        {
            await Task.Delay(Timeout.Infinite, token);
            throw new InvalidOperationException("unreachable");
        });

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            Requests.Add(new SeenRequest(
                request.Method,
                uri.AbsolutePath,
                uri.Query.TrimStart('?'),
                request.Headers.TryGetValues("X-MBX-APIKEY", out var keys) ? keys.Single() : null));
            return _script.Count > 0 ? _script.Dequeue()(cancellationToken) : throw new InvalidOperationException("no scripted answer");
        }
    }
}
