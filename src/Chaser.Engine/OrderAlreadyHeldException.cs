namespace Chaser.Engine;

/// <summary>A parent order id the engine already holds (queued, working or finished): one order is worked once.</summary>
public sealed class OrderAlreadyHeldException(long parentId)
    : InvalidOperationException($"order {parentId} is already being executed (or was) by this engine; an order is executed once")
{
    public long ParentId { get; } = parentId;
}
