using BenchmarkDotNet.Running;
using Chaser.Benchmarks;

if (args is ["--self-check"])
{
    // A quick proof that the benchmarks measure real decisions (used by bench/README.md).
    Console.WriteLine(HotPathBenchmarks.SelfCheck(100_000));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(HotPathBenchmarks).Assembly).Run(args);
