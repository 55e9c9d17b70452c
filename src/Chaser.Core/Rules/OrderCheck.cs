namespace Chaser.Core.Rules;

/// <summary>Which exchange filter an order breaks.</summary>
public enum OrderCheckFailure
{
    None,
    PriceNotPositive,
    PriceBelowMin,
    PriceAboveMax,
    PriceNotOnTick,
    QuantityNotPositive,
    QuantityBelowMin,
    QuantityAboveMax,
    QuantityNotOnStep,
    NotionalBelowMin,
    PriceAbovePercentBand,
    PriceBelowPercentBand,
}

/// <summary>The outcome of checking an order against a symbol's filters: valid, or which filter and why.</summary>
public readonly record struct OrderCheck(OrderCheckFailure Failure, string? Reason)
{
    public static OrderCheck Valid => default;

    public bool IsValid => Failure == OrderCheckFailure.None;

    public override string ToString() => IsValid ? "valid" : $"{Failure}: {Reason}";
}
