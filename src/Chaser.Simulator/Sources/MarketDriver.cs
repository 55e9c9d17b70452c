using Chaser.Simulator.Engine;

namespace Chaser.Simulator.Sources;

/// <summary>
/// Feeds a market source into the engine, paced by the TimeProvider: source time is mapped onto the clock from
/// the first event, divided by the speed factor. Tests can instead step it synchronously with ApplyUntil.
/// </summary>
public sealed class MarketDriver : IDisposable
{
    private readonly ExchangeEngine engine;
    private readonly IEnumerator<MarketEvent> events;
    private readonly double speed;
    private MarketEvent? pending;
    private long firstSourceTime = -1;

    public MarketDriver(ExchangeEngine engine, IMarketSource source, double speed = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(speed);
        this.engine = engine;
        this.speed = speed;
        events = source.Events().GetEnumerator();
    }

    /// <summary>Source time of the last applied event.</summary>
    public long SourceTime { get; private set; }

    public bool Finished { get; private set; }

    /// <summary>Set by fault injection: while true, nothing is applied (the market data stalls).</summary>
    public bool Stalled { get; set; }

    /// <summary>Applies every event whose source time is at or before sourceTime; returns how many.</summary>
    public int ApplyUntil(long sourceTime)
    {
        var applied = 0;
        while (Peek() is { } e && e.Time <= sourceTime)
        {
            e.ApplyTo(engine);
            SourceTime = e.Time;
            pending = null;
            applied++;
        }

        return applied;
    }

    /// <summary>Applies events for the given span of source time after the first event.</summary>
    public int ApplyFor(TimeSpan span)
    {
        if (Peek() is null)
        {
            return 0;
        }

        return ApplyUntil(Math.Max(SourceTime, firstSourceTime) + (long)span.TotalMilliseconds);
    }

    public async Task RunAsync(TimeProvider clock, CancellationToken ct)
    {
        if (Peek() is not { } first)
        {
            return;
        }

        var wallStart = clock.GetTimestamp();
        var sourceStart = first.Time;
        while (!ct.IsCancellationRequested && Peek() is { } next)
        {
            var due = TimeSpan.FromMilliseconds((next.Time - sourceStart) / speed);
            var wait = due - clock.GetElapsedTime(wallStart);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, clock, ct).ConfigureAwait(false);
            }

            if (Stalled)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), clock, ct).ConfigureAwait(false);
                continue;
            }

            // Apply everything due now in one go so a slow consumer catches up instead of drifting.
            var sourceNow = sourceStart + (long)(clock.GetElapsedTime(wallStart).TotalMilliseconds * speed);
            ApplyUntil(Math.Max(sourceNow, next.Time));
        }
    }

    private MarketEvent? Peek()
    {
        if (pending is null && !Finished)
        {
            if (events.MoveNext())
            {
                pending = events.Current;
                if (firstSourceTime < 0)
                {
                    firstSourceTime = pending.Time;
                }
            }
            else
            {
                Finished = true;
            }
        }

        return pending;
    }

    public void Dispose() => events.Dispose();
}
