namespace Chaser.Core.Domain;

/// <summary>Order side. The numeric values match the seed's <c>side</c> field: +1 buy, −1 sell.</summary>
public enum Side
{
    Buy = 1,
    Sell = -1,
}

public static class SideExtensions
{
    /// <summary>+1 for a buy, −1 for a sell: multiplies a price difference so that positive means "worse for us".</summary>
    public static int Sign(this Side side) => (int)side;

    public static Side Opposite(this Side side) => side == Side.Buy ? Side.Sell : Side.Buy;

    /// <summary>Binance's wire spelling.</summary>
    public static string ToWire(this Side side) => side == Side.Buy ? "BUY" : "SELL";
}
