using Chaser.Binance.Parsing;
using Chaser.Core.Chasing;

namespace Chaser.Binance.Rest;

/// <summary>How a REST call ended, as the chaser needs to know it.</summary>
public enum RestOutcome
{
    /// <summary>The exchange answered 2xx with a body we understood.</summary>
    Success,

    /// <summary>
    /// Refused, and certainly not executed: an exchange error code, an HTTP error without effect (429, 418, 403, 503
    /// "Service Unavailable"), or our own rate-limit governor refusing to send.
    /// </summary>
    Rejected,

    /// <summary>
    /// No way to tell whether it was executed (timeout, connection lost after sending, 503 "Unknown error", -1007,
    /// other 5xx): query the order before acting on it again.
    /// </summary>
    OutcomeUnknown,
}

/// <summary>
/// The typed result of a REST call. Exchange-level failures are values, never exceptions; only caller cancellation
/// and programming errors throw.
/// </summary>
public readonly record struct RestResult<T>(RestOutcome Outcome, T? Value, BinanceError Error, string? Detail)
{
    public bool IsSuccess => Outcome == RestOutcome.Success;

    /// <summary>For <see cref="RestOutcome.Rejected"/>: how the chaser should treat it.</summary>
    public RejectKind RejectKind => Error.Kind;

    public override string ToString() => Outcome switch
    {
        RestOutcome.Success => $"Success({Value})",
        RestOutcome.Rejected => $"Rejected({Error})",
        _ => $"OutcomeUnknown({Detail})",
    };
}

/// <summary>Factories for <see cref="RestResult{T}"/>.</summary>
public static class RestResult
{
    public static RestResult<T> Success<T>(T value) => new(RestOutcome.Success, value, default, null);

    public static RestResult<T> Rejected<T>(BinanceError error) => new(RestOutcome.Rejected, default, error, error.Message);

    public static RestResult<T> Unknown<T>(string detail, BinanceError error = default) => new(RestOutcome.OutcomeUnknown, default, error, detail);
}

/// <summary>What the rate-limit governor refusing a request looks like to callers: a retryable reject with code 0.</summary>
public static class LocalRejects
{
    /// <summary>The code of a request our governor refused to send (Binance never uses 0).</summary>
    public const int RateLimitedLocally = 0;
}
