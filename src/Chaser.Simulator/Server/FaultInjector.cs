namespace Chaser.Simulator.Server;

/// <summary>Seeded coin flips for fault injection: the same seed and the same sequence of calls give the same faults.</summary>
internal sealed class FaultInjector(FaultOptions options)
{
    private readonly Lock gate = new();
    private readonly Random random = new(options.Seed);
    private (string Method, string Path, int Count, TimeSpan Delay) hold;

    public FaultOptions Options => options;

    public bool Roll(double probability)
    {
        if (probability <= 0)
        {
            return false;
        }

        lock (gate)
        {
            return random.NextDouble() < probability;
        }
    }

    /// <summary>Holds the next <paramref name="count"/> requests to one endpoint for <paramref name="delay"/> before handling them.</summary>
    public void HoldNext(string method, string path, int count, TimeSpan delay)
    {
        lock (gate)
        {
            hold = (method, path, count, delay);
        }
    }

    /// <summary>Whether this request is one to hold, and for how long.</summary>
    public bool TryTakeHold(string method, string path, out TimeSpan delay)
    {
        lock (gate)
        {
            delay = hold.Delay;
            if (hold.Count <= 0 || !string.Equals(hold.Method, method, StringComparison.OrdinalIgnoreCase) || !string.Equals(hold.Path, path, StringComparison.Ordinal))
            {
                return false;
            }

            hold.Count--;
            return true;
        }
    }
}
