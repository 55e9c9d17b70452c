using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Chaser.Benchmarks;

/// <summary>
/// What the frame → decision → logged-on WS API frame → socket path costs when it did not run just before, as a live
/// engine meets it (a chaser sends a few requests a second): each sample is one pass, timed alone, after a pause of its
/// own kind (none, a sleep, a busy spin, a walk over more memory than the caches hold), and once more with another
/// thread rehearsing the same path every millisecond meanwhile (what <c>PathWarmer</c> does in the engine).
/// BenchmarkDotNet's rows run the path back to back, so they measure the warm case only.
/// </summary>
internal static class ColdPath
{
    private const int Samples = 300;

    public static string Run()
    {
        using var bench = new HotPathBenchmarks();
        bench.Setup();
        using var rehearsal = new HotPathBenchmarks();
        rehearsal.Setup();
        // Tiered up first, so that what is measured is the caches, not the JIT.
        for (var i = 0; i < 200_000; i++)
        {
            bench.FrameToSocketLoggedOn();
            rehearsal.FrameToSocketLoggedOn();
        }

        var memory = new byte[64 << 20];
        var rehearsing = 0;
        var rehearser = new Thread(() =>
        {
            while (true)
            {
                if (Volatile.Read(ref rehearsing) == 1)
                {
                    rehearsal.FrameToSocketLoggedOn();
                }

                Thread.Sleep(1);
            }
        })
        { IsBackground = true };
        rehearser.Start();

        (string Name, Action Pause, bool Rehearsed)[] cases =
        [
            ("back to back", () => { }, false),
            ("after 1 ms asleep", () => Thread.Sleep(1), false),
            ("after 10 ms asleep", () => Thread.Sleep(10), false),
            ("after 100 ms asleep", () => Thread.Sleep(100), false),
            ("after 10 ms spinning", () => Spin(TimeSpan.FromMilliseconds(10)), false),
            ("after a 64 MB walk", () => Walk(memory), false),
            ("after 10 ms asleep, rehearsed every 1 ms", () => Thread.Sleep(10), true),
            ("after 100 ms asleep, rehearsed every 1 ms", () => Thread.Sleep(100), true),
        ];

        var report = new StringBuilder().Append(CultureInfo.InvariantCulture, $"frame → decision → logged-on frame → socket, one pass timed alone ({Samples} samples each):\n");
        foreach (var (name, pause, rehearsed) in cases)
        {
            Volatile.Write(ref rehearsing, rehearsed ? 1 : 0);
            var samples = new double[Samples];
            for (var i = 0; i < Samples; i++)
            {
                pause();
                var started = Stopwatch.GetTimestamp();
                bench.FrameToSocketLoggedOn();
                samples[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }

            Array.Sort(samples);
            report.Append(CultureInfo.InvariantCulture, $"  {name,-42} p50 {At(samples, 0.50),6:0.0} µs  p90 {At(samples, 0.90),6:0.0}  p99 {At(samples, 0.99),6:0.0}  max {samples[^1],7:0.0}\n");
        }

        return report.ToString();
    }

    private static double At(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static void Spin(TimeSpan length)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < length)
        {
        }
    }

    private static void Walk(byte[] memory)
    {
        for (var i = 0; i < memory.Length; i += 64)
        {
            memory[i]++;
        }
    }
}
