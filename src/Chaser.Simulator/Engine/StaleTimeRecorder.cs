namespace Chaser.Simulator.Engine;

/// <summary>How a stretch of time an order of ours spent away from the best price ended.</summary>
public enum StaleEnd
{
    /// <summary>Our modify of it arrived (a re-price).</summary>
    Modified,

    /// <summary>Our cancel of it arrived (a cancel-replace re-price, or a stop).</summary>
    Canceled,

    /// <summary>It filled, or the exchange ended it (expired, countdown), before any request of ours arrived.</summary>
    Closed,

    /// <summary>The book came back to its price before any request of ours arrived.</summary>
    BestAgain,
}

/// <summary>
/// One stretch of time one of our resting orders was stale as the exchange saw it: its price was not the best price
/// other participants showed on its side (someone bid better, or the level it was on emptied and left it alone ahead
/// of the book), from the book change that made it so to what ended it. Stamps are the engine's
/// <see cref="TimeProvider"/> timestamps.
/// </summary>
/// <param name="Symbol">The order's symbol.</param>
/// <param name="OrderId">The exchange's order id.</param>
/// <param name="ClientOrderId">Our client order id.</param>
/// <param name="Behind">True when it began because someone showed a better price; false when its level emptied and left it alone ahead of the book.</param>
/// <param name="StaleSince">The timestamp of the book change that made it stale.</param>
/// <param name="EndedAt">The timestamp of what ended it.</param>
/// <param name="End">What ended it.</param>
/// <param name="Duration">From <paramref name="StaleSince"/> to <paramref name="EndedAt"/>.</param>
public readonly record struct StaleInterval(string Symbol, long OrderId, string ClientOrderId, bool Behind, long StaleSince, long EndedAt, StaleEnd End, TimeSpan Duration);

/// <summary>
/// Records, from the matching engine's side, how long each resting order of ours stayed stale (see
/// <see cref="StaleInterval"/>). Attached with <see cref="ExchangeEngine.TrackStaleTime"/>; without it the engine does
/// none of this work. Called by the engine under its lock; read from any thread.
/// </summary>
public sealed class StaleTimeRecorder
{
    private readonly Lock gate = new();
    private readonly Dictionary<long, (string Symbol, string ClientOrderId, bool Behind, long Since)> stale = [];
    private readonly List<StaleInterval> intervals = [];
    private readonly List<long> ended = [];
    private readonly TimeProvider time;
    private readonly int capacity;

    /// <param name="time">The clock of the engine it is attached to (its timestamps are compared).</param>
    /// <param name="capacity">The most intervals kept; later ones are counted in <see cref="Dropped"/> only.</param>
    public StaleTimeRecorder(TimeProvider time, int capacity = 1_000_000)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        this.time = time;
        this.capacity = capacity;
    }

    /// <summary>Intervals that ended but were not kept (more than the capacity).</summary>
    public long Dropped { get; private set; }

    /// <summary>Orders of ours stale right now.</summary>
    public int OpenCount
    {
        get
        {
            lock (gate)
            {
                return stale.Count;
            }
        }
    }

    /// <summary>The intervals that have ended, in the order they ended.</summary>
    public IReadOnlyList<StaleInterval> Intervals()
    {
        lock (gate)
        {
            return [.. intervals];
        }
    }

    /// <summary>A request of ours for the order arrived at the matching engine: a stale stretch it was in ends here.</summary>
    internal void RequestArrived(SimOrder order, StaleEnd end)
    {
        var now = time.GetTimestamp();
        lock (gate)
        {
            End(order.OrderId, end, now);
        }
    }

    /// <summary>After a change to a symbol's market: starts or ends the stale stretch of each of our orders there.</summary>
    internal void Observe(SymbolMarket m)
    {
        var now = time.GetTimestamp();
        lock (gate)
        {
            Observe(m, m.OurBids, m.BestExternal(BookSide.Bid), now);
            Observe(m, m.OurAsks, m.BestExternal(BookSide.Ask), now);
            foreach (var (id, entry) in stale)
            {
                if (entry.Symbol == m.Spec.Symbol && !IsResting(m, id))
                {
                    ended.Add(id);
                }
            }

            foreach (var id in ended)
            {
                End(id, StaleEnd.Closed, now);
            }

            ended.Clear();
        }
    }

    private void Observe(SymbolMarket m, SortedDictionary<decimal, List<SimOrder>> ours, BookLevel? best, long now)
    {
        foreach (var (price, queue) in ours)
        {
            // Not at the best price others show on its side, behind or alone ahead of it; with no one else there, nothing to move to.
            var isStale = best is { } b && b.Price != price;
            var behind = best is { } better && (ours == m.OurBids ? better.Price > price : better.Price < price);
            foreach (var order in queue)
            {
                if (isStale)
                {
                    stale.TryAdd(order.OrderId, (m.Spec.Symbol, order.ClientOrderId, behind, now));
                }
                else
                {
                    End(order.OrderId, StaleEnd.BestAgain, now);
                }
            }
        }
    }

    private static bool IsResting(SymbolMarket m, long orderId)
    {
        foreach (var queue in m.OurBids.Values.Concat(m.OurAsks.Values))
        {
            foreach (var order in queue)
            {
                if (order.OrderId == orderId)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private void End(long orderId, StaleEnd end, long now)
    {
        if (!stale.Remove(orderId, out var entry))
        {
            return;
        }

        if (intervals.Count >= capacity)
        {
            Dropped++;
            return;
        }

        intervals.Add(new StaleInterval(entry.Symbol, orderId, entry.ClientOrderId, entry.Behind, entry.Since, now, end, time.GetElapsedTime(entry.Since, now)));
    }
}
