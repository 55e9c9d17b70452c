using Chaser.Core.Chasing;

namespace Chaser.Core.Ports;

/// <summary>
/// A child order as it stood at one moment, for the recorder: a value taken on the parent order's loop when the child
/// changed. The chaser's <see cref="ChildOrder"/> keeps changing after that (the next fill, the next modify); a
/// recorder that writes later, on another thread, must write what was true then. A value: one is made whenever a
/// child changes (every re-price and its answer), so taking it allocates nothing.
/// </summary>
public readonly record struct ChildOrderSnapshot
{
    public required long ParentId { get; init; }

    public required string ClientOrderId { get; init; }

    public int Sequence { get; init; }

    public ChildOrderType OrderType { get; init; }

    /// <summary>The exchange's id once it accepted the order; 0 before.</summary>
    public long ExchangeOrderId { get; init; }

    public decimal Price { get; init; }

    /// <summary>Total order quantity, executed part included.</summary>
    public decimal Quantity { get; init; }

    public ChildState State { get; init; }

    public ExchangeOrderStatus? FinalStatus { get; init; }

    public bool WasRejected { get; init; }

    public decimal FilledQuantity { get; init; }

    public decimal FilledNotional { get; init; }

    public int Modifies { get; init; }

    /// <summary>When the place request was sent.</summary>
    public DateTimeOffset SentAt { get; init; }

    /// <summary>When it was last placed or re-queued by a modify.</summary>
    public DateTimeOffset PlacedAt { get; init; }

    /// <summary>When this state was seen: the moment the snapshot was taken.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>The child as it stands now.</summary>
    public static ChildOrderSnapshot Of(long parentId, ChildOrder child, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(child);
        return new ChildOrderSnapshot
        {
            ParentId = parentId,
            ClientOrderId = child.ClientOrderId,
            Sequence = child.Sequence,
            OrderType = child.OrderType,
            ExchangeOrderId = child.ExchangeOrderId,
            Price = child.Price,
            Quantity = child.Quantity,
            State = child.State,
            FinalStatus = child.FinalStatus,
            WasRejected = child.WasRejected,
            FilledQuantity = child.FilledQuantity,
            FilledNotional = child.FilledNotional,
            Modifies = child.Modifies,
            SentAt = child.SentAt,
            PlacedAt = child.PlacedAt,
            Time = time,
        };
    }
}
