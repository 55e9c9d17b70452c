using Chaser.Core.Domain;
using Chaser.Core.Ports;

namespace Chaser.EndToEnd.Tests;

/// <summary>Keeps the decisions and fills the engine records, to check what the chaser did.</summary>
internal sealed class DecisionRecorder : IExecutionRecorder
{
    private readonly List<DecisionRecord> _decisions = [];
    private readonly List<FillRecord> _fills = [];

    /// <summary>Every fill the engine recorded (what a storage recorder would write).</summary>
    public IReadOnlyList<FillRecord> Fills
    {
        get
        {
            lock (_fills)
            {
                return [.. _fills];
            }
        }
    }

    public IReadOnlyList<DecisionRecord> Decisions
    {
        get
        {
            lock (_decisions)
            {
                return [.. _decisions];
            }
        }
    }

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
        lock (_decisions)
        {
            _decisions.Add(decision);
        }
    }

    public void Child(ChildOrderSnapshot child)
    {
    }

    public void Fill(FillRecord fill)
    {
        lock (_fills)
        {
            _fills.Add(fill);
        }
    }

    public void OrderCompleted(ExecutionResult result)
    {
    }
}
