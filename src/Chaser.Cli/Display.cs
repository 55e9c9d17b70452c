using System.Globalization;
using Chaser.Core.Domain;

namespace Chaser.Cli;

/// <summary>
/// The one vocabulary of what the CLI prints for a person: sides as buy/sell, a missing figure as "-", fees to 4
/// decimals, times in UTC with milliseconds. (JSON keeps ±1 sides, null and full precision: it is for programs.)
/// </summary>
internal static class Display
{
    /// <summary>A figure that can't be computed from what was recorded (no fill, no book): never shown as 0.</summary>
    public const string Missing = "-";

    /// <summary>Tables and lines: <c>2026-12-01 13:25:10.123Z</c>, the same everywhere.</summary>
    public const string TimeFormat = "yyyy-MM-dd HH:mm:ss.fff'Z'";

    /// <summary>JSON times: RFC 3339 with the 'T' every parser takes, otherwise as the tables show them.</summary>
    public const string JsonTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string Side(Side side) => side == Core.Domain.Side.Buy ? "buy" : "sell";

    public static string Time(DateTimeOffset time) => time.ToUniversalTime().ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static string Time(DateTime? time) => time is { } t ? Time(new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc))) : Missing;

    public static string JsonTime(DateTimeOffset time) => time.ToUniversalTime().ToString(JsonTimeFormat, CultureInfo.InvariantCulture);

    /// <summary>Sizes and prices at full precision (up to the 8 decimals Binance uses), thousands separated.</summary>
    public static string Number(decimal? value) => value?.ToString("#,0.########", CultureInfo.InvariantCulture) ?? Missing;

    /// <summary>
    /// Fees to 4 decimals: a tenth of a cent of USDT is below anything a trader reconciles, yet the smallest fee Binance
    /// charges (a 5 USDT minimum order at the 0.02 % maker rate: 0.001) and a rebate still show. The fills keep the
    /// exchange's 8 decimals in the database and the JSON.
    /// </summary>
    public static string Fee(decimal? value) => value?.ToString("#,0.0000", CultureInfo.InvariantCulture) ?? Missing;

    public static string Bps(decimal? value) => value?.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) ?? Missing;

    public static string Ratio(decimal? value) => value?.ToString("0.00", CultureInfo.InvariantCulture) ?? Missing;

    public static string Percent(decimal? value) => value is { } v ? (v * 100m).ToString("0.#", CultureInfo.InvariantCulture) + "%" : Missing;

    public static string Seconds(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) + " s" : Missing;

    public static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

}
