using BenchmarkDotNet.Running;
using Chaser.Benchmarks;

if (args is ["--self-check"])
{
    // A quick proof that the benchmarks measure real decisions (used by bench/README.md).
    Console.WriteLine(HotPathBenchmarks.SelfCheck(100_000));
    return;
}

if (args is ["--cold"])
{
    // The hot path met cold, as a live engine meets it between requests, with and without rehearsals (bench/README.md).
    Console.WriteLine(ColdPath.Run());
    return;
}

if (args is ["--ratios"])
{
    // Each hot-path row against the floor in alternating rounds, so a loaded machine weighs on both alike (bench/README.md).
    Console.WriteLine(InterleavedRatios.Run(rounds: 41));
    return;
}

if (args is ["--spin"])
{
    using var spin = new HotPathBenchmarks();
    spin.Setup();
    var total = 0;
    for (var i = 0; i < 6_000_000; i++)
    {
        total += spin.FrameToSocketLoggedOn();
    }

    Console.WriteLine(total);
    return;
}

if (args is ["--pieces"])
{
    // Where the logged-on frame → socket path spends its time, piece by piece (a profile, bench/README.md).
    Console.WriteLine(HotPathPieces.Run(rounds: 41));
    Console.WriteLine(HotPathPieces.Alone(rounds: 41, HotPathBenchmarks.PiecesAlone()));
    return;
}

if (args is ["--stale-time", ..])
{
    // The exchange-side stale time against the simulator over loopback (used by bench/README.md).
    var seconds = 60;
    if (args.Length > 2 || (args.Length == 2 && (!int.TryParse(args[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out seconds) || seconds is < 2 or > 86_400)))
    {
        Console.Error.WriteLine("--stale-time takes one value, the run's length in whole seconds from 2 to 86400 (e.g. --stale-time 60)");
        Environment.Exit(2);
    }

    Console.WriteLine(await StaleTimeRun.RunAsync(TimeSpan.FromSeconds(seconds), seed: 1));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(HotPathBenchmarks).Assembly).Run(args);
