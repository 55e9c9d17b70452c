using System.Diagnostics;
using System.Globalization;
using System.Text;
using Chaser.Binance;

namespace Chaser.Benchmarks;

/// <summary>
/// The hot-path rows' ratios to the floor, measured so that a loaded machine moves the floor and the row alike: the
/// rows run in short alternating rounds (each round a few thousand iterations of one row), and each row's figure is
/// the median over its rounds, its ratio the median of its round's time over the floor round next to it. Also the
/// UTF-8 → decimal parse, one pass against the general parser it replaced, on the same four values a bookTicker carries.
/// </summary>
internal static class InterleavedRatios
{
    private const int PerRound = 5_000;

    // What a bookTicker carries: bid, bid quantity, ask, ask quantity.
    private static readonly byte[][] BookValues = [.. new[] { "65000.10", "2.431", "65000.20", "0.105" }.Select(Encoding.ASCII.GetBytes)];

    public static string Run(int rounds)
    {
        using var bench = new HotPathBenchmarks();
        bench.Setup();
        (string Name, Func<int> Once)[] rows =
        [
            ("(floor) write + tokenise the frame", bench.TokeniseFrame),
            ("parse bookTicker frame", () => (int)bench.ParseFrame().BidQty),
            ("one chaser decision (re-price)", () => (int)bench.Decide()),
            ("build + sign order request", bench.BuildAndSign),
            ("frame → decision → signed request", bench.FrameToRequest),
            ("frame → decision → WS API frame → socket", bench.FrameToSocket),
            ("WS API frame, logged on (unsigned)", bench.FrameLoggedOn),
            ("frame → decision → WS API frame (logged on, unsigned) → socket", bench.FrameToSocketLoggedOn),
            ("4 decimals, one pass (DecimalWire.TryParse)", () => ParseAll(BookValues, onePass: true)),
            ("4 decimals, general (Utf8Parser)", () => ParseAll(BookValues, onePass: false)),
        ];

        var times = rows.Select(_ => new List<double>()).ToArray();
        var ratios = rows.Select(_ => new List<double>()).ToArray();
        for (var round = -2; round < rounds; round++)
        {
            var floor = Time(rows[0].Once);
            for (var r = 0; r < rows.Length; r++)
            {
                var ns = r == 0 ? floor : Time(rows[r].Once);
                if (round >= 0)
                {
                    times[r].Add(ns);
                    ratios[r].Add(ns / floor);
                }
            }
        }

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{rounds} rounds of {PerRound:N0} iterations per row, rows alternating; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
        text.AppendLine("| row | median ns | ratio to floor (median) |");
        text.AppendLine("|---|---:|---:|");
        for (var r = 0; r < rows.Length; r++)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {rows[r].Name} | {Median(times[r]):N0} | {Median(ratios[r]):0.00}× |");
        }

        return text.ToString();
    }

    private static int ParseAll(byte[][] values, bool onePass)
    {
        var sum = 0m;
        foreach (var value in values)
        {
            _ = onePass ? DecimalWire.TryParse(value, out var parsed) : DecimalWire.TryParseAny(value, out parsed);
            sum += parsed;
        }

        return (int)sum;
    }

    private static double Time(Func<int> once)
    {
        var sink = 0;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < PerRound; i++)
        {
            sink += once();
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        GC.KeepAlive(sink);
        return elapsed.TotalNanoseconds / PerRound;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
