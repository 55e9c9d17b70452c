namespace Chaser.Binance.Connector;

/// <summary>
/// The offset between the exchange's clock and ours, from <c>GET /fapi/v1/time</c>: signed requests carry
/// <c>timestamp = local + offset</c>. Binance rejects a timestamp more than 1 s ahead of its clock but accepts one
/// up to recvWindow behind, so the estimate errs behind: it assumes the server read its clock at the very end of the
/// round trip (when the answer arrived), not at the midpoint (API notes §5: accepted when timestamp &lt; serverTime +
/// 1000 and serverTime − timestamp ≤ recvWindow); the true offset is then at most one round trip later. Of several
/// samples the one with the shortest round trip is kept (least uncertain). A -1021 marks the clock for resync. The
/// rate guard numbers its windows by this clock too. Thread-safe.
/// </summary>
public sealed class ServerClock
{
    private readonly TimeProvider _time;
    private long _offsetMs;
    private long _roundTripMs = -1;
    private int _needsResync = 1;

    public ServerClock(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>Server time minus local time, in ms (conservative: see the class remarks).</summary>
    public long OffsetMs => Interlocked.Read(ref _offsetMs);

    /// <summary>The round trip of the sample the offset came from; −1 before the first sync.</summary>
    public long RoundTripMs => Interlocked.Read(ref _roundTripMs);

    /// <summary>True before the first sync and after a -1021 (timestamp outside recvWindow).</summary>
    public bool NeedsResync => Volatile.Read(ref _needsResync) == 1;

    /// <summary>The timestamp to sign now.</summary>
    public long TimestampMs => _time.GetUtcNow().ToUnixTimeMilliseconds() + OffsetMs;

    public void MarkNeedsResync() => Volatile.Write(ref _needsResync, 1);

    /// <summary>Records one sample: the local times around the request and the server time it returned.</summary>
    public void Observe(DateTimeOffset sentAt, DateTimeOffset receivedAt, long serverTimeMs)
    {
        var roundTrip = Math.Max(0, (long)(receivedAt - sentAt).TotalMilliseconds);
        // The server read its clock somewhere in [sentAt, receivedAt]; pairing it with receivedAt never overestimates.
        SetOffset(serverTimeMs - receivedAt.ToUnixTimeMilliseconds(), roundTrip);
    }

    /// <summary>Takes <paramref name="samples"/> readings and keeps the one with the shortest round trip.</summary>
    public async Task SyncAsync(Func<CancellationToken, Task<long>> fetchServerTimeMs, int samples = 3, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fetchServerTimeMs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        long bestOffset = 0, bestRoundTrip = long.MaxValue;
        for (var i = 0; i < samples; i++)
        {
            var sentAt = _time.GetUtcNow();
            var serverMs = await fetchServerTimeMs(cancellationToken).ConfigureAwait(false);
            var receivedAt = _time.GetUtcNow();
            var roundTrip = Math.Max(0, (long)(receivedAt - sentAt).TotalMilliseconds);
            if (roundTrip < bestRoundTrip)
            {
                bestRoundTrip = roundTrip;
                bestOffset = serverMs - receivedAt.ToUnixTimeMilliseconds();
            }
        }

        SetOffset(bestOffset, bestRoundTrip);
    }

    private void SetOffset(long offsetMs, long roundTripMs)
    {
        Interlocked.Exchange(ref _offsetMs, offsetMs);
        Interlocked.Exchange(ref _roundTripMs, roundTripMs);
        Volatile.Write(ref _needsResync, 0);
    }
}
