namespace Chaser.Core.Rules;

/// <summary>
/// One entry of a symbol's <c>filters</c> array in Binance's exchangeInfo, as its raw string fields
/// (e.g. <c>PRICE_FILTER</c> with <c>minPrice</c>, <c>maxPrice</c>, <c>tickSize</c>). The adapter maps JSON into this;
/// <see cref="SymbolRules.FromFilters"/> turns a set of them into rules.
/// </summary>
public sealed record ExchangeFilter(string FilterType, IReadOnlyDictionary<string, string> Values);
