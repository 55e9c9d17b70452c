using System.Globalization;
using Chaser.Core.Domain;

namespace Chaser.Core.Rules;

/// <summary>
/// A symbol's trading rules from Binance's exchangeInfo filters, and the one place where prices and quantities are
/// rounded and checked. A zero limit disables that rule, as on Binance.
/// </summary>
public sealed record SymbolRules
{
    public required string Symbol { get; init; }

    // PRICE_FILTER
    public required decimal TickSize { get; init; }

    public decimal MinPrice { get; init; }

    public decimal MaxPrice { get; init; }

    // LOT_SIZE (limit orders)
    public required decimal StepSize { get; init; }

    public decimal MinQty { get; init; }

    public decimal MaxQty { get; init; }

    // MARKET_LOT_SIZE (market orders); zero falls back to LOT_SIZE.
    public decimal MarketStepSize { get; init; }

    public decimal MarketMinQty { get; init; }

    public decimal MarketMaxQty { get; init; }

    // MIN_NOTIONAL: price × quantity; reduce-only orders are exempt.
    public decimal MinNotional { get; init; }

    // PERCENT_PRICE, against the mark price: buy ≤ mark × up, sell ≥ mark × down. Zero disables.
    public decimal PercentPriceMultiplierUp { get; init; }

    public decimal PercentPriceMultiplierDown { get; init; }

    public int PricePrecision { get; init; } = 8;

    public int QuantityPrecision { get; init; } = 8;

    public int MaxOpenOrders { get; init; }

    /// <summary>Builds rules from exchangeInfo's filter list; a missing PRICE_FILTER or LOT_SIZE is an error.</summary>
    public static SymbolRules FromFilters(
        string symbol,
        IEnumerable<ExchangeFilter> filters,
        int pricePrecision = 8,
        int quantityPrecision = 8)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        ArgumentNullException.ThrowIfNull(filters);
        var byType = new Dictionary<string, ExchangeFilter>(StringComparer.Ordinal);
        foreach (var filter in filters)
        {
            byType[filter.FilterType] = filter;
        }

        if (!byType.TryGetValue("PRICE_FILTER", out var price))
        {
            throw new ArgumentException($"exchangeInfo for {symbol} has no PRICE_FILTER", nameof(filters));
        }

        if (!byType.TryGetValue("LOT_SIZE", out var lot))
        {
            throw new ArgumentException($"exchangeInfo for {symbol} has no LOT_SIZE", nameof(filters));
        }

        byType.TryGetValue("MARKET_LOT_SIZE", out var marketLot);
        byType.TryGetValue("MIN_NOTIONAL", out var minNotional);
        byType.TryGetValue("PERCENT_PRICE", out var percent);
        byType.TryGetValue("MAX_NUM_ORDERS", out var maxOrders);

        var tick = Required(symbol, price, "tickSize");
        var step = Required(symbol, lot, "stepSize");
        if (tick <= 0)
        {
            throw new ArgumentException($"{symbol} PRICE_FILTER.tickSize must be positive, got {tick}", nameof(filters));
        }

        if (step <= 0)
        {
            throw new ArgumentException($"{symbol} LOT_SIZE.stepSize must be positive, got {step}", nameof(filters));
        }

        return new SymbolRules
        {
            Symbol = symbol,
            TickSize = tick,
            MinPrice = Optional(symbol, price, "minPrice"),
            MaxPrice = Optional(symbol, price, "maxPrice"),
            StepSize = step,
            MinQty = Optional(symbol, lot, "minQty"),
            MaxQty = Optional(symbol, lot, "maxQty"),
            MarketStepSize = Optional(symbol, marketLot, "stepSize"),
            MarketMinQty = Optional(symbol, marketLot, "minQty"),
            MarketMaxQty = Optional(symbol, marketLot, "maxQty"),
            // Futures spell it "notional"; spot's MIN_NOTIONAL uses "minNotional".
            MinNotional = Optional(symbol, minNotional, "notional", "minNotional"),
            PercentPriceMultiplierUp = Optional(symbol, percent, "multiplierUp"),
            PercentPriceMultiplierDown = Optional(symbol, percent, "multiplierDown"),
            MaxOpenOrders = (int)Optional(symbol, maxOrders, "limit"),
            PricePrecision = pricePrecision,
            QuantityPrecision = quantityPrecision,
        };
    }

    /// <summary>
    /// Rounds a price onto the tick grid towards the passive side: down for a buy (bid), up for a sell (ask), so a
    /// rounded post-only order never becomes more aggressive than asked.
    /// </summary>
    public decimal RoundPricePassive(decimal price, Side side) =>
        side == Side.Buy ? FloorToGrid(price, MinPrice, TickSize) : CeilingToGrid(price, MinPrice, TickSize);

    /// <summary>Rounds a price onto the tick grid towards the aggressive side (up for a buy, down for a sell).</summary>
    public decimal RoundPriceAggressive(decimal price, Side side) =>
        side == Side.Buy ? CeilingToGrid(price, MinPrice, TickSize) : FloorToGrid(price, MinPrice, TickSize);

    /// <summary>Rounds a limit-order quantity down to the step size (never up: rounding must not overfill).</summary>
    public decimal FloorQuantity(decimal quantity) => quantity <= 0 ? 0m : FloorToGrid(quantity, 0m, StepSize);

    /// <summary>Rounds a market-order quantity down to the market step size.</summary>
    public decimal FloorMarketQuantity(decimal quantity) =>
        quantity <= 0 ? 0m : FloorToGrid(quantity, 0m, MarketStepSize > 0 ? MarketStepSize : StepSize);

    /// <summary>
    /// The largest quantity on the step grid whose notional at <paramref name="price"/> does not exceed
    /// <paramref name="notional"/>: <c>FloorQuantity(notional / price)</c>, to the last bit of the result.
    /// </summary>
    /// <remarks>
    /// A notional order sizes its child with this on every re-price, so it is computed on integers where that gives
    /// the decimal result exactly (<see cref="TryStepsForNotional"/>), and with decimal's two divisions otherwise.
    /// </remarks>
    public decimal QuantityForNotional(decimal notional, decimal price)
    {
        if (TryQuantityForNotional(notional, price, out var quantity))
        {
            return quantity;
        }

        if (price <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(price), price, "price must be positive");
        }

        return notional <= 0 ? 0m : FloorQuantity(notional / price);
    }

    /// <summary>
    /// <see cref="QuantityForNotional"/> where integers give it exactly (a positive notional and price); false leaves it
    /// to the caller's decimal arithmetic.
    /// </summary>
    internal bool TryQuantityForNotional(decimal notional, decimal price, out decimal quantity) =>
        TryStepsForNotional(notional, price, StepSize, out quantity);

    /// <summary>Whether a new limit order of this size can be posted at this price (min qty, max qty, min notional).</summary>
    public bool CanPost(decimal price, decimal quantity, bool reduceOnly) =>
        Check(price, quantity, reduceOnly).IsValid;

    /// <summary>Checks a limit order against every filter that does not need the mark price.</summary>
    public OrderCheck Check(decimal price, decimal quantity, bool reduceOnly) =>
        Check(Side.Buy, price, quantity, reduceOnly, markPrice: null);

    /// <summary>Checks a limit order against every filter; the percent-price band is checked when a mark price is given.</summary>
    public OrderCheck Check(Side side, decimal price, decimal quantity, bool reduceOnly, decimal? markPrice)
    {
        var priceCheck = CheckPrice(side, price, markPrice);
        if (!priceCheck.IsValid)
        {
            return priceCheck;
        }

        var quantityCheck = CheckQuantity(quantity, StepSize, MinQty, MaxQty, "LOT_SIZE");
        if (!quantityCheck.IsValid)
        {
            return quantityCheck;
        }

        if (!reduceOnly && MinNotional > 0 && price * quantity < MinNotional)
        {
            return Fail(
                OrderCheckFailure.NotionalBelowMin,
                $"MIN_NOTIONAL: notional {Format(price * quantity)} (price {Format(price)} × quantity {Format(quantity)}) is below the minimum {Format(MinNotional)}");
        }

        return OrderCheck.Valid;
    }

    /// <summary>Checks a market order's quantity against MARKET_LOT_SIZE and, at the reference price, MIN_NOTIONAL.</summary>
    public OrderCheck CheckMarket(decimal quantity, decimal referencePrice, bool reduceOnly)
    {
        var step = MarketStepSize > 0 ? MarketStepSize : StepSize;
        var min = MarketMinQty > 0 ? MarketMinQty : MinQty;
        var max = MarketMaxQty > 0 ? MarketMaxQty : MaxQty;
        var quantityCheck = CheckQuantity(quantity, step, min, max, "MARKET_LOT_SIZE");
        if (!quantityCheck.IsValid)
        {
            return quantityCheck;
        }

        if (!reduceOnly && MinNotional > 0 && referencePrice * quantity < MinNotional)
        {
            return Fail(
                OrderCheckFailure.NotionalBelowMin,
                $"MIN_NOTIONAL: notional {Format(referencePrice * quantity)} at reference price {Format(referencePrice)} is below the minimum {Format(MinNotional)}");
        }

        return OrderCheck.Valid;
    }

    private OrderCheck CheckPrice(Side side, decimal price, decimal? markPrice)
    {
        if (price <= 0)
        {
            return Fail(OrderCheckFailure.PriceNotPositive, $"PRICE_FILTER: price {Format(price)} must be greater than zero");
        }

        if (MinPrice > 0 && price < MinPrice)
        {
            return Fail(OrderCheckFailure.PriceBelowMin, $"PRICE_FILTER: price {Format(price)} is below minPrice {Format(MinPrice)}");
        }

        if (MaxPrice > 0 && price > MaxPrice)
        {
            return Fail(OrderCheckFailure.PriceAboveMax, $"PRICE_FILTER: price {Format(price)} is above maxPrice {Format(MaxPrice)}");
        }

        if ((price - MinPrice) % TickSize != 0)
        {
            return Fail(
                OrderCheckFailure.PriceNotOnTick,
                $"PRICE_FILTER: price {Format(price)} is not on the tick grid (tickSize {Format(TickSize)} from minPrice {Format(MinPrice)})");
        }

        if (markPrice is { } mark and > 0)
        {
            if (side == Side.Buy && PercentPriceMultiplierUp > 0 && price > mark * PercentPriceMultiplierUp)
            {
                return Fail(
                    OrderCheckFailure.PriceAbovePercentBand,
                    $"PERCENT_PRICE: buy price {Format(price)} is above mark {Format(mark)} × multiplierUp {Format(PercentPriceMultiplierUp)}");
            }

            if (side == Side.Sell && PercentPriceMultiplierDown > 0 && price < mark * PercentPriceMultiplierDown)
            {
                return Fail(
                    OrderCheckFailure.PriceBelowPercentBand,
                    $"PERCENT_PRICE: sell price {Format(price)} is below mark {Format(mark)} × multiplierDown {Format(PercentPriceMultiplierDown)}");
            }
        }

        return OrderCheck.Valid;
    }

    private static OrderCheck CheckQuantity(decimal quantity, decimal step, decimal min, decimal max, string filter)
    {
        if (quantity <= 0)
        {
            return Fail(OrderCheckFailure.QuantityNotPositive, $"{filter}: quantity {Format(quantity)} must be greater than zero");
        }

        if (min > 0 && quantity < min)
        {
            return Fail(OrderCheckFailure.QuantityBelowMin, $"{filter}: quantity {Format(quantity)} is below minQty {Format(min)}");
        }

        if (max > 0 && quantity > max)
        {
            return Fail(OrderCheckFailure.QuantityAboveMax, $"{filter}: quantity {Format(quantity)} is above maxQty {Format(max)}");
        }

        if (quantity % step != 0)
        {
            return Fail(OrderCheckFailure.QuantityNotOnStep, $"{filter}: quantity {Format(quantity)} is not a multiple of stepSize {Format(step)}");
        }

        return OrderCheck.Valid;
    }

    private static OrderCheck Fail(OrderCheckFailure failure, string reason) => new(failure, reason);

    /// <summary>
    /// <c>0 + Floor((notional / price) / step) × step</c> as decimal computes it (positive notional and price), from the
    /// exact quotient on integers: notional, price and step are integers over powers of ten, so the whole number of
    /// steps is <c>k = ⌊n·10^(b+c) / (p·s·10^a)⌋</c>. Decimal's two divisions each round to the nearest of 28–29
    /// significant digits (at most 1.3·10⁻²⁸ of the value, or 10⁻²⁸ at scale 28) and k and k + 1 steps are exact
    /// decimals at the step's scale, so the roundings can only change k when the exact quotient lies within a few
    /// such errors of k + 1: that case, k = 0 (where decimal's zero keeps or loses the step's scale), and any
    /// operand or scaled product past 64 bits are left to decimal (false). The result is k·s at the step's scale, as decimal's product is.
    /// </summary>
    internal static bool TryStepsForNotional(decimal notional, decimal price, decimal step, out decimal quantity)
    {
        quantity = 0m;
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(notional, bits);
        var n = ((ulong)(uint)bits[1] << 32) | (uint)bits[0];
        var a = (bits[3] >> 16) & 0xFF;
        var unusual = bits[2] != 0 || bits[3] < 0 || n == 0;
        decimal.GetBits(price, bits);
        var p = ((ulong)(uint)bits[1] << 32) | (uint)bits[0];
        var b = (bits[3] >> 16) & 0xFF;
        unusual |= bits[2] != 0 || bits[3] < 0 || p == 0;
        decimal.GetBits(step, bits);
        var s = ((ulong)(uint)bits[1] << 32) | (uint)bits[0];
        var c = (bits[3] >> 16) & 0xFF;
        unusual |= bits[2] != 0 || bits[3] < 0 || s == 0;

        // Only positive values within 64 bits (signs and zeros read from the bits, not by decimal comparisons).
        if (unusual)
        {
            return false;
        }

        // X = num / den exactly, both within 64 bits (every order's notional, price and step at their scales; past that,
        // decimal decides).
        var exponent = b + c - a;
        if (exponent > 19 || -exponent > 19 || Math.BigMul(p, s, out var den) != 0)
        {
            return false;
        }

        var num = n;
        if ((exponent >= 0 && Math.BigMul(n, PowersOfTen[exponent], out num) != 0)
            || (exponent < 0 && Math.BigMul(den, PowersOfTen[-exponent], out den) != 0))
        {
            return false;
        }

        var steps = num / den;
        var shortfall = den - (num - (steps * den));
        if (steps == 0 || steps >= ulong.MaxValue / s)
        {
            return false;
        }

        // How far below k + 1 the exact quotient is, against the roundings' worst: the first division's error over the
        // step, and the second's (each under 10⁻²⁷ × (1 + value), taken 10⁷ times wider).
        var gap = (double)shortfall / den;
        var stepsPerUnit = c < PowersOfTen.Length ? PowersOfTen[c] / (double)s : double.MaxValue;
        if (gap <= 1e-20 * (stepsPerUnit + steps + 2))
        {
            return false;
        }

        var units = steps * s;
        quantity = new decimal((int)units, (int)(units >> 32), 0, false, (byte)c);
        return true;
    }

    private static readonly ulong[] PowersOfTen =
    [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000,
        100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
        10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000, 10_000_000_000_000_000_000,
    ];

    private static decimal FloorToGrid(decimal value, decimal origin, decimal step) =>
        origin + (decimal.Floor((value - origin) / step) * step);

    private static decimal CeilingToGrid(decimal value, decimal origin, decimal step) =>
        origin + (decimal.Ceiling((value - origin) / step) * step);

    private static string Format(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static decimal Required(string symbol, ExchangeFilter filter, string field)
    {
        if (!filter.Values.TryGetValue(field, out var text))
        {
            throw new ArgumentException($"exchangeInfo for {symbol}: {filter.FilterType} has no field '{field}'", nameof(filter));
        }

        return Parse(symbol, filter, field, text);
    }

    private static decimal Optional(string symbol, ExchangeFilter? filter, params string[] fields)
    {
        if (filter is null)
        {
            return 0m;
        }

        foreach (var field in fields)
        {
            if (filter.Values.TryGetValue(field, out var text))
            {
                return Parse(symbol, filter, field, text);
            }
        }

        return 0m;
    }

    private static decimal Parse(string symbol, ExchangeFilter filter, string field, string text)
    {
        if (!DecimalText.TryParse(text, out var value, out var reason))
        {
            throw new FormatException($"exchangeInfo for {symbol}: {filter.FilterType}.{field} '{text}' {reason}");
        }

        return value;
    }
}
