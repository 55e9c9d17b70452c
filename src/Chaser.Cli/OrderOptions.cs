using System.CommandLine;
using Chaser.Core.Chasing;
using Chaser.Core.Domain;

namespace Chaser.Cli;

/// <summary>
/// The parent order's options, shared by <c>execute</c> and <c>backtest</c>: one definition, one reading. Without
/// <paramref name="strategyTag"/> the command gives <c>--strategy</c> its own meaning (backtest: the algorithm) and the
/// spec's tag is left to it.
/// </summary>
internal sealed class OrderOptions(string deadlineDescription, bool strategyTag = true)
{
    public Option<string?> Symbol { get; } = CliOption.Text("--symbol", "SYMBOL", "the Binance symbol, e.g. BTCUSDT", required: true);

    public Option<Side> Side { get; } = CliOption.Choice(
        "--side", "buy or sell (also 1 / -1, as the seed's side)", [Core.Domain.Side.Buy, Core.Domain.Side.Sell], ignoreCase: true,
        aliases: [("1", Core.Domain.Side.Buy), ("+1", Core.Domain.Side.Buy), ("-1", Core.Domain.Side.Sell)], required: true);

    public Option<decimal?> Notional { get; } = CliOption.Decimal("--notional", "USDT", "the size in quote currency, e.g. 15000 (this or --quantity)");

    public Option<decimal?> Quantity { get; } = CliOption.Decimal("--quantity", "QTY", "the size in base quantity, e.g. 0.2 (this or --notional)");

    public Option<int?> Id { get; } = CliOption.Whole("--id", "N", 1, int.MaxValue, "the parent order's id (execute: a stored new order, claimed so that it runs once)");

    public Option<TimeSpan?> Deadline { get; } = CliOption.Duration("--deadline", deadlineDescription);

    public Option<bool> TakeRemainder { get; } = CliOption.Flag(
        "--take-remainder", "at the deadline, take what is left with a taker (market) order instead of expiring; needs --deadline");

    public Option<string?> Strategy { get; } = CliOption.Text(
        "--strategy", "TAG", $"a tag (at most {ParentOrderSpec.MaxStrategyLength} characters) that groups orders in the report");

    public Option<decimal?> PriceExpected { get; } = CliOption.Decimal(
        "--price-expected", "PRICE", "your benchmark price: the report states slippage against it too (default: none)");

    public Option<TimeSpan?> MinRepriceInterval { get; } = CliOption.Duration(
        "--min-reprice-interval", ParentOrderSpec.MaxMinRepriceInterval, "10m",
        $"the least time between two re-pricings of the resting order, 0 to 10m (default: the chaser's {new ChaserOptions().MinRepriceInterval.TotalMilliseconds:0}ms)");

    public Option<bool> ReduceOnly { get; } = CliOption.Flag("--reduce-only", "only reduce an open position (Binance's reduceOnly)");

    /// <summary>The order's options in the order the help lists them, the deadline's group after the size.</summary>
    public IEnumerable<Option> All => strategyTag
        ? [Symbol, Side, Notional, Quantity, Deadline, TakeRemainder, Strategy, PriceExpected, MinRepriceInterval, ReduceOnly, Id]
        : [Symbol, Side, Notional, Quantity, Deadline, TakeRemainder, PriceExpected, MinRepriceInterval, ReduceOnly, Id];

    /// <summary>The parent order from the options; every problem names its option.</summary>
    public ParentOrderSpec SpecFrom(ParseResult args, long defaultId)
    {
        var given = args.GetValue(Symbol)!;
        var symbol = given.Trim().ToUpperInvariant();
        if (symbol.Length is < 2 or > 20 || !symbol.All(char.IsAsciiLetterOrDigit))
        {
            throw new UsageException($"option '--symbol' must be a Binance symbol like BTCUSDT, got '{given}'");
        }

        var (sizeType, size, option) = (args.GetValue(Notional), args.GetValue(Quantity)) switch
        {
            (not null, not null) => throw new UsageException("options '--notional' and '--quantity' exclude each other: give one"),
            (null, null) => throw new UsageException("option '--notional' or '--quantity' is required"),
            ({ } n, null) => (SizeType.Notional, n, "--notional"),
            (null, { } q) => (SizeType.Quantity, q, "--quantity"),
        };
        if (size <= 0)
        {
            throw new UsageException($"option '{option}' must be greater than zero, got {size}");
        }

        var deadline = args.GetValue(Deadline);
        var takeRemainder = args.GetValue(TakeRemainder);
        if (takeRemainder && deadline is null)
        {
            throw new UsageException("option '--take-remainder' needs '--deadline': it says what happens when the deadline passes");
        }

        var strategy = strategyTag ? args.GetValue(Strategy) ?? "" : "";
        if (strategy.Length > ParentOrderSpec.MaxStrategyLength)
        {
            throw new UsageException($"option '--strategy' must be at most {ParentOrderSpec.MaxStrategyLength} characters, got {strategy.Length}");
        }

        // The tag is printed by every report and stored as text: a control character would reach each terminal that shows it.
        if (strategy.Any(char.IsControl) || !IsWellFormed(strategy))
        {
            throw new UsageException("option '--strategy' must be text without control characters or broken Unicode");
        }

        var priceExpected = args.GetValue(PriceExpected) ?? 0m;
        if (priceExpected < 0)
        {
            throw new UsageException($"option '--price-expected' must be zero (none) or more, got {priceExpected}");
        }

        return new ParentOrderSpec(args.GetValue(Id) ?? defaultId, symbol, args.GetValue(Side), sizeType, size)
        {
            ReduceOnly = args.GetValue(ReduceOnly),
            TimeLimit = deadline,
            OnDeadline = takeRemainder ? DeadlineAction.TakeRemainder : DeadlineAction.CancelAndExpire,
            Strategy = strategy,
            PriceExpected = priceExpected,
            MinRepriceInterval = args.GetValue(MinRepriceInterval),
        };
    }

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}
