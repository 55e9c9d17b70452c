namespace Chaser.Core.Chasing;

/// <summary>How Binance's error codes map onto the chaser's reject kinds (API notes §12).</summary>
public static class BinanceRejects
{
    public static RejectKind Classify(int code, int httpStatus = 400) => code switch
    {
        -5022 => RejectKind.PostOnlyWouldCross,
        -2011 or -2013 => RejectKind.UnknownOrder,
        // -1021 / -5028: the request arrived outside recvWindow and was not executed; resync the clock and retry.
        -1003 or -1008 or -1015 or -1021 or -5028 or -5043 => RejectKind.Retryable,
        _ when httpStatus is 429 or 418 or 503 or 408 => RejectKind.Retryable,
        _ => RejectKind.Fatal,
    };
}
