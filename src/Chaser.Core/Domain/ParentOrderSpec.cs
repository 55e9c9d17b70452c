namespace Chaser.Core.Domain;

/// <summary>How the parent order's size is expressed: the seed's <c>size_type</c> ("n" notional, "q" quantity).</summary>
public enum SizeType
{
    /// <summary>Size in quote currency (USDT): "buy 15,000 USDT of BTCUSDT".</summary>
    Notional,

    /// <summary>Size in base quantity: "buy 0.5 ETH".</summary>
    Quantity,
}

/// <summary>What to do when the deadline passes with the target not reached.</summary>
public enum DeadlineAction
{
    /// <summary>Cancel the resting child and finish as expired (the default).</summary>
    CancelAndExpire,

    /// <summary>Cancel the resting child, then take the remainder with a marketable (taker) order. Only when asked.</summary>
    TakeRemainder,
}

/// <summary>The parent order as the chaser works it. Validated on construction: bad input never reaches a machine.</summary>
public sealed record ParentOrderSpec
{
    public ParentOrderSpec(long id, string symbol, Side side, SizeType sizeType, decimal size)
    {
        if (id <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, "id must be positive");
        }

        if (string.IsNullOrWhiteSpace(symbol))
        {
            throw new ArgumentException("symbol must not be empty", nameof(symbol));
        }

        if (side is not (Side.Buy or Side.Sell))
        {
            throw new ArgumentOutOfRangeException(nameof(side), side, "side must be Buy (+1) or Sell (-1)");
        }

        if (size <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "size must be greater than zero");
        }

        Id = id;
        Symbol = symbol;
        Side = side;
        SizeType = sizeType;
        Size = size;
    }

    public long Id { get; }

    public string Symbol { get; }

    public Side Side { get; }

    public SizeType SizeType { get; }

    /// <summary>Target size: quote notional or base quantity, per <see cref="SizeType"/>.</summary>
    public decimal Size { get; }

    public bool ReduceOnly { get; init; }

    /// <summary>When set, the order stops at this time (see <see cref="OnDeadline"/>).</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>
    /// When set, the order stops this long after it starts working (see <see cref="OnDeadline"/>): a limit that counts
    /// from the start, not from when the order was created or while it waited in a queue. With a <see cref="Deadline"/>
    /// too, the earlier of the two applies.
    /// </summary>
    public TimeSpan? TimeLimit
    {
        get => _timeLimit;
        init
        {
            if (value is { } limit && limit <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(TimeLimit), limit, "time limit must be positive");
            }

            _timeLimit = value;
        }
    }

    /// <summary>The deadline of an order that starts working at <paramref name="start"/>: the earlier of the two limits.</summary>
    public DateTimeOffset? DeadlineFrom(DateTimeOffset start) => (Deadline, TimeLimit) switch
    {
        (null, null) => null,
        ({ } at, null) => at,
        (null, { } limit) => start + limit,
        ({ } at, { } limit) => at < start + limit ? at : start + limit,
    };

    public DeadlineAction OnDeadline { get; init; } = DeadlineAction.CancelAndExpire;

    /// <summary>A tag of at most 64 characters that groups orders in the report (the seed's <c>strategy</c>).</summary>
    public string Strategy
    {
        get => _strategy;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length > MaxStrategyLength)
            {
                throw new ArgumentException($"strategy must be at most {MaxStrategyLength} characters, got {value.Length}", nameof(Strategy));
            }

            _strategy = value;
        }
    }

    public const int MaxStrategyLength = 64;

    /// <summary>The trader's benchmark price for slippage (the seed's <c>price_expected</c>); 0 for none.</summary>
    public decimal PriceExpected
    {
        get => _priceExpected;
        init
        {
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(PriceExpected), value, "price_expected must be zero or more");
            }

            _priceExpected = value;
        }
    }

    /// <summary>
    /// This order's minimum time between two re-pricing requests, overriding the engine's
    /// <see cref="Chasing.ChaserOptions.MinRepriceInterval"/>; null keeps the engine's.
    /// </summary>
    public TimeSpan? MinRepriceInterval
    {
        get => _minRepriceInterval;
        init
        {
            if (value is { } interval && (interval < TimeSpan.Zero || interval > MaxMinRepriceInterval))
            {
                throw new ArgumentOutOfRangeException(nameof(MinRepriceInterval), interval, "min_reprice_interval must be from 0 to 10 minutes");
            }

            _minRepriceInterval = value;
        }
    }

    /// <summary>The longest <see cref="MinRepriceInterval"/> an order may ask for, in milliseconds (the stored column's bound too).</summary>
    public const long MaxMinRepriceIntervalMs = 600_000;

    /// <summary>The longest <see cref="MinRepriceInterval"/> an order may ask for: 10 minutes.</summary>
    public static readonly TimeSpan MaxMinRepriceInterval = TimeSpan.FromMilliseconds(MaxMinRepriceIntervalMs);

    private readonly TimeSpan? _timeLimit;
    private readonly string _strategy = "";
    private readonly decimal _priceExpected;
    private readonly TimeSpan? _minRepriceInterval;
}
