using System.Net;
using System.Text;
using Chaser.Binance.Connector;
using Chaser.Binance.Signing;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Ports;
using Chaser.Core.Rules;
using Microsoft.Extensions.Time.Testing;

namespace Chaser.Binance.Tests;

/// <summary>
/// The connector's REST side against a scripted exchange on fake time: every call goes through the one rate guard and
/// server clock, answers map to what the chaser must do, and rate-limit answers pause what they must, however they came.
/// </summary>
public sealed class ConnectorRestTests : IAsyncDisposable
{
    private const string SecretText = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    private const string ApiKeyText = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";

    // 10:00:30 UTC: half way through a minute.
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 10, 0, 30, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly ScriptedHandler _exchange;
    private readonly RecordingSink _sink = new();
    private readonly BinanceConnector _connector;

    public ConnectorRestTests()
    {
        _exchange = new ScriptedHandler(_time);
        _connector = new BinanceConnector(new BinanceConnectorOptions
        {
            RestBaseUrl = new Uri("http://exchange.test"),
            StreamBaseUrl = new Uri("ws://exchange.test"),
            ApiKey = new ApiKey(ApiKeyText),
            Signer = new HmacSha256Signer(Secret.FromText(SecretText)),
            Time = _time,
            HttpHandler = _exchange,
        });
        _connector.UseSink(_sink);
    }

    public async ValueTask DisposeAsync() => await _connector.DisposeAsync();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_call_answered_429_waits_out_its_retry_after_before_it_tries_again()
    {
        _exchange.Respond(HttpStatusCode.TooManyRequests, """{"code":-1003,"msg":"Too many requests."}""", ("Retry-After", "30"));
        _exchange.Respond(HttpStatusCode.OK, ServerTime(Start));

        var call = _connector.CallAsync(HttpMethod.Get, "/fapi/v1/time", Token);
        await Until(() => _exchange.Requests.Count == 1);
        Assert.Equal(1, _connector.RateLimitedResponses);

        // Any backoff of a few seconds would land inside the exchange's pause: carrying on after a 429 earns a ban.
        await AdvanceAsync(TimeSpan.FromSeconds(29));
        Assert.Single(_exchange.Requests);
        Assert.False(call.IsCompleted);

        await AdvanceAsync(TimeSpan.FromSeconds(1));
        await call.WaitAsync(TimeSpan.FromSeconds(10), Token);
        Assert.Equal(2, _exchange.Requests.Count);
    }

    [Fact]
    public async Task A_418_ban_fails_the_call_and_later_ones_are_not_sent_until_it_ends()
    {
        var until = Start.AddMinutes(10).ToUnixTimeMilliseconds();
        _exchange.Respond((HttpStatusCode)418, $$"""{"code":-1003,"msg":"Way too many requests; IP(203.0.113.7) banned until {{until}}. Please use the websocket for live updates to avoid bans."}""");

        var banned = await Assert.ThrowsAsync<HttpRequestException>(() => _connector.CallAsync(HttpMethod.Get, "/fapi/v1/exchangeInfo", Token));
        Assert.Contains("-1003", banned.Message, StringComparison.Ordinal);

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => _connector.CallAsync(HttpMethod.Get, "/fapi/v1/exchangeInfo", Token));
        Assert.Contains("IP banned (HTTP 418) until 2026-11-24T10:10:30", refused.Message, StringComparison.Ordinal);
        Assert.Single(_exchange.Requests);
        Assert.Equal(0m, _connector.RateGuard.AvailableFraction());
    }

    [Fact]
    public async Task A_rest_call_waits_for_a_spent_weight_window_to_reset_instead_of_breaching_it()
    {
        Assert.True(_connector.RateGuard.TryAcquire(0, 2_160, out _));
        _exchange.Respond(HttpStatusCode.OK, ServerTime(Start));

        var call = _connector.CallAsync(HttpMethod.Get, "/fapi/v1/time", Token);
        await AdvanceAsync(TimeSpan.FromSeconds(29.9));
        Assert.Empty(_exchange.Requests);

        // 10:01:00: the minute window resets.
        await AdvanceAsync(TimeSpan.FromSeconds(0.1));
        await call.WaitAsync(TimeSpan.FromSeconds(10), Token);
        Assert.Single(_exchange.Requests);
    }

    [Fact]
    public async Task Usage_headers_of_an_answer_are_the_truth_for_the_window()
    {
        _exchange.Respond(HttpStatusCode.OK, ServerTime(Start), ("X-MBX-USED-WEIGHT-1M", "2000"), ("X-MBX-ORDER-COUNT-10S", "135"));

        await _connector.CallAsync(HttpMethod.Get, "/fapi/v1/time", Token);

        Assert.Equal(1m - (2000m / 2160m), _connector.RateGuard.AvailableFraction());
        Assert.Equal(0, _connector.RateLimitedResponses);
    }

    [Fact]
    public async Task A_retried_signed_call_is_signed_again_with_a_fresh_timestamp()
    {
        // The first answer takes 4 s to come: a retry signed with the first attempt's timestamp would be 4 s stale.
        _exchange.Respond(HttpStatusCode.ServiceUnavailable, """{"code":-1001,"msg":"Service Unavailable."}""");
        _exchange.AnswerTakes = TimeSpan.FromSeconds(4);
        _exchange.Respond(HttpStatusCode.OK, "[]");

        var history = _connector.GetChildHistoryAsync("BTCUSDT", "ab12", 7, Start.AddHours(-1), Token);
        while (_exchange.Requests.Count < 2)
        {
            await AdvanceAsync(TimeSpan.FromMilliseconds(50));
        }

        Assert.Empty(await history.WaitAsync(TimeSpan.FromSeconds(10), Token));
        var requests = _exchange.Requests;
        Assert.All(requests, r => Assert.Equal(r.SentAtMs, long.Parse(r.Query.Split('&').Single(p => p.StartsWith("timestamp=", StringComparison.Ordinal))[10..], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(requests[1].SentAtMs >= requests[0].SentAtMs + 4_000);
        Assert.All(requests, r => Assert.Equal(ApiKeyText, r.ApiKey));
    }

    [Fact]
    public async Task A_timestamp_rejection_resyncs_the_server_clock()
    {
        _exchange.Respond(HttpStatusCode.OK, ServerTime(Start.AddMilliseconds(4_000)));

        _connector.HandleOrderAnswer("""{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"""u8, 400, ChaserCommandKind.Place, "chs-ab12-7-1");

        var rejected = Assert.Single(_sink.Rejected);
        Assert.Equal((RejectKind.Retryable, -1021), (rejected.Kind, rejected.Code));
        await Until(() => _connector.ClockOffsetMs == 4_000);
        Assert.Equal("/fapi/v1/time", Assert.Single(_exchange.Requests).Path);
    }

    [Theory]
    [InlineData(502, "<html>502 Bad Gateway</html>")]
    [InlineData(504, "")]
    [InlineData(500, """{"code":-1000,"msg":"An unknown error occurred while processing the request."}""")]
    [InlineData(503, """{"code":-1000,"msg":"Unknown error, please check your request or try again later."}""")]
    [InlineData(408, "")]
    [InlineData(400, """{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}""")]
    public void An_order_answer_that_does_not_say_whether_it_executed_is_an_unknown_outcome(int status, string body)
    {
        _connector.HandleOrderAnswer(Encoding.UTF8.GetBytes(body), status, ChaserCommandKind.Place, "chs-ab12-7-1");

        // The chaser queries before doing anything else: a reject here would forget an order that may be resting.
        Assert.Equal("chs-ab12-7-1", Assert.Single(_sink.Unknown).ClientOrderId);
        Assert.Empty(_sink.Rejected);
    }

    [Fact]
    public void A_503_service_unavailable_is_a_failure_to_retry()
    {
        _connector.HandleOrderAnswer("""{"code":-1001,"msg":"Service Unavailable."}"""u8, 503, ChaserCommandKind.Place, "chs-ab12-7-1");

        Assert.Equal(RejectKind.Retryable, Assert.Single(_sink.Rejected).Kind);
        Assert.Empty(_sink.Unknown);
    }

    [Fact]
    public void Too_many_orders_over_the_websocket_api_pauses_orders_but_not_cancels()
    {
        // The WebSocket API answer carries no headers: its status and error pause the guard all the same.
        _connector.HandleOrderAnswer("""{"code":-1015,"msg":"Too many new orders; current limit is 300 orders per TEN_SECONDS."}"""u8, 429, ChaserCommandKind.Place, "chs-ab12-7-1");

        Assert.Equal((RejectKind.Retryable, -1015), (Assert.Single(_sink.Rejected).Kind, _sink.Rejected[0].Code));
        Assert.Equal(1, _connector.RateLimitedResponses);
        Assert.False(_connector.RateGuard.TryAcquire(1, 0, out _));
        Assert.True(_connector.RateGuard.TryAcquire(0, 1, out _));
        Assert.Equal(TimeSpan.FromSeconds(10), _connector.RateGuard.TimeUntilAcquirable(1, 0));
        Assert.Equal(0m, _sink.Budgets.LastOrDefault(1m));
    }

    [Fact]
    public void An_order_refused_by_the_spent_guard_is_not_sent_and_comes_back_as_a_retryable_reject()
    {
        for (var i = 0; i < 270; i++)
        {
            Assert.True(_connector.RateGuard.TryAcquire(1, 0, out _));
        }

        // It said it was sent (a hand-off time), so its decision carried a tick-to-order latency for bytes that never left.
        var submission = _connector.Submit(new OrderRequest(Place("chs-ab12-7-1"), "BTCUSDT", Btc, ReduceOnly: false));

        Assert.False(submission.Sent);
        var rejected = Assert.Single(_sink.Rejected);
        Assert.Equal((RejectKind.Retryable, -1015), (rejected.Kind, rejected.Code));
        Assert.StartsWith("order rate limit: 270/300 per 10 s", rejected.Message, StringComparison.Ordinal);
        Assert.Empty(_exchange.Requests);
    }

    [Fact]
    public void An_order_of_a_symbol_past_its_share_of_a_short_window_is_refused_while_another_symbol_still_has_room()
    {
        // ETHUSDT asked once; BTCUSDT then took half of the 270 usable and one more.
        Assert.True(_connector.RateGuard.TryAcquire(1, 0, out _, claimant: "ETHUSDT"));
        for (var i = 0; i < 135; i++)
        {
            Assert.True(_connector.RateGuard.TryAcquire(1, 0, out _, claimant: "BTCUSDT"));
        }

        // The connector asks for the order's symbol: BTCUSDT is past its equal share of a window that is running short.
        var submission = _connector.Submit(new OrderRequest(Place("chs-ab12-7-1"), "BTCUSDT", Btc, ReduceOnly: false));

        Assert.False(submission.Sent);
        var rejected = Assert.Single(_sink.Rejected);
        Assert.Equal((RejectKind.Retryable, -1015), (rejected.Kind, rejected.Code));
        Assert.StartsWith("order rate limit: BTCUSDT has had 135 of the 270 usable orders per 10 s, its share among 2 symbols", rejected.Message, StringComparison.Ordinal);
        Assert.Empty(_exchange.Requests);
        Assert.True(_connector.RateGuard.TryAcquire(1, 0, out var refusal, claimant: "ETHUSDT"), refusal);
    }

    [Fact]
    public async Task An_order_over_rest_is_a_signed_request_with_the_key_and_its_answer_an_acceptance()
    {
        _exchange.Respond(HttpStatusCode.OK, Encoding.UTF8.GetString(Payload.Bytes("order-response.json")), ("X-MBX-ORDER-COUNT-10S", "1"), ("X-MBX-ORDER-COUNT-1M", "1"));

        var submission = _connector.Submit(new OrderRequest(Place("chs-ab12-7-1"), "BTCUSDT", Btc, ReduceOnly: false));

        Assert.True(submission.Sent);
        await Until(() => _sink.Accepted.Count == 1);
        var request = Assert.Single(_exchange.Requests);
        Assert.Equal((HttpMethod.Post, "/fapi/v1/order", ApiKeyText), (request.Method, request.Path, request.ApiKey));
        var at = request.Query.IndexOf("&signature=", StringComparison.Ordinal);
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.ASCII.GetBytes(SecretText), Encoding.ASCII.GetBytes(request.Query[..at])));
        Assert.Equal(expected, request.Query[(at + 11)..]);
        Assert.Contains($"timestamp={request.SentAtMs}&", request.Query + "&", StringComparison.Ordinal);
        Assert.Contains("timeInForce=GTX", request.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_order_whose_connection_fails_has_an_unknown_outcome()
    {
        _exchange.Fail(new HttpRequestException(HttpRequestError.ConnectionError, "connection reset"));

        _connector.Submit(new OrderRequest(Place("chs-ab12-7-2"), "BTCUSDT", Btc, ReduceOnly: false));

        await Until(() => _sink.Unknown.Count == 1);
        Assert.Equal("chs-ab12-7-2", _sink.Unknown[0].ClientOrderId);
        Assert.Empty(_sink.Rejected);
    }

    [Fact]
    public async Task An_order_without_an_answer_in_time_has_an_unknown_outcome()
    {
        await using var connector = new BinanceConnector(new BinanceConnectorOptions
        {
            RestBaseUrl = new Uri("http://exchange.test"),
            StreamBaseUrl = new Uri("ws://exchange.test"),
            ApiKey = new ApiKey(ApiKeyText),
            Signer = new HmacSha256Signer(Secret.FromText(SecretText)),
            Time = _time,
            HttpHandler = _exchange,
            RequestTimeout = TimeSpan.FromMilliseconds(200),
        });
        connector.UseSink(_sink);
        _exchange.Hang();

        connector.Submit(new OrderRequest(Place("chs-ab12-7-3"), "BTCUSDT", Btc, ReduceOnly: false));

        await Until(() => _sink.Unknown.Count == 1);
        Assert.Equal("chs-ab12-7-3", _sink.Unknown[0].ClientOrderId);
        Assert.Empty(_sink.Rejected);
    }

    [Fact]
    public void A_post_only_order_that_would_cross_is_that_reject_not_a_failure()
    {
        _connector.HandleOrderAnswer(Payload.Bytes("error-post-only.json"), 400, ChaserCommandKind.Place, "chs-ab12-7-1");

        var rejected = Assert.Single(_sink.Rejected);
        Assert.Equal((RejectKind.PostOnlyWouldCross, -5022), (rejected.Kind, rejected.Code));
        Assert.Equal(1m, _connector.RateGuard.AvailableFraction());
    }

    [Fact]
    public void The_options_never_show_the_key_or_the_secret()
    {
        var options = new BinanceConnectorOptions
        {
            RestBaseUrl = BinanceVenue.Demo.RestBaseUrl,
            StreamBaseUrl = BinanceVenue.Demo.StreamBaseUrl,
            ApiKey = new ApiKey(ApiKeyText),
            Signer = new HmacSha256Signer(Secret.FromText(SecretText)),
        };

        var text = options.ToString();

        Assert.DoesNotContain(SecretText, text, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKeyText, text, StringComparison.Ordinal);
    }

    private static readonly SymbolRules Btc = new() { Symbol = "BTCUSDT", TickSize = 0.1m, StepSize = 0.001m };

    private static ChaserCommand Place(string clientOrderId) =>
        new(ChaserCommandKind.Place, clientOrderId, Side.Buy, ChildOrderType.PostOnly, 65_000.1m, 0.01m, FinishReason.None, new DecisionCause(EventKind.Start, DecisionRule.PostAtBest));

    private static string ServerTime(DateTimeOffset at) => $$"""{"serverTime":{{at.ToUnixTimeMilliseconds()}}}""";

    /// <summary>Moves fake time, then lets the continuations it released run.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        _time.Advance(by);
        await Task.Delay(50, Token);
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10, Token);
        }
    }

    private sealed record SeenRequest(HttpMethod Method, string Path, string Query, string? ApiKey, long SentAtMs);

    /// <summary>Answers requests from a script, in order, and records what was sent and when (on the fake clock).</summary>
    private sealed class ScriptedHandler(FakeTimeProvider time) : HttpMessageHandler
    {
        private readonly Queue<(HttpStatusCode Status, string Body, (string Name, string Value)[] Headers, Exception? Error)> _script = new();
        private readonly List<SeenRequest> _requests = [];

        /// <summary>How long (fake time) each answer takes to come back.</summary>
        public TimeSpan AnswerTakes { get; set; }

        public IReadOnlyList<SeenRequest> Requests
        {
            get
            {
                lock (_requests)
                {
                    return [.. _requests];
                }
            }
        }

        public void Respond(HttpStatusCode status, string body, params (string Name, string Value)[] headers)
        {
            lock (_requests)
            {
                _script.Enqueue((status, body, headers, null));
            }
        }

        /// <summary>The next request gets no answer until it is canceled.</summary>
        public void Hang() => Fail(new HangRequest());

        public void Fail(Exception error)
        {
            lock (_requests)
            {
                _script.Enqueue((default, string.Empty, [], error));
            }
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (_requests)
            {
                var uri = request.RequestUri!;
                _requests.Add(new SeenRequest(request.Method, uri.AbsolutePath, uri.Query.TrimStart('?'), request.Headers.TryGetValues("X-MBX-APIKEY", out var keys) ? keys.Single() : null, time.GetUtcNow().ToUnixTimeMilliseconds()));
                time.Advance(AnswerTakes);
                var (status, body, headers, error) = _script.Count > 0 ? _script.Dequeue() : throw new InvalidOperationException($"no scripted answer for {uri}");
                if (error is HangRequest)
                {
                    return Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith<HttpResponseMessage>(_ => throw new TaskCanceledException(), TaskScheduler.Default);
                }

                if (error is not null)
                {
                    return Task.FromException<HttpResponseMessage>(error);
                }

                var response = new HttpResponseMessage(status) { Content = new StringContent(body) };
                foreach (var (name, value) in headers)
                {
                    response.Headers.TryAddWithoutValidation(name, value);
                }

                return Task.FromResult(response);
            }
        }
    }

    private sealed class HangRequest : Exception;

    private sealed class RecordingSink : IExchangeEventSink
    {
        public List<OrderRejected> Rejected { get; } = [];

        public List<RequestOutcomeUnknown> Unknown { get; } = [];

        public List<OrderAccepted> Accepted { get; } = [];

        public List<decimal> Budgets { get; } = [];

        public void OnInput(in ChaserInput input)
        {
            switch (input.Kind)
            {
                case EventKind.Accepted:
                    lock (Accepted)
                    {
                        Accepted.Add(input.Accepted);
                    }

                    break;
                case EventKind.Rejected:
                    Rejected.Add(input.Rejected);
                    break;
                case EventKind.OutcomeUnknown:
                    Unknown.Add(input.Unknown);
                    break;
                case EventKind.RateBudget:
                    Budgets.Add(input.Budget);
                    break;
            }
        }
    }
}
