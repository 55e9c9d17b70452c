using Chaser.Core.Chasing;
using Chaser.Core.Domain;
using Chaser.Core.Replay;

namespace Chaser.Core.Ports;

/// <summary>
/// Where the engine records everything it does, off the hot path: calls must not block (a storage implementation
/// queues to a background writer). Every method is called from the parent order's own loop, so calls for one parent
/// order arrive in order; after <see cref="OrderCompleted"/> only <see cref="Mid"/> samples of the markout tail follow
/// (the engine keeps sampling the book for markouts after the order ended). Everything handed over is an immutable
/// value, so an implementation may keep it and write it later. A port: the engine drives it, storage implements it.
/// </summary>
public interface IExecutionRecorder
{
    void OrderStarted(ParentOrderSpec spec, DateTimeOffset time);

    void ArrivalMid(long parentId, decimal mid, DateTimeOffset time);

    void Mid(MidSample sample);

    /// <summary>A print on the market's tape while the order worked (for the VWAP benchmark).</summary>
    void MarketTrade(MarketTradeSample trade)
    {
    }

    void Decision(DecisionRecord decision);

    /// <summary>
    /// A parent order's state machine was built and is about to start: what <c>chaser replay</c> rebuilds it from.
    /// Followed by every <see cref="MachineInput"/> the machine is handed after its start, in order.
    /// </summary>
    void MachineStarted(ReplayStart start)
    {
    }

    /// <summary>
    /// One input handed to the order's state machine, as it was handed (the one vocabulary, <see cref="ChaserInput"/>),
    /// and the time it was handed at: the machine's "now" for it. Book tops arrive many a second: an implementation
    /// copies only what the kind uses.
    /// </summary>
    void MachineInput(long parentId, DateTimeOffset time, in ChaserInput input)
    {
    }

    /// <summary>A child order's state changed (placed, accepted, modified, filled, finished): the child as it is now.</summary>
    void Child(ChildOrderSnapshot child);

    void Fill(FillRecord fill);

    void OrderCompleted(ExecutionResult result);

    /// <summary>
    /// The orders this engine holds that are not final yet (queued or working), said every few seconds: a live
    /// process's heartbeat, so that another process's restart recovery leaves them alone.
    /// </summary>
    void Alive(IReadOnlyCollection<long> parentIds, DateTimeOffset time)
    {
    }

    /// <summary>
    /// Completes once everything recorded before the call is durable (in the database). A recorder that keeps nothing
    /// back has nothing to wait for.
    /// </summary>
    ValueTask FlushAsync(CancellationToken cancellationToken) => default;
}

/// <summary>Records nothing (when a caller only wants the results).</summary>
public sealed class NullRecorder : IExecutionRecorder
{
    public static NullRecorder Instance { get; } = new();

    public void OrderStarted(ParentOrderSpec spec, DateTimeOffset time)
    {
    }

    public void ArrivalMid(long parentId, decimal mid, DateTimeOffset time)
    {
    }

    public void Mid(MidSample sample)
    {
    }

    public void Decision(DecisionRecord decision)
    {
    }

    public void Child(ChildOrderSnapshot child)
    {
    }

    public void Fill(FillRecord fill)
    {
    }

    public void OrderCompleted(ExecutionResult result)
    {
    }
}
