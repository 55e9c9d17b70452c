namespace Chaser.Simulator.Server;

/// <summary>Seeded coin flips for fault injection: the same seed and the same sequence of calls give the same faults.</summary>
internal sealed class FaultInjector(FaultOptions options)
{
    private readonly Lock gate = new();
    private readonly Random random = new(options.Seed);

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
}
