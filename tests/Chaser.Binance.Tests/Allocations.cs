namespace Chaser.Binance.Tests;

/// <summary>
/// Measures managed allocations of a piece of code on the current thread. The JIT (tier-up, on-stack replacement) can
/// allocate once on the thread that runs a hot loop, so the code is warmed up and the smallest of several runs is
/// returned: code that allocates per call allocates in every run and still shows.
/// </summary>
internal static class Allocations
{
    public static long Minimum(Action run, int attempts = 5)
    {
        for (var i = 0; i < 3; i++)
        {
            run();
        }

        var minimum = long.MaxValue;
        for (var i = 0; i < attempts; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            run();
            minimum = Math.Min(minimum, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return minimum;
    }
}
