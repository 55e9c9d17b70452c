using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Chaser.Benchmarks;

/// <summary>
/// Where the logged-on frame → socket path spends its time, piece by piece: each piece of the same loop timed with
/// <see cref="Stopwatch.GetTimestamp"/> around it (the cost of an empty pair subtracted), medians over rounds.
/// A profile to tell which piece to cut, not a benchmark figure (the timestamps disturb what they time).
/// </summary>
internal static class HotPathPieces
{
    private const int PerRound = 5_000;

    private static readonly string[] Names =
    [
        "write the frame (harness)", "tokenise (floor's work)", "parse frame (production Parse)", "BookTop",
        "OnBookTop (decision)", "WS API frame, logged on", "socket copy + pool", "OnAccepted (acknowledge)",
    ];

    public static string Run(int rounds)
    {
        using var bench = new HotPathBenchmarks();
        bench.Setup();
        var pieces = Names.Select(_ => new List<double>()).ToArray();
        var sums = new long[Names.Length];
        var empty = EmptyPair();
        for (var round = -2; round < rounds; round++)
        {
            Array.Clear(sums);
            for (var i = 0; i < PerRound; i++)
            {
                bench.TimedPieces(sums);
            }

            if (round >= 0)
            {
                for (var p = 0; p < Names.Length; p++)
                {
                    pieces[p].Add((sums[p] * (1e9 / Stopwatch.Frequency) / PerRound) - empty);
                }
            }
        }

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{rounds} rounds of {PerRound:N0}; an empty timestamp pair ({empty:0} ns) subtracted; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
        text.AppendLine("| piece | median ns |");
        text.AppendLine("|---|---:|");
        for (var p = 0; p < Names.Length; p++)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {Names[p]} | {Median(pieces[p]):N0} |");
        }

        return text.ToString();
    }

    /// <summary>Pieces timed alone, in loops of their own (rounds alternating): what each costs without the timestamps.</summary>
    public static string Alone(int rounds, (string Name, Func<int> Once)[] rows)
    {
        var times = rows.Select(_ => new List<double>()).ToArray();
        for (var round = -2; round < rounds; round++)
        {
            for (var r = 0; r < rows.Length; r++)
            {
                var sink = 0;
                var start = Stopwatch.GetTimestamp();
                for (var i = 0; i < PerRound; i++)
                {
                    sink += rows[r].Once();
                }

                var ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / PerRound;
                GC.KeepAlive(sink);
                if (round >= 0)
                {
                    times[r].Add(ns);
                }
            }
        }

        var text = new StringBuilder();
        text.AppendLine("| piece alone | median ns |");
        text.AppendLine("|---|---:|");
        for (var r = 0; r < rows.Length; r++)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {rows[r].Name} | {Median(times[r]):N0} |");
        }

        return text.ToString();
    }

    private static double EmptyPair()
    {
        var total = 0L;
        for (var i = 0; i < 100_000; i++)
        {
            var start = Stopwatch.GetTimestamp();
            total += Stopwatch.GetTimestamp() - start;
        }

        return total * (1e9 / Stopwatch.Frequency) / 100_000;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
